// Where `dpm ingest regimes` reads the market regimes, and what the database and file sources share.
// Upstream the regimes are not an API listing: a separate PostgreSQL database holds public.regimes_daily,
// one row per day and copy. dpm reads that table (or a file exported from it) when it is configured, and
// skips the regimes otherwise; the simulator's own v2/regimes/daily route is read only when asked for.
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { RegimesSourceConfig } from '../runner/config/project-config.ts';
import { registerSecret } from '../runner/db/redact.ts';
import { passwordOf } from '../runner/db/target.ts';
import { ConfigError, UsageError } from '../runner/errors.ts';
import type { Field } from './fields.ts';

export const DEFAULT_REGIMES_TABLE = 'public.regimes_daily';
/** The pgvector column of the upstream table: optional, read as text and kept in `extra` as a number array. */
export const VECTOR_COLUMN = 'vector_daily_regime';

export type RegimesFrom = 'auto' | 'sim' | 'database';

/** What `dpm ingest all` prints when no regimes source is configured, and goes on with the other sources. */
export const REGIMES_NOT_CONFIGURED =
  'regimes skipped: no source configured. Set DPM_REGIMES_DATABASE_URL to the regimes database ' +
  '(postgres://user@host:5432/db, table public.regimes_daily) or run dpm ingest regimes --from-file <export>';

export type RegimesSource =
  | { kind: 'none'; why: string }
  | { kind: 'sim'; why: string }
  | { kind: 'database'; url: string; table: string; why: string }
  | { kind: 'file'; path: string; format: 'jsonl' | 'csv' };

/**
 * `--from-file` wins; then, unless `--regimes-from sim`, a source database from DPM_REGIMES_DATABASE_URL,
 * else from dpm.yml's `regimes-source` (url_env, then url); else none. The real API has no regimes route:
 * only the simulator's is read, and only with `--regimes-from sim`.
 */
export function resolveRegimesSource(o: {
  fromFile?: string;
  regimesFrom?: RegimesFrom;
  config?: RegimesSourceConfig;
  env: NodeJS.ProcessEnv;
  cwd?: string;
}): RegimesSource {
  const from = o.regimesFrom ?? 'auto';
  if (o.fromFile !== undefined) {
    if (from !== 'auto')
      throw new UsageError(`--from-file reads the regimes from a file; it does not go with --regimes-from ${from}`);
    const path = resolve(o.cwd ?? '.', o.fromFile);
    if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`--from-file ${o.fromFile}: no such file`);
    const ext = extname(path).toLowerCase();
    if (ext === '.csv') return { kind: 'file', path, format: 'csv' };
    if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return { kind: 'file', path, format: 'jsonl' };
    throw new UsageError(
      `--from-file ${o.fromFile}: name the file .jsonl (JSON Lines, one regimes_daily row per line) ` +
        "or .csv (as psql's \\copy ... csv header writes it)",
    );
  }
  if (from === 'sim') return { kind: 'sim', why: '--regimes-from sim' };
  const cfg = o.config ?? {};
  let url: string | undefined;
  let why: string;
  if (o.env.DPM_REGIMES_DATABASE_URL) {
    url = o.env.DPM_REGIMES_DATABASE_URL;
    why = 'DPM_REGIMES_DATABASE_URL';
  } else if (cfg.url_env) {
    url = o.env[cfg.url_env];
    why = `$${cfg.url_env}, named by regimes-source.url_env in dpm.yml`;
    if (!url)
      throw new ConfigError(
        `dpm.yml's regimes-source.url_env reads the regimes source database URL from $${cfg.url_env}, ` +
          'which is not set. Set it, or remove regimes-source from dpm.yml to skip the regimes.',
      );
  } else {
    url = cfg.url;
    why = 'regimes-source.url in dpm.yml';
  }
  if (!url) {
    if (from === 'database')
      throw new ConfigError(
        '--regimes-from database needs the source database: ' +
          'set DPM_REGIMES_DATABASE_URL (or regimes-source.url_env in dpm.yml) to its postgres:// URL.',
      );
    return { kind: 'none', why: REGIMES_NOT_CONFIGURED };
  }
  if (!/^postgres(ql)?:\/\//i.test(url) || !URL.canParse(url))
    throw new ConfigError(`${why} must be a postgres:// URL, e.g. postgres://user:password@host:5432/marketdata`);
  registerSecret(passwordOf(url));
  return { kind: 'database', url, table: o.env.DPM_REGIMES_TABLE || cfg.table || DEFAULT_REGIMES_TABLE, why };
}

