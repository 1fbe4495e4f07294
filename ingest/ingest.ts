import type { Database } from '../runner/db/connect.ts';
import type { Logger } from '../runner/log.ts';
import { ApiAuthError, type ApiClient } from './client.ts';
import type { EndpointSpec } from './endpoints.ts';
import { Progress } from './progress.ts';
import { IngestWindowError, runWindow, type ListingSummary, type WindowLoad } from './window.ts';

export { IngestWindowError, type ListingSummary } from './window.ts';

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
  /** Share of a window's records that may fail validation before the window fails (default 1%). */
  maxRejectShare?: number;
}

function dateRange(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${start}T00:00:00Z`); d <= new Date(`${end}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1))
    out.push(d.toISOString().slice(0, 10));
  return out;
}

export interface Listing {
  windowKey: string;
  params: Record<string, string>;
  windowed: boolean;
  /** The days the window covers (empty for undated listings). */
  days: string[];
}

/** Each listing once per batch of `spec.accountBatch` account ids, keyed by the batch's first and last id. */
function perAccountBatch(spec: EndpointSpec, listings: Listing[], accountIds: string[]): Listing[] {
  const size = spec.accountBatch ?? accountIds.length;
  const out: Listing[] = [];
  for (const l of listings) {
    for (let i = 0; i < accountIds.length; i += size) {
      const batch = accountIds.slice(i, i + size);
      out.push({
        ...l,
        windowKey: `${l.windowKey} accounts ${batch[0]}..${batch[batch.length - 1]}`,
        params: { ...l.params, accountIds: batch.join(',') },
      });
    }
  }
  return out;
}

export function listingsFor(
  spec: EndpointSpec,
  options: Pick<IngestOptions, 'startDate' | 'endDate' | 'batchDays'>,
  accountIds?: string[],
): Listing[] {
  const listings = datedListings(spec, options);
  return spec.accountBatch && accountIds ? perAccountBatch(spec, listings, accountIds) : listings;
}

function datedListings(
  spec: EndpointSpec,
  options: Pick<IngestOptions, 'startDate' | 'endDate' | 'batchDays'>,
): Listing[] {
  if (!spec.windowParams) return [{ windowKey: 'all', params: {}, windowed: false, days: [] }];
  if (!options.startDate || !options.endDate)
    throw new Error(`${spec.name} is fetched by date: pass --start-date and --end-date`);
  const days = dateRange(options.startDate, options.endDate);
  const out: Listing[] = [];
  for (let i = 0; i < days.length; i += options.batchDays) {
    const chunk = days.slice(i, i + options.batchDays);
    const sets = spec.windowParams(chunk);
    // One request set per day (hourly metrics) is checkpointed per day; otherwise per window.
    const perDay = sets.length === chunk.length && sets.length > 1;
    for (const [j, params] of sets.entries()) {
      out.push({
        windowKey: perDay ? chunk[j] : `${chunk[0]}..${chunk[chunk.length - 1]}`,
        params,
        windowed: true,
        days: perDay ? [chunk[j]] : chunk,
      });
    }
  }
  return out;
}

/**
 * Fetches every listing of one endpoint into its raw table. Pages are fetched `concurrency` at a time
 * but landed in order, so the checkpoint (next skip) always marks a gap-free prefix. On PostgreSQL the
 * next window is read while the last flush of the one before lands (each window has its own scratch
 * table and checkpoint row; at most one window lands behind the one being read). PGlite is one session,
 * so there windows run one after another.
 */
