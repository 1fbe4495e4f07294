import type { Database } from '../db/connect.ts';
import { redact } from '../db/redact.ts';
import type { Logger } from '../log.ts';
import { formatCount } from '../log.ts';
import { ApiAuthError, type ApiClient } from './client.ts';
import type { EndpointSpec } from './endpoints.ts';
import { csvLine, Lander, type Rejection } from './landing.ts';
import { Progress } from './progress.ts';

export interface IngestOptions {
  startDate?: string;
  endDate?: string;
  batchDays: number;
  /** Pages fetched at once within a listing. */
  concurrency: number;
  /** Rows buffered before a COPY + upsert + checkpoint. */
  flushRows: number;
  /** Refetch windows that a previous run finished. */
  force: boolean;
}

export interface ListingSummary {
  endpoint: string;
  window: string;
  status: 'done' | 'skipped';
  fetched: number;
  loaded: number;
  rejected: number;
  duplicates: number;
  seconds: number;
}

function dateRange(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${start}T00:00:00Z`); d <= new Date(`${end}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10));
  return out;
}

interface Listing {
  windowKey: string;
  params: Record<string, string>;
  windowed: boolean;
}

export function listingsFor(spec: EndpointSpec, options: Pick<IngestOptions, 'startDate' | 'endDate' | 'batchDays'>): Listing[] {
  if (!spec.windowParams) return [{ windowKey: 'all', params: {}, windowed: false }];
  if (!options.startDate || !options.endDate) throw new Error(`${spec.name} is fetched by date: pass --start-date and --end-date`);
  const days = dateRange(options.startDate, options.endDate);
  const out: Listing[] = [];
  for (let i = 0; i < days.length; i += options.batchDays) {
    const chunk = days.slice(i, i + options.batchDays);
    const sets = spec.windowParams(chunk);
    // One request set per day (hourly metrics) is checkpointed per day; otherwise per window.
    sets.forEach((params, j) => out.push({ windowKey: sets.length === chunk.length && sets.length > 1 ? chunk[j] : `${chunk[0]}..${chunk[chunk.length - 1]}`, params, windowed: true }));
  }
  return out;
}

/**
 * Fetches every listing of one endpoint into its raw table. Pages are fetched `concurrency` at a time
 * but landed in order, so the checkpoint (next skip) always marks a gap-free prefix.
 */
