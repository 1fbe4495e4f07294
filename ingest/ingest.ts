import type { Database } from '../runner/db/connect.ts';
import type { Logger } from '../runner/log.ts';
import { ApiAuthError, type ApiClient } from './client.ts';
import type { EndpointSpec } from './endpoints.ts';
import { Progress } from './progress.ts';
import { runWindow, type ListingSummary, type WindowLoad } from './window.ts';

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

export function listingsFor(
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
    sets.forEach((params, j) =>
      out.push({
        windowKey: perDay ? chunk[j] : `${chunk[0]}..${chunk[chunk.length - 1]}`,
        params,
        windowed: true,
        days: perDay ? [chunk[j]] : chunk,
      }),
    );
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
  for (const listing of listingsFor(spec, options)) {
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
  const first = await client.page(spec.path, listing.params, resume, limit, includeTotal);
  // The total is re-read from every page: rows inserted ahead of the cursor make it grow (and shift
  // later pages back, repeating records that the key set then counts as duplicates).
  let total = first.total;
  progress.start(listing.windowKey, total === undefined ? undefined : Math.max(0, total - resume));
  let nextAhead = resume + limit;
  const pending = new Map<number, Promise<Awaited<ReturnType<ApiClient['page']>>>>();
  const fetchAhead = () => {
    while (pending.size < concurrency && total !== undefined && nextAhead < total) {
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
      log.debug(
        `${spec.name} ${listing.windowKey}: total changed from ${total} to ${page.total} at skip=${skip}; refetching pages read ahead`,
      );
      total = page.total;
      pending.clear();
      nextAhead = skip + limit;
      progress.retotal(Math.max(0, total - resume));
    }
    fetchAhead();
    for (const raw of page.records) load.offer(raw, skip);
    progress.advance(page.records.length);
    const landedSkip = skip + page.records.length;
    const finished =
      page.records.length === 0 || page.records.length < limit || (total !== undefined && landedSkip >= total);
    await load.page(landedSkip, finished);
    if (finished) return;
    skip += limit;
    const next = pending.get(skip);
    pending.delete(skip);
    page = next ? await next : await client.page(spec.path, listing.params, skip, limit, includeTotal);
  }
}
