import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { connect, type Database } from '../runner/db/connect.ts';
import { migrateLatest, migrateRunner } from '../migrations/migrate.ts';
import { resolveTarget, type Target } from '../runner/db/target.ts';
import { UsageError } from '../runner/errors.ts';
import { Dag } from '../runner/graph/dag.ts';
import { selectNodes, type SelectionRequest, type SelectionState } from '../runner/graph/select.ts';
import { createLogger, type LogLevel, type Logger } from '../runner/log.ts';
import { loadProject, type Project } from '../runner/project/load.ts';
import {
  databaseOf,
  readDeferState,
  readPreviousChecksums,
  readPreviousResults,
  type StateRelation,
  targetDir,
  writeManifest,
  writeRunResults,
} from '../runner/artifacts/artifacts.ts';
import { executeNodes, type ExecuteSummary } from '../runner/execute/execute.ts';
import { join, resolve } from 'node:path';
import type { GraphNode } from '../runner/project/nodes.ts';

export interface CommonArgs {
  projectDir: string;
  target?: string;
  vars?: string;
  logLevel: LogLevel;
  json: boolean;
  lockWait: number;
  /** An open connection whose owner already holds the run lock (set by dpm pipeline, never by the CLI). */
  db?: Database;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The yargs check every dated verb shares: --start-date and --end-date, when given, are YYYY-MM-DD. */
export function checkDateFlags(a: Record<string, unknown>): void {
  for (const k of ['start-date', 'end-date'] as const) {
    if (a[k] !== undefined && !DATE.test(String(a[k]))) throw new UsageError(`--${k} must be YYYY-MM-DD, got ${a[k]}`);
  }
}

export interface SelectArgs {
  select?: string[];
  exclude?: string[];
  state?: string;
  /** dbt's --defer: refs to unselected nodes missing here read the --state manifest's relations. */
  defer?: boolean;
}

/** The --state manifest's relations when --defer is given (yargs already refused --defer without --state). */
export function deferState(args: SelectArgs): Map<string, StateRelation> | undefined {
  return args.defer && args.state ? readDeferState(resolve(args.state)) : undefined;
}

export function parseVars(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new UsageError(
      `--vars is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}. Example: --vars '{"lookback_days": 3}'`,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--vars must be a mapping, e.g. --vars '{"lookback_days": 3}'`);
  return value as Record<string, unknown>;
}

export interface Loaded {
  project: Project;
  dag: Dag;
  log: Logger;
}

export function load(args: CommonArgs): Loaded {
  const log = createLogger({ level: args.logLevel, json: args.json });
  const project = loadProject(resolve(args.projectDir), { vars: parseVars(args.vars), target: args.target });
  return { project, dag: new Dag(project.nodes), log };
}

/** Calls `read` once, on first use. */
function once<T>(read: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: read() };
    return value.v;
  };
}

export function select(loaded: Loaded, args: SelectArgs, resourceTypes?: GraphNode['resourceType'][]): Set<string> {
  const stateDir = args.state ? resolve(args.state) : targetDir(loaded.project);
  const request: SelectionRequest = { select: args.select, exclude: args.exclude, resourceTypes };
  // Read only by state: and result: selectors, so an unreadable old artifact stops only the runs that need it.
  const checksums = once(() => readPreviousChecksums(stateDir));
  const results = once(() => readPreviousResults(targetDir(loaded.project)));
  const state: SelectionState = {
    get previousChecksums() {
      return checksums();
    },
    get previousResults() {
      return results();
    },
  };
  return selectNodes(loaded.dag, request, state);
}

export function targetOf(loaded: Loaded, args: CommonArgs): Target {
  return args.db?.target ?? resolveTarget(loaded.project.config, args.target);
}

/**
 * Connects, migrates, and holds the run lock for the duration of `fn`. The runner's verbs create only its
 * bookkeeping (dpm.runs); the product's (`product: true`: train, predict, report) every dpm table. A caller
 * that already holds a connection and the lock (dpm pipeline) passes it as `args.db` and it is reused.
 */
export async function withDatabase<T>(
  loaded: Loaded,
  args: CommonArgs,
  fn: (db: Database) => Promise<T>,
  options: { runLock?: boolean; threads?: number; product?: boolean } = {},
): Promise<T> {
  if (args.db) return fn(args.db);
  const target = targetOf(loaded, args);
  const db = await connect(target, {
    lockWaitMs: args.lockWait * 1000,
    poolSize: (options.threads ?? target.threads) + 1,
  });
  try {
    const release = options.runLock === false ? async () => undefined : await db.acquireRunLock(args.lockWait * 1000);
    try {
      await (options.product ? migrateLatest(db.knex) : migrateRunner(db.knex));
      return await fn(db);
    } finally {
      await release();
    }
  } finally {
    await db.close();
  }
}

export interface RunArgs extends CommonArgs, SelectArgs {
  threads?: number;
  failFast: boolean;
  fullRefresh: boolean;
  startDate?: string;
  endDate?: string;
}

/** The shared body of run / build / seed / test: select, execute, write artifacts and the run log. */
export async function runCommand(
  command: string,
  args: RunArgs,
  resourceTypes: GraphNode['resourceType'][],
): Promise<number> {
  const loaded = load(args);
  const selected = select(loaded, args, resourceTypes);
  const defer = deferState(args);
  if (selected.size === 0) {
    loaded.log.warn(`Nothing to do: the selection matched no ${resourceTypes.join('/')} nodes.`);
    return 0;
  }
  const invocationId = randomUUID();
  const target = targetOf(loaded, args);
  const threads = args.threads ?? target.threads;
  const summary: ExecuteSummary = await withDatabase(
    loaded,
    args,
    async (db) => {
      const where = target.kind === 'pglite' ? 'embedded PGlite' : `PostgreSQL target '${target.name}'`;
      loaded.log.info(`Running ${selected.size} node(s) on ${where} with ${threads} thread(s)`);
      await db.knex('dpm.runs').insert({
        invocation_id: invocationId,
        command,
        selector: (args.select ?? []).join(' ') || null,
        started_at: new Date(),
        status: 'running',
      });
      const result = await executeNodes(
        loaded.project,
        loaded.dag,
        db,
        selected,
        {
          threads,
          failFast: args.failFast,
          fullRefresh: args.fullRefresh,
          startDate: args.startDate,
          endDate: args.endDate,
          invocationId,
          defer,
        },
        loaded.log,
      );
      await db
        .knex('dpm.runs')
        .where({ invocation_id: invocationId })
        .update({ ended_at: new Date(), status: result.ok ? 'success' : 'error' });
      if (result.results.length) {
        await db.knex('dpm.run_nodes').insert(
          result.results.map((r) => ({
            invocation_id: invocationId,
            unique_id: r.unique_id,
            status: r.status,
            execution_time: r.execution_time,
            rows_affected: r.rows_affected,
            message: r.message.slice(0, 2000),
          })),
        );
      }
      return result;
    },
    { threads },
  );
  const database = databaseOf(target);
  writeRunResults(loaded.project, {
    invocationId,
    database,
    args: runArgsJson(command, args, threads),
    elapsed: summary.elapsed,
    results: summary.results,
  });
  const compiled = new Map(
    summary.results.flatMap((r) =>
      r.compiled_code === null || r.compiled_path === null
        ? []
        : [[r.unique_id, { path: r.compiled_path, code: r.compiled_code }] as const],
    ),
  );
  writeManifest(loaded.project, { invocationId, database, compiled });
  const count = (s: string) => summary.results.filter((r) => r.status === s).length;
  const line =
    `Finished ${command} in ${summary.elapsed.toFixed(1)}s: ${count('success') + count('pass')} ok, ` +
    `${count('warn')} warn, ${count('error')} error, ${count('fail')} fail, ${count('skipped')} skipped. ` +
    `Results in ${join(loaded.project.config['target-path'], 'run_results.json')}`;
  if (summary.ok) loaded.log.info(line, { summary: true });
  else loaded.log.error(line, { summary: true });
  return summary.ok ? 0 : 1;
}

/** run_results.json's `args`: the command as dbt's `which` and the options given, under dbt's names. */
function runArgsJson(command: string, args: RunArgs, threads: number): Record<string, unknown> {
  const given: Record<string, unknown> = {
    which: command,
    select: args.select,
    exclude: args.exclude,
    state: args.state,
    defer: args.defer,
    threads,
    vars: args.vars === undefined ? undefined : parseVars(args.vars),
    full_refresh: args.fullRefresh,
    fail_fast: args.failFast,
    start_date: args.startDate,
    end_date: args.endDate,
    target: args.target,
    project_dir: args.projectDir,
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
}