export async function ingestEndpoint(db: Database, client: ApiClient, spec: EndpointSpec, options: IngestOptions, log: Logger): Promise<ListingSummary[]> {
  const summaries: ListingSummary[] = [];
  const known = new Set(spec.fields.map((f) => f.api));
  const keyFields = spec.key.map((c) => spec.fields.find((f) => f.column === c)!.api);
  const progress = new Progress(spec.name, log);
  for (const listing of listingsFor(spec, options)) {
    const t0 = Date.now();
    const cp = await db.knex('dpm.ingest_checkpoints').where({ endpoint: spec.name, window_key: listing.windowKey }).first();
    if (cp?.status === 'done' && listing.windowed && !options.force) {
      summaries.push({ endpoint: spec.name, window: listing.windowKey, status: 'skipped', fetched: 0, loaded: 0, rejected: 0, duplicates: 0, seconds: 0 });
      continue;
    }
    const resume = cp?.status === 'running' ? Number(cp.next_skip) : 0;
    const counts = resume ? { fetched: Number(cp.fetched), loaded: Number(cp.loaded), rejected: Number(cp.rejected), duplicates: Number(cp.duplicates) } : { fetched: 0, loaded: 0, rejected: 0, duplicates: 0 };
    if (resume) log.info(`${spec.name} ${listing.windowKey}: resuming at record ${formatCount(resume)} from the checkpoint of an interrupted run`);
    await db
      .knex('dpm.ingest_checkpoints')
      .insert({ endpoint: spec.name, window_key: listing.windowKey, status: 'running', next_skip: resume, ...counts, updated_at: new Date() })
      .onConflict(['endpoint', 'window_key'])
      .merge();

    const lander = new Lander(db, spec);
    const seen = new Set<string>();
    let lines: string[] = [];
    let rejections: Rejection[] = [];
    let landedSkip = resume;
    let checkpointedSkip = resume;
    let flushing: Promise<void> | undefined;
    const includeTotal = spec.path.startsWith('v2/');
    const limit = spec.pageLimit;
    try {
      const first = await client.page(spec.path, listing.params, resume, limit, includeTotal);
      // The total is re-read from every page: rows inserted ahead of the cursor make it grow (and shift
      // later pages back, repeating records that the key set then counts as duplicates).
      let total = first.total;
      progress.start(listing.windowKey, total === undefined ? undefined : Math.max(0, total - resume));
      let nextAhead = resume + limit;
      const pending = new Map<number, Promise<Awaited<ReturnType<ApiClient['page']>>>>();
      const fetchAhead = () => {
        while (pending.size < options.concurrency && total !== undefined && nextAhead < total) {
          const s = nextAhead;
          nextAhead += limit;
          const p = client.page(spec.path, listing.params, s, limit, includeTotal);
          p.catch(() => undefined); // surfaced when awaited in order below
          pending.set(s, p);
        }
      };
      let skip = resume;
      let page = first;
      for (;;) {
        if (page.total !== undefined && page.total !== total) {
          // The listing changed under the cursor. Pages fetched ahead may predate the change: drop them and
          // refetch from here, so every later page is read after the change (rows inserted ahead then show
          // up as duplicates instead of falling into a gap between pages).
          log.debug(`${spec.name} ${listing.windowKey}: total changed from ${total} to ${page.total} at skip=${skip}; refetching pages read ahead`);
          total = page.total;
          pending.clear();
          nextAhead = skip + limit;
          progress.retotal(Math.max(0, total - resume));
        }
        fetchAhead();
        for (const raw of page.records) {
          counts.fetched++;
          const parsed = spec.schema.safeParse(raw);
          if (!parsed.success) {
            counts.rejected++;
            const issue = parsed.error.issues[0];
            rejections.push({ pageSkip: skip, recordId: spec.recordId((raw ?? {}) as Record<string, unknown>), payload: raw, error: `${issue.path.join('.') || 'record'}: ${issue.message}` });
            continue;
          }
          const rec = parsed.data as Record<string, unknown>;
          const key = keyFields.map((k) => String(rec[k])).join('\u0001');
          if (seen.has(key)) {
            counts.duplicates++;
            continue;
          }
          seen.add(key);
          counts.loaded++;
          lines.push(csvLine(spec, rec, known));
        }
        progress.advance(page.records.length);
        landedSkip = skip + page.records.length;
        const finished = page.records.length === 0 || page.records.length < limit || (total !== undefined && landedSkip >= total);
        if (finished || lines.length >= options.flushRows) {
          // One flush in flight at a time: the database lands this batch while the next pages are parsed.
          await flushing;
          const nextSkip = landedSkip;
          flushing = lander.flush(lines, rejections, spec.name, listing.windowKey, { nextSkip, ...counts, done: finished }).then(() => {
            checkpointedSkip = nextSkip;
          });
          flushing.catch(() => undefined); // surfaced when awaited
          lines = [];
          rejections = [];
        }
        if (finished) {
          await flushing;
          break;
        }
        skip += limit;
        const next = pending.get(skip);
        pending.delete(skip);
        page = next ? await next : await client.page(spec.path, listing.params, skip, limit, includeTotal);
      }
    } catch (err) {
      progress.stop();
      await flushing?.catch(() => undefined);
      throw new IngestWindowError(spec.name, listing.windowKey, checkpointedSkip, (err as Error).message, err instanceof ApiAuthError);
    } finally {
      await lander.close();
    }
    progress.stop();
    const seconds = (Date.now() - t0) / 1000;
    const s: ListingSummary = { endpoint: spec.name, window: listing.windowKey, status: 'done', ...counts, seconds };
    summaries.push(s);
    log.info(
      `${spec.name} ${listing.windowKey}: fetched ${formatCount(s.fetched)} = loaded ${formatCount(s.loaded)} + rejected ${formatCount(s.rejected)} + duplicates ${formatCount(s.duplicates)} in ${seconds.toFixed(1)}s (${formatCount(s.fetched / Math.max(seconds, 0.001))} records/s)`,
      { endpoint: spec.name, window: listing.windowKey, ...counts, seconds },
    );
    if (s.rejected) log.warn(`${spec.name} ${listing.windowKey}: ${s.rejected} record(s) failed validation; see raw.rejected_records (endpoint='${spec.name}', window_key='${listing.windowKey}')`);
  }
  return summaries;
}

export class IngestWindowError extends Error {
  constructor(
    endpoint: string,
    windowKey: string,
    landed: number,
    cause: string,
    /** The API refused the key: no other source can succeed either. */
    readonly fatal = false,
  ) {
    super(redact(`${endpoint} ${windowKey}: ${cause.replace(/\.$/, '')}. Records before skip=${landed} are landed and checkpointed; rerun the same command to resume.`));
    this.name = 'IngestWindowError';
  }
}
