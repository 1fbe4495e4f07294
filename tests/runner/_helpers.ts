// Shared helpers for the runner tests: throw-away projects written from strings, in-process builds
// against an open database, and in-process CLI calls with captured output.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../cli/main.ts';
import { suite, type Test } from 'uvu';
import { connect, type Database } from '../../runner/db/connect.ts';
import { freshTarget, type TargetKind, type TestTarget } from '../helpers/databases.ts';
import { Dag } from '../../runner/graph/dag.ts';
import { selectNodes } from '../../runner/graph/select.ts';
import { createLogger } from '../../runner/log.ts';
import { loadProject, type Project } from '../../runner/project/load.ts';
import { executeNodes, type ExecuteSummary } from '../../runner/execute/execute.ts';

/** Writes `files` (project-relative path -> content) into a new temp folder (or `dir`) and returns it. */
export function writeProject(files: Record<string, string>, dir?: string): string {
  const root = dir ?? mkdtempSync(join(tmpdir(), 'dpm-runner-'));
  if (!('dpm.yml' in files) && !dir) files = { 'dpm.yml': 'name: t\n', ...files };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Catches what a function throws (or undefined). */
export function thrown(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

export interface BuildOptions {
  select?: string[];
  exclude?: string[];
  vars?: Record<string, unknown>;
  fullRefresh?: boolean;
  failFast?: boolean;
  startDate?: string;
  endDate?: string;
  threads?: number;
}

/** The body of `dpm build` without lock, migrations or artifacts, on an already open database. */
export async function build(
  dir: string,
  db: Database,
  options: BuildOptions = {},
): Promise<ExecuteSummary & { project: Project; byName: Record<string, string> }> {
  const project = loadProject(dir, { vars: options.vars });
  const dag = new Dag(project.nodes);
  const selected = selectNodes(dag, { select: options.select, exclude: options.exclude });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const log = createLogger({ level: 'error', json: true, stream: sink });
  const summary = await executeNodes(
    project,
    dag,
    db,
    selected,
    {
      threads: options.threads ?? db.target.threads,
      failFast: options.failFast ?? false,
      fullRefresh: options.fullRefresh ?? false,
      startDate: options.startDate,
      endDate: options.endDate,
    },
    log,
  );
  const byName: Record<string, string> = {};
  for (const r of summary.results) byName[project.nodes.get(r.unique_id)!.name] = r.status;
  return { ...summary, project, byName };
}

/** Drops every schema a test may have created, and what it put in `public`, so suites can share one database. */
export async function resetSchemas(db: Database): Promise<void> {
  // What an extension owns (Citus's schemas and its views in public) belongs to the database, not to the test.
  const notExtensions = (oid: string) =>
    `not exists (select 1 from pg_depend d where d.objid = ${oid} and d.deptype = 'e')`;
  const { rows } = await db.knex.raw(
    `select nspname from pg_namespace n
     where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public') and ${notExtensions('n.oid')}`,
  );
  for (const r of rows as { nspname: string }[]) await db.knex.raw(`drop schema "${r.nspname}" cascade`);
  const kinds: Record<string, string> = { r: 'table', p: 'table', v: 'view', m: 'materialized view', S: 'sequence' };
  const publicRelations = await db.knex.raw(
    `select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S') and ${notExtensions('c.oid')}`,
  );
  for (const r of publicRelations.rows as { relname: string; relkind: string }[])
    await db.knex.raw(`drop ${kinds[r.relkind]} if exists public."${r.relname}" cascade`);
}

export async function rowsOf(db: Database, sql: string, bindings: unknown[] = []): Promise<Record<string, unknown>[]> {
  const { rows } = await db.knex.raw(sql, bindings as never);
  return rows;
}

/** Relations whose names mark them as scratch (temporary or backup) relations of a run. */
export async function scratchRelations(db: Database): Promise<string[]> {
  const rows = await rowsOf(
    db,
    `select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relname like '%\\_\\_dpm\\_%' and c.relkind in ('r', 'v', 'm')`,
  );
  return rows.map((r) => String(r.name));
}

export interface MainResult {
  code: number;
  out: string;
  err: string;
}

let mainQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs the CLI's main() in this process with extra environment, capturing stdout and stderr.
 * Calls are serialized, since they swap process-wide streams and environment.
 */
export function dpm(args: string[], env: Record<string, string> = {}): Promise<MainResult> {
  const run = async (): Promise<MainResult> => {
    const saved: Record<string, string | undefined> = { DPM_DATABASE_URL: process.env.DPM_DATABASE_URL };
    for (const k of Object.keys(env)) saved[k] = process.env[k];
    delete process.env.DPM_DATABASE_URL;
    Object.assign(process.env, env);
    const outWrite = process.stdout.write;
    const errWrite = process.stderr.write;
    let out = '';
    let err = '';
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      err += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stderr.write;
    try {
      const code = await main(args);
      return { code, out, err };
    } finally {
      process.stdout.write = outWrite;
      process.stderr.write = errWrite;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
  const next = mainQueue.then(run, run);
  mainQueue = next.catch(() => undefined);
  return next;
}

export interface DatabaseSuite {
  test: Test;
  /** The suite's database, connected before its first test. */
  readonly db: Database;
  readonly target: TestTarget;
  /** Writes a project into a temp folder removed after the suite. */
  project(files: Record<string, string>): string;
  /** Registers a folder to remove after the suite. */
  keep(dir: string): string;
}

/** A suite on one fresh database of `kind`, its schemas reset after each test, its project folders removed. */
export function databaseSuite(name: string, kind: TargetKind): DatabaseSuite {
  const test = suite(name);
  const dirs: string[] = [];
  let db: Database | undefined;
  let target: TestTarget | undefined;
  test.before(async () => {
    target = await freshTarget(kind);
    db = await connect(target.target);
  });
  test.after(async () => {
    await db?.close();
    await target?.dispose();
    for (const d of dirs) removeDir(d);
  });
  test.after.each(() => resetSchemas(db!));
  const keep = (dir: string) => {
    dirs.push(dir);
    return dir;
  };
  return {
    test,
    get db() {
      return db!;
    },
    get target() {
      return target!;
    },
    project: (files) => keep(writeProject(files)),
    keep,
  };
}

/** Loads each case's project (over `base` files) and checks that it fails with a message matching the case's. */
export function assertLoadErrors(cases: [Record<string, string>, RegExp][], base: Record<string, string> = {}): void {
  for (const [files, message] of cases) {
    const dir = writeProject({ ...base, ...files });
    try {
      const err = thrown(() => loadProject(dir));
      if (!err) throw new Error(`${Object.keys(files).join(', ')} loaded without an error`);
      if (!message.test(String(err.message ?? err)))
        throw new Error(`${Object.keys(files).join(', ')}: '${err.message}' does not match ${message}`);
    } finally {
      removeDir(dir);
    }
  }
}
