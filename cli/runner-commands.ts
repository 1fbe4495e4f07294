import type { Argv } from 'yargs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { connect, type Database } from '../runner/db/connect.ts';
import { migrateLatest, migrateRollback } from '../migrations/migrate.ts';
import { describeTarget, resolveTarget } from '../runner/db/target.ts';
import { UsageError } from '../runner/errors.ts';
import { compileNodeAsync, deferredRelations, type CompileContext } from '../runner/project/compile.ts';
import { runOperation } from '../runner/project/operation.ts';
import { QueryReplay, runTemplateQuery, type TemplateQueries } from '../runner/project/query-replay.ts';
import { listRelations } from '../runner/materialize/relations.ts';
import { snapshotSqlPath } from '../runner/materialize/snapshot.ts';
import { databaseOf, writeCompiled, writeManifest } from '../runner/artifacts/artifacts.ts';
import { loadProjectConfig } from '../runner/config/project-config.ts';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import {
  checkDateFlags,
  deferState,
  load,
  runCommand,
  select,
  targetOf,
  withDatabase,
  type CommonArgs,
  type Loaded,
  type RunArgs,
  type SelectArgs,
} from './session.ts';
import type { GraphNode } from '../runner/project/nodes.ts';
import { checkFreshness, freshnessTables, writeSourcesArtifact } from '../runner/freshness.ts';

/** 90061 -> '1d 1h 1m'; under a minute in seconds. */
function formatAge(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}

function selectionOptions<T>(y: Argv<T>) {
  return y
    .option('select', {
      alias: ['s', 'models', 'm'],
      type: 'string',
      array: true,
      describe:
        'dbt selection: name, +name, name+, 2+name, @name, tag:, path:, config.x:, state:modified, result:error; ' +
        'space = union, comma = intersection',
    })
    .option('exclude', { type: 'string', array: true, describe: 'nodes to leave out (same grammar)' })
    .option('state', {
      type: 'string',
      describe: 'folder with the manifest that state:modified compares with (default: target/)',
    });
}

/** dbt's --defer, for the verbs that compile refs: run, build, test, seed and compile. */
function deferOption<T>(y: Argv<T>) {
  return selectionOptions(y)
    .option('defer', {
      type: 'boolean',
      describe:
        'a ref to an unselected model or seed that does not exist in this database reads the relation ' +
        "recorded in --state DIR/manifest.json (e.g. production's) instead",
    })
    .check((a) => {
      if (a.defer && !a.state)
        throw new UsageError(
          '--defer needs --state DIR: the folder of the manifest.json whose relations stand in for unselected ' +
            "models (e.g. a copy of production's target/)",
        );
      return true;
    });
}

/** --threads and --fail-fast: every verb that builds nodes. */
function workerOptions<T>(y: Argv<T>) {
  return y
    .option('threads', { type: 'number', describe: 'nodes built at once (embedded PGlite runs one at a time)' })
    .option('fail-fast', { type: 'boolean', default: false, describe: 'stop scheduling after the first failure' })
    .check((a) => {
      if (a.threads !== undefined && (!Number.isInteger(a.threads) || (a.threads as number) < 1))
        throw new UsageError('--threads must be a whole number >= 1');
      return true;
    });
}

function runOptions<T>(y: Argv<T>) {
  return workerOptions(deferOption(y))
    .option('full-refresh', {
      type: 'boolean',
      default: false,
      describe: 'rebuild incremental models and seeds from scratch',
    })
    .option('start-date', { type: 'string', describe: 'microbatch models: first day to (re)build, YYYY-MM-DD' })
    .option('end-date', {
      type: 'string',
      describe: 'microbatch models: day after the last one to build (exclusive), YYYY-MM-DD',
    })
    .check((a) => {
      checkDateFlags(a);
      return true;
    });
}

type Done = (code: number) => void;

