// `dpm sim export-regimes`: the simulated firm's regimes in the shape of the upstream regimes source
// database, so that `dpm ingest regimes` can be run against a real PostgreSQL table end to end.
import pg from 'pg';
import { parseStartDate, Calendar } from './calendar.ts';
import { RegimeSeries, type RegimeRecord } from './regimes.ts';

/** The regimes of the firm with this seed, start and length (they depend on nothing else). */
export function regimeRecords(seed: number, startDate: string, days: number): RegimeRecord[] {
  const series = new RegimeSeries(seed, new Calendar(parseStartDate(startDate), days));
  return Array.from({ length: days }, (_, d) => series.record(d));
}

const TABLE_NAME = /^(?:([a-z_][a-z0-9_]*)\.)?([a-z_][a-z0-9_]*)$/;
const BATCH = 200;

/**
 * Writes the records into `table` (created when missing, with the upstream columns: `vector_daily_regime`
 * is a pgvector `vector` where the extension is installed, else text, and NULL either way: the simulator
 * has no embedding). The days written are replaced in one transaction, so an export can be repeated.
 */
export async function writeRegimesTable(
  url: string,
  table: string,
  records: RegimeRecord[],
): Promise<{ rows: number; vectorType: string }> {
  const m = TABLE_NAME.exec(table);
  if (!m) throw new Error(`--table ${JSON.stringify(table)}: use schema.table in lowercase letters, digits and _`);
  const [schema, name] = [m[1] ?? 'public', m[2]];
  const client = new pg.Client({ connectionString: url, application_name: 'dpm sim export-regimes' });
  await client.connect();
  try {
    const vectorType = (await client.query(`select exists (select 1 from pg_type where typname = 'vector') as ok`))
      .rows[0].ok
      ? 'vector'
      : 'text';
    await client.query('begin');
    await client.query(`create schema if not exists ${schema}`);
    await client.query(
      `create table if not exists ${schema}.${name} (date date not null, market_news jsonb, instruments jsonb, ` +
        'country_economic_indicators jsonb, news_analysis jsonb, summary jsonb,\n' +
        `       vector_daily_regime ${vectorType}, created_at timestamptz not null default now(), ` +
        'updated_at timestamptz not null default now())',
    );
    await client.query(`create index if not exists ${name}_date_idx on ${schema}.${name} (date)`);
    const days = records.map((r) => r.date.slice(0, 10)).sort();
    if (days.length)
      await client.query(`delete from ${schema}.${name} where date between $1 and $2`, [
        days[0],
        days[days.length - 1],
      ]);
    for (let i = 0; i < records.length; i += BATCH) {
      await client.query(
        `insert into ${schema}.${name} (date, market_news, instruments, country_economic_indicators, news_analysis, ` +
          'summary, created_at, updated_at)\n' +
          "         select left(r->>'date', 10)::date, r->'market_news', r->'instruments', " +
          "r->'country_economic_indicators', r->'news_analysis', r->'summary',\n" +
          "                (r->>'created_at')::timestamptz, (r->>'updated_at')::timestamptz\n" +
          '         from jsonb_array_elements($1::jsonb) r',
        [JSON.stringify(records.slice(i, i + BATCH))],
      );
    }
    await client.query('commit');
    return { rows: records.length, vectorType };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}