/** `postgres://user@host:5432/db`: enough to tell which database, never the password or the query string. */
export function describePgUrl(url: string): string {
  const u = new URL(url);
  const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
  const port = u.port ? `:${u.port}` : '';
  return `postgres://${user}${u.hostname}${port}${u.pathname}`;
}

const PG_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * PostgreSQL's text form of a timestamptz (`2024-03-01 23:00:00+00`) as ISO 8601 (`2024-03-01T23:00:00+00:00`);
 * anything else as is.
 */
export function isoTimestamp(v: string): string {
  const m = PG_TIMESTAMP.exec(v);
  if (!m) return v;
  const off =
    m[3] === 'Z'
      ? 'Z'
      : m[3].length === 3
        ? `${m[3]}:00`
        : m[3].includes(':')
          ? m[3]
          : `${m[3].slice(0, 3)}:${m[3].slice(3)}`;
  return `${m[1]}T${m[2]}${off}`;
}

/** pgvector's text form `[0.1,0.2]` is a JSON array; kept as numbers when it parses, as text otherwise. */
function vectorValue(v: unknown): unknown {
  if (typeof v !== 'string' || !v.startsWith('[')) return v;
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'number') ? parsed : v;
  } catch {
    return v;
  }
}

/**
 * A row whose columns are text, as `::text` reads them from the source database or a CSV export holds
 * them: JSON columns parsed, timestamps made ISO, the vector as numbers. Null columns stay null; a null
 * vector is left out (so `extra` stays empty). A JSON column that does not parse is the row's error.
 */
export function regimeFromText(
  row: Record<string, string | null | undefined>,
  fields: Field[],
): { record: Record<string, unknown> } | { error: string } {
  const kinds = new Map(fields.map((f) => [f.api, f.kind]));
  const record: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) {
      if (kinds.has(k)) record[k] = null;
      continue;
    }
    const kind = kinds.get(k);
    if (k === VECTOR_COLUMN) record[k] = vectorValue(v);
    else if (kind === 'json') {
      try {
        record[k] = JSON.parse(v);
      } catch (err) {
        return { error: `${k}: not valid JSON (${(err as Error).message})` };
      }
    } else if (kind === 'ts') record[k] = isoTimestamp(v);
    else record[k] = v;
  }
  return { record };
}

/** A JSON Lines row (JSON columns already objects): timestamps made ISO, the vector as numbers. */
export function regimeFromJson(obj: Record<string, unknown>, fields: Field[]): Record<string, unknown> {
  const record: Record<string, unknown> = { ...obj };
  for (const f of fields)
    if (f.kind === 'ts' && typeof record[f.api] === 'string') record[f.api] = isoTimestamp(record[f.api] as string);
  if (record[VECTOR_COLUMN] === null) delete record[VECTOR_COLUMN];
  else if (VECTOR_COLUMN in record) record[VECTOR_COLUMN] = vectorValue(record[VECTOR_COLUMN]);
  return record;
}

const time = (v: unknown): number => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
};
const desc = (a: number, b: number) => (a === b ? 0 : a > b ? -1 : 1);

/** Sorts copies of one day latest first: updated_at, then created_at; a missing or unreadable time counts as oldest. */
export function latestFirst(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return desc(time(a.updated_at), time(b.updated_at)) || desc(time(a.created_at), time(b.created_at));
}