/** Where a template's log() lines go: info=True at info level, the rest at debug level, as dbt. */
function logTo(loaded: Loaded): TemplateQueries['log'] {
  return (message, info) => (info ? loaded.log.info(message) : loaded.log.debug(message));
}

const operationArgsSchema = z.record(z.string(), z.unknown());

/** --args of run-operation: a YAML (or JSON) mapping of the macro's keyword arguments. */
function operationArgs(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new UsageError(`--args is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = operationArgsSchema.safeParse(value);
  if (!parsed.success || Array.isArray(value)) {
    throw new UsageError(`--args must be a mapping of the macro's arguments, e.g. --args '{role: reporter}'`);
  }
  return parsed.data;
}

export function registerRunnerCommands(cli: Argv, done: Done): void {
  const asRun = (a: Record<string, unknown>) => a as unknown as RunArgs;
  const asCommon = (a: Record<string, unknown>) => a as unknown as CommonArgs;
  const typesFor: Record<string, GraphNode['resourceType'][]> = {
    build: ['seed', 'model', 'snapshot', 'test'],
    run: ['model'],
    seed: ['seed'],
    test: ['test'],
    snapshot: ['snapshot'],
  };
  const runVerb = (name: string, describe: string, example: string) =>
    cli.command(
      name,
      describe,
      (y) => runOptions(y).example(example, ''),
      async (a) => done(await runCommand(name, asRun(a), typesFor[name])),
    );
  runVerb(
    'build',
    'seeds, models, snapshots and data tests in DAG order; failures skip what is downstream',
    'dpm build --select features+ --threads 4',
  );
  runVerb('run', 'build the selected models', 'dpm run --select staging --full-refresh');
  runVerb('seed', 'load CSV seeds (seeds/*.csv, seeds/<name>/*.csv)', 'dpm seed --select plans');
  runVerb('test', 'run data tests and unit tests', 'dpm test --select stg_trades_closed');
  // dbt's snapshot command takes no --full-refresh: a snapshot's history is never rebuilt.
  cli.command(
    'snapshot',
    "build the selected snapshots (dbt's type-2 history tables; dpm run does not build them)",
    (y) => workerOptions(deferOption(y)).example('dpm snapshot --select accounts_history', ''),
    async (a) => done(await runCommand('snapshot', asRun(a), typesFor.snapshot)),
  );

  cli.command(
    'ls',
    'list what a selection picks, in DAG order',
    (y) =>
      selectionOptions(y)
        .option('resource-type', {
          type: 'string',
          array: true,
          choices: ['model', 'seed', 'snapshot', 'test', 'unit_test'],
        })
        .option('output', { choices: ['name', 'path', 'json'] as const, default: 'name' as const })
        .example('dpm ls --select "2+int_pnl_daily"', ''),
    async (a) => {
      const loaded = load(asCommon(a));
      const selected = select(loaded, a as never, a.resourceType as GraphNode['resourceType'][] | undefined);
      for (const id of loaded.dag.topoOrder(selected)) {
        const n = loaded.project.nodes.get(id)!;
        const line =
          a.output === 'json'
            ? JSON.stringify({ unique_id: id, name: n.name, resource_type: n.resourceType, path: n.path })
            : a.output === 'path'
              ? n.path
              : `${n.resourceType} ${n.name}`;
        process.stdout.write(`${line}\n`);
      }
      done(0);
    },
  );

  cli.command(
    'compile',
    'render the selected models and tests to SQL under target/compiled/',
    (y) =>
      deferOption(y)
        .example('dpm compile --select stg_accounts', '')
        .example('dpm compile -s my_model --defer --state prod-artifacts', 'refs to unbuilt models read production'),
    async (a) => {
      const args = asCommon(a);
      const loaded = load(args);
      const selected = select(loaded, a as never);
      const defer = deferState(a as SelectArgs);
      const database = databaseOf(targetOf(loaded, args));
      const compiled = new Map<string, { path: string; code: string }>();
      const compileAll = async (existing: CompileContext['existing'], run: TemplateQueries['run']) => {
        const ctx: CompileContext = {
          project: loaded.project,
          invocationId: 'compile',
          runStartedAt: new Date().toISOString(),
          targetName: 'compile',
          fullRefresh: false,
          existing,
          deferred: defer && deferredRelations(loaded.project, selected, existing, defer, database),
        };
        for (const id of loaded.dag.topoOrder(selected)) {
          const node = loaded.project.nodes.get(id)!;
          // A unit test's SQL needs its inputs' column types from the database: `dpm test` compiles it.
          if (node.resourceType === 'seed' || node.resourceType === 'unit_test') continue;
          const code = await compileNodeAsync(
            node,
            { ...ctx, queries: new QueryReplay() },
            { run, log: logTo(loaded) },
          );
          const path =
            node.resourceType === 'test'
              ? `tests/${node.name}`
              : node.resourceType === 'snapshot'
                ? snapshotSqlPath(node)
                : node.path;
          compiled.set(id, { path: writeCompiled(loaded.project, 'compiled', path, code), code });
        }
      };
      // is_incremental() and --defer depend on what exists, so only they need a connection.
      const needsDb =
        defer !== undefined ||
        [...selected].some((id) => {
          const n = loaded.project.nodes.get(id)!;
          return n.resourceType === 'model' && n.config.materialized === 'incremental';
        });
      const query = (db: Database) => (sql: string) => runTemplateQuery(db.knex, sql);
      if (needsDb) {
        await withDatabase(loaded, args, async (db) => compileAll(await listRelations(db.knex), query(db)), {
          runLock: false,
        });
      } else {
        // A template that calls run_query() needs one too: it is opened when the first query is asked for.
        let lazy: Promise<Database> | undefined;
        try {
          await compileAll(new Map(), async (sql) => {
            lazy ??= connect(targetOf(loaded, args), { lockWaitMs: args.lockWait * 1000 });
            return query(await lazy)(sql);
          });
        } finally {
          await lazy?.then(
            (db) => db.close(),
            () => undefined,
          );
        }
      }
      writeManifest(loaded.project, { invocationId: 'compile', database, compiled });
      loaded.log.info(`Compiled ${compiled.size} node(s) into ${loaded.project.config['target-path']}/compiled/`);
      done(0);
    },
  );

  cli.command(
    'run-operation <macro>',
    'run a project macro: its run_query() and statement() calls execute (DDL included), its log() lines print',
    (y) =>
      y
        .positional('macro', { type: 'string', demandOption: true, describe: 'the name of a macro in macros/' })
        .option('args', { type: 'string', describe: "the macro's keyword arguments, a YAML/JSON mapping" })
        .example(`dpm run-operation grant_select --args '{role: reporter}'`, ''),
    async (a) => {
      const args = asCommon(a);
      const loaded = load(args);
      const macroArgs = operationArgs(a.args as string | undefined);
      const t0 = Date.now();
      await withDatabase(loaded, args, (db) =>
        runOperation(
          {
            project: loaded.project,
            invocationId: randomUUID(),
            runStartedAt: new Date().toISOString(),
            targetName: db.target.name,
            fullRefresh: false,
            existing: new Map(),
          },
          String(a.macro),
          macroArgs,
          { run: (sql) => runTemplateQuery(db.knex, sql), log: logTo(loaded) },
        ),
      );
      loaded.log.info(`Finished run-operation ${a.macro} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      done(0);
    },
  );

  cli.command(
    'debug',
    'show the target (password hidden) and check the connection',
    (y) => y.example('DPM_DATABASE_URL=postgres://127.0.0.1/test dpm debug', ''),
    async (a) => {
      const args = asCommon(a);
      const config = loadProjectConfig(resolve(args.projectDir));
      const target = resolveTarget(config, args.target);
      process.stdout.write(`project: ${config.name} (${config.root})\ntarget:  ${describeTarget(target)}\n`);
      const db = await connect(target, { lockWaitMs: args.lockWait * 1000 });
      try {
        const { rows } = await db.knex.raw('select version() as v, current_database() as d, current_user as u');
        process.stdout.write(`server:  ${rows[0].v}\ndatabase: ${rows[0].d} as ${rows[0].u}\nconnection: OK\n`);
      } finally {
        await db.close();
      }
      done(0);
    },
  );

  cli.command(
    'source <what>',
    "source freshness: check how old each source table's newest row is (loaded_at_field) against its rule",
    (y) =>
      y
        .positional('what', { choices: ['freshness'] as const, describe: 'what to check' })
        .option('select', {
          alias: 's',
          type: 'string',
          array: true,
          describe: 'source:<name> or source:<name>.<table> (default: every source table with a rule)',
        })
        .example('dpm source freshness --select source:raw', 'the nightly job refuses stale API data (exit 1)'),
    async (a) => {
      const args = asCommon(a);
      const loaded = load(args);
      const wanted = ((a.select as string[] | undefined) ?? []).map((s) => {
        const m = /^source:([\w]+)(?:\.([\w]+))?$/.exec(s);
        if (!m) throw new UsageError(`--select ${s}: source freshness selects source:<name> or source:<name>.<table>`);
        return m;
      });
      const tables = freshnessTables(loaded.project).filter(
        (t) => wanted.length === 0 || wanted.some((m) => m[1] === t.source && (!m[2] || m[2] === t.table)),
      );
      if (tables.length === 0) {
        loaded.log.warn('no source table with loaded_at_field and freshness matches: nothing to check');
        done(0);
        return;
      }
      const results = await withDatabase(loaded, args, (db) => checkFreshness(db.knex, tables), { runLock: false });
      for (const [i, r] of results.entries()) {
        const t = tables[i];
        const age =
          r.max_loaded_at_time_ago_in_s === null ? 'no rows' : `${formatAge(r.max_loaded_at_time_ago_in_s)} old`;
        const rule = [
          r.criteria.warn_after_s === null ? '' : `warn after ${formatAge(r.criteria.warn_after_s)}`,
          r.criteria.error_after_s === null ? '' : `error after ${formatAge(r.criteria.error_after_s)}`,
        ]
          .filter(Boolean)
          .join(', ');
        const line =
          `${i + 1} of ${results.length} ${r.status.toUpperCase()} freshness of ${t.source}.${t.table} ... ` +
          (r.error ?? `${age} (${rule})`);
        if (r.status === 'pass') loaded.log.info(line);
        else if (r.status === 'warn') loaded.log.warn(line);
        else loaded.log.error(line);
      }
      const path = writeSourcesArtifact(loaded.project, results);
      const failed = results.filter((r) => r.status === 'error' || r.status === 'runtime error').length;
      loaded.log.info(`Finished source freshness: ${results.length - failed} ok, ${failed} error. Results in ${path}`);
      done(failed ? 1 : 0);
    },
  );

  cli.command(
    'migrate',
    'apply knex migrations (dpm bookkeeping, raw landing tables, registry)',
    (y) =>
      y
        .option('rollback', { type: 'boolean', default: false, describe: 'undo the last batch' })
        .example('dpm migrate', ''),
    async (a) => {
      const args = asCommon(a);
      const config = loadProjectConfig(resolve(args.projectDir));
      const db = await connect(resolveTarget(config, args.target), { lockWaitMs: args.lockWait * 1000 });
      try {
        const names = a.rollback ? await migrateRollback(db.knex) : await migrateLatest(db.knex);
        process.stdout.write(
          names.length ? `${a.rollback ? 'Rolled back' : 'Applied'}: ${names.join(', ')}\n` : 'Already up to date.\n',
        );
      } finally {
        await db.close();
      }
      done(0);
    },
  );
}
