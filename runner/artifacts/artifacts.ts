import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Target } from '../db/target.ts';
import { redact } from '../db/redact.ts';
import { UsageError } from '../errors.ts';
import type { Project } from '../project/load.ts';
import { Relation } from '../project/templating.ts';
import { buildManifest, type ManifestOptions } from './manifest.ts';
import { buildRunResults, type RunInfo } from './run-results.ts';

export interface NodeResult {
  unique_id: string;
  status: 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';
  execution_time: number;
  message: string;
  rows_affected: number | null;
  failures: number | null;
  compiled_path: string | null;
  /** The SQL the node ran; null for seeds and skipped nodes. */
  compiled_code: string | null;
  /** When the node started and finished (ISO 8601); null when it was skipped. */
  started_at: string | null;
  completed_at: string | null;
  /** dbt's worker name: `Thread-N` for the --threads slot that ran the node, `main` for a skip. */
  thread_id: string;
}

export function targetDir(project: Project): string {
  return join(project.config.root, project.config['target-path']);
}

/** The database a target's relations live in, as artifacts name it (dbt's `database`); null when not set. */
export function databaseOf(target: Target): string | null {
  if (target.kind === 'pglite') return 'postgres';
  return decodeURIComponent(new URL(target.url).pathname.slice(1)) || null;
}

/** Writes atomically (temp file + rename) so a killed run never leaves a half-written artifact. */
export function writeArtifact(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, redact(content));
  renameSync(tmp, path);
}

export function writeManifest(project: Project, options: ManifestOptions): void {
  writeArtifact(join(targetDir(project), 'manifest.json'), JSON.stringify(buildManifest(project, options), null, 1));
}

export function writeRunResults(project: Project, run: RunInfo): void {
  writeArtifact(join(targetDir(project), 'run_results.json'), JSON.stringify(buildRunResults(project, run), null, 1));
}

// What dpm reads back from a manifest: the keys dbt's v12 schema requires of every node, so that a manifest
// written by dbt itself serves as --state too.
const stateNode = z.looseObject({
  resource_type: z.string(),
  database: z.string().nullable(),
  schema: z.string().nullable(),
  alias: z.string(),
  checksum: z.object({ name: z.string(), checksum: z.string() }),
  config: z.looseObject({ materialized: z.string().optional() }).optional(),
});
const manifestFile = z.looseObject({
  metadata: z.looseObject({ dbt_schema_version: z.string() }),
  nodes: z.record(z.string(), stateNode),
});
const runResultsFile = z.looseObject({
  results: z.array(z.looseObject({ unique_id: z.string(), status: z.string() })),
});

/** `nodes["model.p.m"].checksum`: zod's path, with the dotted ids kept readable. */
function issuePath(path: PropertyKey[]): string {
  return path
    .map((p, i) =>
      typeof p === 'number' || String(p).includes('.') ? `[${JSON.stringify(p)}]` : `${i ? '.' : ''}${String(p)}`,
    )
    .join('');
}

function readArtifact<T>(file: string, shape: z.ZodType<T>, what: string, fix: string): T {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file} is not readable JSON (${(err as Error).message.split('\n')[0]}): ${fix}`);
  }
  const parsed = shape.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UsageError(`${file} is not ${what}: ${issuePath(issue.path)}: ${issue.message}. ${fix}`);
}

function readManifest(file: string): z.infer<typeof manifestFile> {
  return readArtifact(
    file,
    manifestFile,
    'a dbt manifest (v12) that dpm can read',
    'Rewrite it with dpm compile (earlier dpm versions wrote a shape of their own), or point --state elsewhere.',
  );
}

/** uniqueId -> checksum of the last written manifest (before this invocation overwrites it). */
export function readPreviousChecksums(dir: string): Map<string, string> | undefined {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  return new Map(Object.entries(readManifest(file).nodes).map(([id, n]) => [id, n.checksum.checksum]));
}

export function readPreviousResults(dir: string): Map<string, string> | undefined {
  const file = join(dir, 'run_results.json');
  if (!existsSync(file)) return undefined;
  const { results } = readArtifact(file, runResultsFile, 'a dbt run_results.json', 'Delete it and run again.');
  return new Map(results.map((r) => [r.unique_id, r.status]));
}

/** A relation recorded in the --state manifest, which --defer reads instead of a missing one. */
export interface StateRelation {
  database: string | null;
  relation: Relation;
}

const REFABLE = new Set(['model', 'seed', 'snapshot']);

/** Every built relation of `dir/manifest.json`, by unique id; a clear error when the file cannot serve. */
export function readDeferState(dir: string): Map<string, StateRelation> {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) {
    throw new UsageError(
      `--defer reads ${file}, which does not exist: copy the manifest.json of the run to defer to ` +
        `(e.g. production's target/manifest.json) into ${dir}, or leave out --defer.`,
    );
  }
  const out = new Map<string, StateRelation>();
  for (const [id, n] of Object.entries(readManifest(file).nodes)) {
    if (!REFABLE.has(n.resource_type) || n.config?.materialized === 'ephemeral' || n.schema === null) continue;
    out.set(id, { database: n.database, relation: new Relation(n.schema, n.alias) });
  }
  return out;
}

export function writeCompiled(project: Project, folder: 'compiled' | 'run', path: string, sql: string): string {
  const rel = join(project.config['target-path'], folder, path.endsWith('.sql') ? path : `${path}.sql`);
  writeArtifact(join(project.config.root, rel), `${sql}\n`);
  return rel;
}
