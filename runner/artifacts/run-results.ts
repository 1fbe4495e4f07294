// target/run_results.json in dbt's published shape (run-results v6): one result per selected node. dbt's
// result objects take no keys of their own, so rows go under adapter_response, as dbt-postgres writes them.
import type { Project } from '../project/load.ts';
import type { NodeResult } from './artifacts.ts';
import { artifactMetadata, builtRelation, relationName } from './manifest.ts';

export const RUN_RESULTS_SCHEMA = 'https://schemas.getdbt.com/dbt/run-results/v6.json';

export interface RunInfo {
  invocationId: string;
  /** The database the relations live in, for relation_name (null when unknown). */
  database: string | null;
  /** dbt's `args`: `which` (the command) and the options it ran with, under dbt's snake_case names. */
  args: Record<string, unknown>;
  elapsed: number;
  results: NodeResult[];
}

export function buildRunResults(project: Project, run: RunInfo): Record<string, unknown> {
  return {
    metadata: artifactMetadata(RUN_RESULTS_SCHEMA, run.invocationId),
    results: run.results.map((r) => resultJson(project, r, run.database)),
    elapsed_time: run.elapsed,
    args: run.args,
  };
}

function resultJson(project: Project, r: NodeResult, database: string | null): Record<string, unknown> {
  const node = project.nodes.get(r.unique_id);
  const relation = node && builtRelation(node);
  return {
    status: r.status,
    timing: r.started_at ? [{ name: 'execute', started_at: r.started_at, completed_at: r.completed_at }] : [],
    thread_id: r.thread_id,
    execution_time: r.execution_time,
    adapter_response: r.rows_affected === null ? {} : { _message: r.message, rows_affected: r.rows_affected },
    message: r.message,
    failures: r.failures,
    unique_id: r.unique_id,
    compiled: r.compiled_code !== null,
    compiled_code: r.compiled_code,
    relation_name: relation ? relationName(relation, database) : null,
  };
}
