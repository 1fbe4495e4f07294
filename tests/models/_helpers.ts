// Shared by the model suites: a small simulated firm landed into raw.*, a copy of the real project per
// target, the CLI as a child process, and comparisons of whole tables.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFirm, type Firm } from '../../sim/firm.ts';
import { connect, type Database } from '../../runner/db/connect.ts';
import { freshTarget, type TargetKind, type TestTarget } from '../helpers/databases.ts';
import { runDpm, type CliResult } from '../helpers/cli.ts';
import { landFirm } from './_land.ts';

export const FIRM = { seed: 11, accounts: 40, days: 25, startDate: '2024-01-01' };
export const ROOT = resolve(import.meta.dirname, '../..');

/** YYYY-MM-DD of a day index of the firm. */
export const dayOf = (d: number) =>
  new Date(Date.parse(`${FIRM.startDate}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 10);
export const END = dayOf(FIRM.days); // exclusive end of the firm's days

let cachedFirm: Firm | undefined;
export function firm(): Firm {
  cachedFirm ??= generateFirm(FIRM);
  return cachedFirm;
}

/** The feature tables that must not depend on how they were built (full refresh, day by day, truncated data). */
export const FEATURE_TABLES = [
  'intermediate.int_account_snapshots_daily',
  'intermediate.int_trading_activity_daily',
  'intermediate.int_pnl_daily',
  'intermediate.int_open_positions_daily',
  'features.feat_rolling_performance',
  'features.feat_behaviour',
  'features.feat_market_regime',
  'features.feature_store_account_daily',
  'training.model_training_input',
];

export interface ModelProject {
  dir: string;
  target: TestTarget;
  dpm(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** Runs `fn` on an in-process connection, closed afterwards (PGlite is one process at a time). */
  withDb<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

/** A copy of the project (dpm.yml, models, macros, seeds, data tests) with a fresh database of `kind`. */
export async function modelProject(kind: TargetKind): Promise<ModelProject> {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-models-'));
  for (const part of ['dpm.yml', 'models', 'macros', 'seeds', 'tests/data'])
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  const target = await freshTarget(kind, dir);
  const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
    const db = await connect(target.target);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  return {
    dir,
    target,
    dpm: (args, timeoutMs = 180_000) => runDpm(args, { cwd: dir, env: target.env, timeoutMs }),
    withDb,
    async dispose() {
      await target.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lands days [from, to] of the test firm. */
export function land(p: ModelProject, from: number, to: number): Promise<Record<string, number>> {
  return p.withDb((db) => landFirm(db, firm(), from, to));
}

/** Fails with the CLI's output when a dpm command did not exit 0. */
export function ok(r: CliResult, what: string): void {
  if (r.code !== 0) {
    // The failing nodes' lines, then the end of the output, where the runner prints each failure's message.
    const lines = (r.stdout + r.stderr)
      .split('\n')
      .filter((l) => /ERROR|FAIL|Error|error/.test(l))
      .slice(0, 20);
    throw new Error(`${what} exited ${r.code}:\n${lines.join('\n')}\n...\n${(r.stdout + r.stderr).slice(-3000)}`);
  }
}

/** Rows of `a` not in `b` plus rows of `b` not in `a` (all columns, exact), optionally under a filter. */
export async function symmetricDifference(
  db: Database,
  a: string,
  b: string,
  where = 'true',
): Promise<{ onlyA: number; onlyB: number }> {
  const count = async (x: string, y: string) =>
    Number(
      (
        await db.knex.raw(
          `select count(*)::int as n
           from (select * from ${x} where ${where} except all select * from ${y} where ${where}) d`,
        )
      ).rows[0].n,
    );
  return { onlyA: await count(a, b), onlyB: await count(b, a) };
}

/** Copies tables into `schema` (same names) so a later rebuild can be compared with them. */
export async function keepCopies(db: Database, schema: string, tables: string[]): Promise<void> {
  await db.knex.raw(`create schema if not exists ${schema}`);
  for (const t of tables) {
    const name = t.split('.')[1];
    await db.knex.raw(`drop table if exists ${schema}.${name}`);
    await db.knex.raw(`create table ${schema}.${name} as select * from ${t}`);
  }
}

export const close = (a: number | null | undefined, b: number | null | undefined, rel = 1e-9) =>
  a === null || a === undefined || Number.isNaN(a)
    ? b === null || b === undefined
    : b !== null && b !== undefined && Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Rows of two tables that do not match on `keys` (missing on either side, or any column different): columns of
 * floating type within `rel` relative error (a float sum's last bit depends on the order rows arrive in, which
 * depends on the plan), every other column exactly. Returns the count and a few examples.
 */
export async function tableDifferences(
  db: Database,
  a: string,
  b: string,
  keys: string[],
  where = 'true',
  rel = 1e-9,
): Promise<{ count: number; examples: unknown[] }> {
  const [schema, table] = a.split('.');
  const { rows: cols } = await db.knex.raw(
    `select column_name as name, data_type as type from information_schema.columns
     where table_schema = ? and table_name = ? order by ordinal_position`,
    [schema, table],
  );
  const diffs = (cols as { name: string; type: string }[])
    .filter((c) => !keys.includes(c.name))
    .map((c) =>
      c.type === 'double precision' || c.type === 'real'
        ? `not ((x."${c.name}" is null and y."${c.name}" is null) or ` +
          `abs(x."${c.name}" - y."${c.name}") <= ${rel} * greatest(1, abs(x."${c.name}"), abs(y."${c.name}")))`
        : `x."${c.name}" is distinct from y."${c.name}"`,
    );
  const using = keys.map((k) => `"${k}"`).join(', ');
  const sql = `select ${using}, ${keys.map((k) => `x."${k}" is null as only_in_b, y."${k}" is null as only_in_a`)[0]}
    from (select * from ${a} where ${where}) x full join (select * from ${b} where ${where}) y using (${using})
    where x."${keys[0]}" is null or y."${keys[0]}" is null or ${diffs.join(' or ') || 'false'}`;
  const { rows } = await db.knex.raw(`select count(*) over () as n, d.* from (${sql}) d limit 5`);
  return { count: rows.length ? Number(rows[0].n) : 0, examples: rows };
}

export const KEYS: Record<string, string[]> = {
  'features.feat_market_regime': ['date'],
};
export const keysOf = (t: string) => KEYS[t] ?? ['account_id', 'date'];