export async function ingestEndpoint(
  db: Database,
  client: ApiClient,
  spec: EndpointSpec,
  options: IngestOptions,
  log: Logger,
): Promise<ListingSummary[]> {
  const overlap = db.target.kind === 'postgres';
  const running: Promise<ListingSummary>[] = [];
  let failed = false;
  let accountIds: string[] | undefined;
  if (spec.accountBatch) {
    const rows = await db.knex('raw.metrics_alltime').distinct('account_id').orderBy('account_id');
    accountIds = rows.map((r: { account_id: string }) => r.account_id);
    if (accountIds.length === 0) {
      throw new IngestWindowError(
        spec.name,
        'all',
        0,
        `the API answers ${spec.name} for at most ${spec.accountBatch} accountIds a request, and raw.metrics_alltime ` +
          'holds no account yet: run dpm ingest metrics alltime first',
      );
    }
  }
  for (const listing of listingsFor(spec, options, accountIds)) {
    // The window before the previous one must have landed before a third one starts.
    if (running.length >= 2) await running[running.length - 2].catch(() => undefined);
    if (failed) break;
    let readDone!: () => void;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    const progress = new Progress(spec.name, log);
    const window = runWindow(
      db,
      spec,
      { key: listing.windowKey, windowed: listing.windowed, resumable: true },
      options,
      log,
      progress,
      (load, resume) => readListing(client, spec, listing, options.concurrency, load, resume, progress, log),
      {
        fatal: (err) => err instanceof ApiAuthError,
        onLastFlush: overlap ? readDone : undefined,
      },
    );
    running.push(window);
    window.then(readDone, () => {
      failed = true;
      readDone();
    });
    await read;
    if (failed) break;
  }
  // Every window started is waited for; the first failure (in window order) is the endpoint's.
  const results = await Promise.allSettled(running);
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
  return results.map((r) => (r as PromiseFulfilledResult<ListingSummary>).value);
}

/**
 * Reads one listing page by page. With `total` known the listing ends at `total`: a page shorter than asked
 * only means the server's page size is smaller, and the cursor moves by what came back. Without `total` a short
 * page ends it. An empty page before `total` is reached fails the window rather than truncating it.
 */
async function readListing(
  client: ApiClient,
  spec: EndpointSpec,
  listing: Listing,
  concurrency: number,
  load: WindowLoad,
  resume: number,
  progress: Progress,
  log: Logger,
): Promise<void> {
  const includeTotal = spec.path.startsWith('v2/');
  const limit = spec.pageLimit;
  const fetchPage = (skip: number) => client.page(spec.path, listing.params, skip, limit, includeTotal);
  const first = await fetchPage(resume);
  // The total is re-read from every page: rows inserted ahead of the cursor make it grow (and shift
  // later pages back, repeating records that the key set then counts as duplicates).
  let total = first.total;
  // Pages are fetched ahead by the server's page size: the size asked until a shorter page says otherwise.
  let step = limit;
  progress.start(listing.windowKey, total === undefined ? undefined : Math.max(0, total - resume));
  let nextAhead = resume + step;
  const pending = new Map<number, Promise<Awaited<ReturnType<ApiClient['page']>>>>();
  const fetchAhead = () => {
    while (pending.size < concurrency && total !== undefined && nextAhead < total) {
      const s = nextAhead;
      nextAhead += step;
      const p = fetchPage(s);
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
      log.debug(
        `${spec.name} ${listing.windowKey}: total changed from ${total} to ${page.total} at skip=${skip}; ` +
          'refetching pages read ahead',
      );
      total = page.total;
      pending.clear();
      nextAhead = skip + step;
      progress.retotal(Math.max(0, total - resume));
    }
    if (page.records.length > 0 && page.records.length < step && total !== undefined) {
      // A page shorter than the step with more to come: the server's page size is smaller (from the first page
      // on, or lowered since); what was read ahead is off-grid.
      step = page.records.length;
      pending.clear();
      nextAhead = skip + page.records.length + step;
    }
    fetchAhead();
    for (const raw of page.records) load.offer(raw, skip);
    progress.advance(page.records.length);
    const landedSkip = skip + page.records.length;
    if (page.records.length === 0 && total !== undefined && landedSkip < total) {
      throw new ListingShortError(
        `the listing ended at record ${landedSkip} but its total said ${total}: ` +
          `${total - landedSkip} record(s) were not served`,
      );
    }
    const finished =
      page.records.length === 0 || (total !== undefined ? landedSkip >= total : page.records.length < limit);
    await load.page(landedSkip, finished);
    if (finished) return;
    skip = landedSkip;
    const next = pending.get(skip);
    pending.delete(skip);
    page = next ? await next : await fetchPage(skip);
  }
}

/** The API served fewer records than its own `total`; the window is left unfinished, never truncated. */
export class ListingShortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListingShortError';
  }
}
