// Partial parsing, as dbt does it: property files (.yml) parsed once are kept in target/partial_parse.json
// keyed by a hash of their text and of the parser, so a CLI start reads the cache instead of parsing
// 3 000 lines of YAML with line positions (about a quarter of a second on every command).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeArtifact } from '../artifacts/artifacts.ts';
import { redact } from '../db/redact.ts';
import { sha256 as sha } from '../hash.ts';
import { parseProperties, type PropertiesFile } from './properties.ts';

// A change to the parser (or to what it returns) must not be answered from an old cache.
const PARSER_VERSION = sha(readFileSync(new URL('./properties.ts', import.meta.url), 'utf8'));

const cacheShape = z.object({ parser: z.string(), files: z.record(z.string(), z.object({ hash: z.string(), props: z.unknown() })) });

export class PropertiesCache {
  private readonly path: string;
  private readonly files: Record<string, { hash: string; props: unknown }> = {};
  private readonly seen = new Set<string>();
  private dirty = false;

  constructor(targetDir: string) {
    this.path = join(targetDir, 'partial_parse.json');
    try {
      const parsed = cacheShape.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (parsed.success && parsed.data.parser === PARSER_VERSION) this.files = parsed.data.files;
    } catch {
      // No cache yet, or an unreadable one: parse everything.
    }
  }

  /** The properties of `relPath` (its text is `text`), from the cache when the text is unchanged. */
  read(text: string, relPath: string): PropertiesFile {
    this.seen.add(relPath);
    const hash = sha(text);
    const hit = this.files[relPath];
    if (hit?.hash === hash) return hit.props as PropertiesFile;
    const props = parseProperties(text, relPath);
    this.files[relPath] = { hash, props };
    this.dirty = true;
    return props;
  }

  /** Writes the cache if it changed; files no longer in the project are dropped. Never fails the command. */
  save(): void {
    for (const f of Object.keys(this.files)) {
      if (!this.seen.has(f)) {
        delete this.files[f];
        this.dirty = true;
      }
    }
    if (!this.dirty) return;
    const content = JSON.stringify({ parser: PARSER_VERSION, files: this.files });
    // A property file quoting a secret would be cached redacted, and so wrong: keep it out of the cache.
    if (redact(content) !== content) return;
    try {
      writeArtifact(this.path, content);
    } catch {
      // A read-only checkout still works, only without the cache.
    }
  }
}
