// Partial parsing, as dbt does it, kept in target/partial_parse.json: property files (.yml) parsed once are
// keyed by a hash of their text and of the parser, so a CLI start reads the cache instead of parsing thousands
// of lines of YAML with line positions on every command; seed files' hashes are keyed by their size and
// modification time, so a start does not read and hash the plan exports to give the seed node its checksum.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeArtifact } from '../artifacts/artifacts.ts';
import { redact } from '../db/redact.ts';
import { sha256 as sha } from '../hash.ts';
import { parseProperties, type PropertiesFile } from './properties.ts';

// A change to the parser (or to what it returns) must not be answered from an old cache.
const PARSER_VERSION = sha(readFileSync(new URL('./properties.ts', import.meta.url), 'utf8'));

const cacheShape = z.object({
  parser: z.string(),
  files: z.record(z.string(), z.object({ hash: z.string(), props: z.unknown() })),
  hashes: z.record(z.string(), z.object({ size: z.number(), mtimeMs: z.number(), hash: z.string() })).default({}),
});
type Cache = z.infer<typeof cacheShape>;

export class PartialParse {
  private readonly path: string;
  private readonly cache: Cache = { parser: PARSER_VERSION, files: {}, hashes: {} };
  private readonly seen = new Set<string>();
  private dirty = false;

  constructor(targetDir: string) {
    this.path = join(targetDir, 'partial_parse.json');
    try {
      const parsed = cacheShape.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (parsed.success && parsed.data.parser === PARSER_VERSION) this.cache = parsed.data;
    } catch {
      // No cache yet, or an unreadable one: parse everything.
    }
  }

  /** The properties of `relPath` (its text is `text`), from the cache when the text is unchanged. */
  properties(text: string, relPath: string): PropertiesFile {
    this.seen.add(relPath);
    const hash = sha(text);
    const hit = this.cache.files[relPath];
    if (hit?.hash === hash) return hit.props as PropertiesFile;
    const props = parseProperties(text, relPath);
    this.cache.files[relPath] = { hash, props };
    this.dirty = true;
    return props;
  }

  /** SHA-256 of the bytes of `relPath` (under `root`), from the cache while its size and mtime are unchanged. */
  fileHash(root: string, relPath: string): string {
    this.seen.add(relPath);
    const { size, mtimeMs } = statSync(join(root, relPath));
    const hit = this.cache.hashes[relPath];
    if (hit?.size === size && hit.mtimeMs === mtimeMs) return hit.hash;
    const hash = sha(readFileSync(join(root, relPath)));
    this.cache.hashes[relPath] = { size, mtimeMs, hash };
    this.dirty = true;
    return hash;
  }

  /** Writes the cache if it changed; files no longer in the project are dropped. Never fails the command. */
  save(): void {
    for (const entries of [this.cache.files, this.cache.hashes]) {
      for (const f of Object.keys(entries)) {
        if (!this.seen.has(f)) {
          delete entries[f];
          this.dirty = true;
        }
      }
    }
    if (!this.dirty) return;
    const content = JSON.stringify(this.cache);
    // A property file quoting a secret would be cached redacted, and so wrong: keep it out of the cache.
    if (redact(content) !== content) return;
    try {
      writeArtifact(this.path, content);
    } catch {
      // A read-only checkout still works, only without the cache.
    }
  }
}
