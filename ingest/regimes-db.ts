// `dpm ingest regimes` from the regimes source database: public.regimes_daily (or the configured table or
// view) read window by window through a server-side cursor, every column as text, the copies of a day
// sorted latest first so that the latest valid copy lands and the older ones count as duplicates.
import pg from 'pg';
import type { Database } from '../runner/db/connect.ts';
import { redact } from '../runner/db/redact.ts';
import { describeDbError, DpmError } from '../runner/errors.ts';
import type { Logger } from '../runner/log.ts';
import type { EndpointSpec } from './endpoints.ts';
import { listingsFor, type IngestOptions, type Listing } from './ingest.ts';
import { Progress } from './progress.ts';
import { describePgUrl, latestFirst, regimeFromText, VECTOR_COLUMN, type RegimesSource } from './regimes.ts';
import { runWindow, type ListingSummary, type WindowLoad } from './window.ts';

/** The source database cannot be read as configured (unreachable, no such table, missing columns). */
export class RegimesSourceError extends DpmError {
  constructor(message: string) {
    super(`regimes: ${message}`);
  }
}

/** Rows per FETCH: a year of days with a large vector each is still a few MB. */
const FETCH_ROWS = 500;

interface OpenSource {
  client: pg.Client;
  /** The relation as the server names it (quoted where needed). */
  relation: string;
  select: string;
  /** The date column as a date, for the window filter and the order. */
  day: string;
  vector: boolean;
  ignored: string[];
  undated: number;
}

const quote = (c: string) => `"${c.replace(/"/g, '""')}"`;

async function openSource(
  source: Extract<RegimesSource, { kind: 'database' }>,
  spec: EndpointSpec,
): Promise<OpenSource> {
  const where = describePgUrl(source.url);
  const client = new pg.Client({
    connectionString: source.url,
    application_name: 'dpm ingest regimes',
    connectionTimeoutMillis: 15_000,
  });
  client.on('error', () => undefined); // a connection lost mid-run surfaces on the next query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new RegimesSourceError(
      redact(
        `cannot connect to the regimes source database ${where}: ${describeDbError(err)}. ` +
          `Check ${source.why} (server up and reachable, database name, user and password), ` +
          'or unset it to skip the regimes.',
      ),
    );
  }
  try {
    // Text forms that read back the same everywhere: ISO dates, timestamps in UTC.
    await client.query(`set timezone = 'UTC'; set datestyle = 'ISO, YMD'`);
    const hint =
      'Point DPM_REGIMES_TABLE (or regimes-source.table in dpm.yml) ' +
      'at the table or view that holds the daily regimes';
    let relation: string | null;
    try {
      const { rows } = await client.query(
        "select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as rel " +
          'from (select to_regclass($1) as oid) r left join pg_class c on c.oid = r.oid ' +
          'left join pg_namespace n on n.oid = c.relnamespace',
        [source.table],
      );
      relation = rows[0].rel;
    } catch (err) {
      throw new RegimesSourceError(
        `the regimes table name ${JSON.stringify(source.table)} is not a table name (${describeDbError(err)}). ` +
          `${hint}, as schema.table.`,
      );
    }
    if (!relation)
      throw new RegimesSourceError(
        `the regimes source database ${where} has no table ${source.table}. ` +
          `${hint}, or check that ${source.why} names the right database.`,
      );
    const { rows: cols } = await client.query<{ name: string; type: string }>(
      'select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute ' +
        'where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum',
      [relation],
    );
    const types = new Map(cols.map((c) => [c.name, c.type]));
    const wanted = spec.fields.map((f) => f.column);
    const missing = wanted.filter((c) => !types.has(c));
    if (missing.length) {
      throw new RegimesSourceError(
        `table ${relation} of the regimes source database ${where} has no column${missing.length > 1 ? 's' : ''} ` +
          `${missing.join(', ')}. dpm reads ${wanted.join(', ')} (and ${VECTOR_COLUMN} when there is one). ` +
          `Add the missing columns, or point DPM_REGIMES_TABLE at a view that gives them these names.`,
      );
    }
    const dateType = types.get('date')!;
    if (dateType !== 'date' && !dateType.startsWith('timestamp')) {
      throw new RegimesSourceError(
        `column date of ${relation} is ${dateType}; dpm needs a date (or timestamp) to cut the days into windows. ` +
          'Point DPM_REGIMES_TABLE at a view that casts it (select date::date as date, ...).',
      );
    }
    const day = dateType === 'date' ? quote('date') : `${quote('date')}::date`;
    // Every column as text, converted like a CSV export: a column kept as text upstream (JSON or a time
    // that does not parse) becomes a rejected record, not a failed query. A timestamp without a time zone
    // is taken as UTC.
    const text = (c: string) =>
      c === 'date'
        ? `${day}::text`
        : /^timestamp(\(\d\))? without time zone$/.test(types.get(c)!)
          ? `${quote(c)}::timestamptz::text`
          : `${quote(c)}::text`;
    const vector = types.has(VECTOR_COLUMN);
    const select = [...wanted, ...(vector ? [VECTOR_COLUMN] : [])].map((c) => `${text(c)} as ${quote(c)}`).join(', ');
    const ignored = cols.map((c) => c.name).filter((c) => !wanted.includes(c) && c !== VECTOR_COLUMN);
    const undated = (await client.query(`select count(*)::int as n from ${relation} where ${quote('date')} is null`))
      .rows[0].n as number;
    return { client, relation, select, day, vector, ignored, undated };
  } catch (err) {
    await client.end().catch(() => undefined);
    if (err instanceof RegimesSourceError) throw err;
    throw new RegimesSourceError(
      redact(`the regimes source database ${where} (table ${source.table}): ${describeDbError(err)}`),
    );
  }
}

