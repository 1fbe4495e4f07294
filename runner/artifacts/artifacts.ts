import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redact } from '../db/redact.ts';
import type { Dag } from '../graph/dag.ts';
import type { Project } from '../project/load.ts';

export interface NodeResult {
  unique_id: string;
  status: 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';
  execution_time: number;
  message: string;
  rows_affected: number | null;
  failures: number | null;
  compiled_path: string | null;
}

export function targetDir(project: Project): string {
  return join(project.config.root, project.config['target-path']);
}

/** Writes atomically (temp file + rename) so a killed run never leaves a half-written artifact. */
export function writeArtifact(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, redact(content));
  renameSync(tmp, path);
}

export function writeManifest(project: Project, dag: Dag, invocationId: string): void {
  const nodes: Record<string, unknown> = {};
  for (const [id, n] of project.nodes) {
    const { template: _t, ...rest } = n as typeof n & { template?: unknown };
    nodes[id] = {
      ...rest,
      relation: 'relation' in n ? String(n.relation) : undefined,
      depends_on: { nodes: n.dependsOn },
      raw_code: 'rawSql' in n ? n.rawSql : undefined,
    };
  }
  const manifest = {
    metadata: {
      dpm_version: '0.1.0',
      generated_at: new Date().toISOString(),
      invocation_id: invocationId,
      project_name: project.config.name,
    },
    nodes,
    sources: Object.fromEntries(
      [...project.sources.values()].map((s) => [s.uniqueId, { ...s, relation: String(s.relation) }]),
    ),
    macros: project.macros,
    parent_map: Object.fromEntries(dag.parents),
    child_map: Object.fromEntries(dag.children),
  };
  writeArtifact(join(targetDir(project), 'manifest.json'), JSON.stringify(manifest, null, 1));
}

export function writeRunResults(
  project: Project,
  invocationId: string,
  command: string,
  elapsed: number,
  results: NodeResult[],
): void {
  writeArtifact(
    join(targetDir(project), 'run_results.json'),
    JSON.stringify(
      {
        metadata: { dpm_version: '0.1.0', generated_at: new Date().toISOString(), invocation_id: invocationId },
        command,
        elapsed_time: elapsed,
        results,
      },
      null,
      1,
    ),
  );
}

/** uniqueId -> checksum of the last written manifest (before this invocation overwrites it). */
export function readPreviousChecksums(dir: string): Map<string, string> | undefined {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Record<string, { checksum: string }> };
  return new Map(Object.entries(manifest.nodes).map(([id, n]) => [id, n.checksum]));
}

export function readPreviousResults(dir: string): Map<string, string> | undefined {
  const file = join(dir, 'run_results.json');
  if (!existsSync(file)) return undefined;
  const results = JSON.parse(readFileSync(file, 'utf8')) as { results: { unique_id: string; status: string }[] };
  return new Map(results.results.map((r) => [r.unique_id, r.status]));
}

export function writeCompiled(project: Project, folder: 'compiled' | 'run', path: string, sql: string): string {
  const rel = join(project.config['target-path'], folder, path.endsWith('.sql') ? path : `${path}.sql`);
  writeArtifact(join(project.config.root, rel), `${sql}\n`);
  return rel;
}
