// Shared by the ingest suites: a simulated firm and API, a project dir per target, the CLI as a child
// process, and the firm's own records turned into the rows the raw tables should hold.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFirm, type Firm } from '../../sim/firm.ts';
import type { Faults } from '../../sim/faults.ts';
import { startSimServer, type SimServer } from '../../sim/server.ts';
import { connect, type Database } from '../../runner/db/connect.ts';
import { ENDPOINT_SPECS, type EndpointSpec } from '../../ingest/endpoints.ts';
import { normalizeDate } from '../../ingest/fields.ts';
import { freshTarget, type TargetKind, type TestTarget } from '../helpers/databases.ts';
import { runDpm, spawnDpm, type CliResult } from '../helpers/cli.ts';

export const API_KEY = 'sim-KEY-4c1d9e7b2a';
export const FIRM = { seed: 21, accounts: 40, days: 24, startDate: '2024-03-01' };
export const START = '2024-03-01';
export const END = '2024-03-24';

export type Row = Record<string, unknown>;

export function makeFirm(): Firm {
  return generateFirm(FIRM);
}

export function startSim(
  firm: Firm,
  extra: { faults?: Faults; rateLimit?: { perSecond: number; burst: number } } = {},
): Promise<SimServer> {
  return startSimServer({ ...FIRM, apiKey: API_KEY, port: 0, firm, ...extra });
}

export interface Project {
  dir: string;
  target: TestTarget;
  env: Record<string, string>;
  /** `dpm ingest ...` against the project's simulated API (if any), or against `api` (another sim) when given. */
  run(args: string[], api?: Pick<SimServer, 'url'>): Promise<CliResult>;
  spawn(args: string[]): ReturnType<typeof spawnDpm>;
  /** An in-process connection; close it before the next CLI run (PGlite is one process at a time). */
  connect(): Promise<Database>;
  dispose(): Promise<void>;
}

/** A project folder with a fresh target; without `sim`, no API is configured (sources that need none). */
export async function project(kind: TargetKind, sim?: Pick<SimServer, 'url'>, apiKey = API_KEY): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-ingest-'));
  copyFileSync(resolve(import.meta.dirname, '../fixtures/project/dpm.yml'), join(dir, 'dpm.yml'));
  const target = await freshTarget(kind, dir);
  const env: Record<string, string> = sim
    ? { ...target.env, DPM_API_BASE_URL: sim.url, DPM_API_KEY: apiKey }
    : { ...target.env };
  return {
    dir,
    target,
    env,
    run: (args, api) =>
      runDpm(['ingest', ...args], {
        cwd: dir,
        env: api ? { ...env, DPM_API_BASE_URL: api.url } : env,
        timeoutMs: 120_000,
      }),
    spawn: (args) => spawnDpm(['ingest', ...args], { cwd: dir, env }),
    connect: () => connect(target.target),
    async dispose() {
      await target.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every source the CLI knows, with the firm's truth for the test window. */
export function truth(firm: Firm, spec: EndpointSpec): Row[] {
  const days = Array.from({ length: firm.days }, (_, d) => d);
  const all = (f: (d: number) => object[]) => days.flatMap((d) => f(d));
  const raw: object[] =
    spec.name === 'accounts'
      ? firm.accounts()
      : spec.name === 'metrics alltime'
        ? firm.alltimeMetrics()
        : spec.name === 'metrics daily'
          ? all((d) => firm.dailyMetrics(d))
          : spec.name === 'metrics hourly'
            ? all((d) => firm.hourlyMetrics(d))
            : spec.name === 'trades closed'
              ? all((d) => firm.closedTrades(d))
              : spec.name === 'trades open'
                ? all((d) => firm.openTrades(d))
                : all((d) => firm.regimes(d));
  // What the API sends is JSON: the round trip drops undefined and turns -0 into 0.
  return (JSON.parse(JSON.stringify(raw)) as Row[]).map((r) => expectedRow(spec, r));
}

/** A record as its raw-table row should read back: snake_case columns, normalised dates, unknown fields in `extra`. */
export function expectedRow(spec: EndpointSpec, rec: Row): Row {
  const row: Row = {};
  const known = new Set(spec.fields.map((f) => f.api));
  for (const f of spec.fields) {
    const v = rec[f.api];
    if (v === null || v === undefined) row[f.column] = null;
    else if (f.kind === 'date') row[f.column] = normalizeDate(String(v));
    else if (f.kind === 'ts') row[f.column] = new Date(String(v)).toISOString();
    else if (f.kind === 'int' || f.kind === 'num') row[f.column] = Number(v);
    else if (f.kind === 'text') row[f.column] = String(v);
    else if (f.kind === 'bool') row[f.column] = v === true || v === 1;
    else row[f.column] = v;
  }
  const extra = Object.fromEntries(Object.entries(rec).filter(([k]) => !known.has(k)));
  row.extra = Object.keys(extra).length ? extra : null;
  return row;
}

export const keyOf = (spec: EndpointSpec, r: Row) => spec.key.map((c) => String(r[c])).join('|');

export function sortRows(spec: EndpointSpec, rows: Row[]): Row[] {
  return [...rows].sort((a, b) => (keyOf(spec, a) < keyOf(spec, b) ? -1 : keyOf(spec, a) > keyOf(spec, b) ? 1 : 0));
}

/** A raw table as comparable rows (no ingested_at), sorted by key. */
export async function dumpTable(db: Database, spec: EndpointSpec): Promise<Row[]> {
  const cols = [...spec.fields.map((f) => f.column), 'extra'];
  const { rows } = await db.knex.raw(`select ${cols.join(', ')} from ${spec.table}`);
  const out = (rows as Row[]).map((r) => {
    for (const f of spec.fields)
      if (f.kind === 'ts' && r[f.column] instanceof Date) r[f.column] = (r[f.column] as Date).toISOString();
    return r;
  });
  return sortRows(spec, out);
}

/**
 * Every raw table plus a fingerprint of each row's physical version (xmin, ingested_at) to prove a rerun wrote
 * nothing.
 */
export async function snapshot(
  db: Database,
): Promise<{ tables: Record<string, Row[]>; versions: Record<string, string> }> {
  const tables: Record<string, Row[]> = {};
  const versions: Record<string, string> = {};
  for (const spec of ENDPOINT_SPECS) {
    tables[spec.name] = await dumpTable(db, spec);
    const { rows } = await db.knex.raw(
      `select md5(string_agg(xmin::text || ':' || ingested_at::text, ',' order by ${spec.key.join(', ')})) as v
       from ${spec.table}`,
    );
    versions[spec.name] = rows[0].v;
  }
  return { tables, versions };
}

export const ALL_ARGS = [
  'all',
  // The simulator's own regimes route; against the real API the regimes come from their source database.
  '--regimes-from',
  'sim',
  '--start-date',
  START,
  '--end-date',
  END,
  '--batch-days',
  '10',
  '--max-rps',
  '500',
  '--concurrency',
  '4',
];

/** The summary line's numbers: fetched = loaded + rejected + duplicates. */
export function summary(
  stdout: string,
): { fetched: number; loaded: number; rejected: number; duplicates: number } | undefined {
  const num = /([\d ]+)/.source;
  const m = new RegExp(
    `Ingest (?:done|finished with errors): fetched ${num} = loaded ${num} \\+ rejected ${num} \\+ duplicates ${num}`,
  ).exec(stdout);
  if (!m) return undefined;
  const n = (s: string) => Number(s.replace(/ /g, ''));
  return { fetched: n(m[1]), loaded: n(m[2]), rejected: n(m[3]), duplicates: n(m[4]) };
}