export async function ingestRegimesFromDatabase(
  db: Database,
  spec: EndpointSpec,
  source: Extract<RegimesSource, { kind: 'database' }>,
  options: IngestOptions,
  log: Logger,
): Promise<ListingSummary[]> {
  const src = await openSource(source, spec);
  try {
    log.info(
      `regimes from source database ${describePgUrl(source.url)} table ${src.relation} (${source.why}); ` +
        (src.vector ? `${VECTOR_COLUMN} read as text, kept in extra.${VECTOR_COLUMN}` : `no ${VECTOR_COLUMN} column`) +
        (src.ignored.length ? `; columns not read: ${src.ignored.join(', ')}` : ''),
    );
    if (src.undated)
      log.warn(
        `${src.undated} row(s) of ${src.relation} have no date: they belong to no day and are not read. ` +
          'Give them a date at the source.',
      );
    const progress = new Progress(spec.name, log);
    const out: ListingSummary[] = [];
    for (const listing of listingsFor(spec, options)) {
      out.push(
        await runWindow(
          db,
          spec,
          { key: listing.windowKey, windowed: true, resumable: false },
          options,
          log,
          progress,
          (load) => readWindow(src, spec, listing, load, progress),
          { showRejections: true },
        ),
      );
    }
    return out;
  } finally {
    await src.client.end().catch(() => undefined);
  }
}

/** One window's rows in one read-only snapshot; the copies of each day go to the load latest first. */
async function readWindow(
  src: OpenSource,
  spec: EndpointSpec,
  listing: Listing,
  load: WindowLoad,
  progress: Progress,
): Promise<void> {
  // Errors of the source say so: the target's (landing) come through as they are.
  const query = <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
    src.client.query<R>(sql, params).catch((err: unknown) => {
      throw new Error(`reading ${src.relation} from the regimes source database: ${describeDbError(err)}`);
    });
  progress.start(listing.windowKey, undefined);
  await query('begin isolation level repeatable read read only');
  try {
    await query(
      `declare dpm_regimes no scroll cursor for select ${src.select} from ${src.relation} ` +
        `where ${src.day} between $1::date and $2::date order by ${src.day}`,
      [listing.days[0], listing.days[listing.days.length - 1]],
    );
    let read = 0;
    let day: { at: number; row: Record<string, string | null> }[] = [];
    const land = () => {
      const copies = day.map((c) => ({ ...c, conv: regimeFromText(c.row, spec.fields) }));
      copies.sort((a, b) =>
        latestFirst('record' in a.conv ? a.conv.record : {}, 'record' in b.conv ? b.conv.record : {}),
      );
      for (const c of copies) {
        const id = `${src.relation} date ${c.row.date} updated_at ${c.row.updated_at ?? 'null'}`;
        if ('error' in c.conv) load.reject(c.row, c.at, id, c.conv.error);
        else load.offer(c.conv.record, c.at, id, c.row);
      }
      day = [];
    };
    for (;;) {
      const { rows } = await query<Record<string, string | null>>(`fetch ${FETCH_ROWS} from dpm_regimes`);
      for (const row of rows) {
        if (day.length && day[0].row.date !== row.date) land();
        day.push({ at: read++, row });
      }
      progress.advance(rows.length);
      const finished = rows.length < FETCH_ROWS;
      if (finished) land();
      await load.page(read, finished);
      if (finished) break;
    }
    await query('commit');
  } catch (err) {
    await src.client.query('rollback').catch(() => undefined);
    throw err;
  }
}
