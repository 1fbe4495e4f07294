// One window of one source on its way into its raw table, whatever the source is (API pages, rows of a
// source database, lines of a file): checkpoint bookkeeping, validation, the key set that counts
// duplicates, the COPY + upsert flushes and the reconciliation line.
import type { Database } from '../runner/db/connect.ts';
import { redact } from '../runner/db/redact.ts';
import { formatCount, type Logger } from '../runner/log.ts';
import type { EndpointSpec } from './endpoints.ts';
import type { Encoded } from './encoder.ts';
import { csvLine, Lander, type Rejection } from './landing.ts';
import type { Progress } from './progress.ts';

export interface Counts {
  fetched: number;
  loaded: number;
  rejected: number;
  duplicates: number;
}

export interface ListingSummary extends Counts {
  endpoint: string;
  window: string;
  status: 'done' | 'skipped';
  seconds: number;
}

export interface WindowPlan {
  key: string;
  /** A dated window that a previous run finished is skipped without --force; undated ones are always read. */
  windowed: boolean;
  /** Whether an interrupted window continues at its checkpoint (API listings) or is read again from the start. */
  resumable: boolean;
}

export interface WindowOptions {
  force: boolean;
  /** Records buffered before a COPY + upsert + checkpoint. */
  flushRows: number;
  /** Share of a window's records that may fail validation before the window fails (default 1%). */
  maxRejectShare?: number;
}

export const DEFAULT_MAX_REJECT_SHARE = 0.01;
/** Reasons a failed window prints on the terminal, the first ones met. */
const REASONS_SHOWN = 5;

/** Rejections printed one by one per window (file and database sources), before a count of the rest. */
const REJECTIONS_SHOWN = 20;

/**
 * The records of one window: each is validated (a failure goes to raw.rejected_records), checked against
 * the keys seen in the window (a repeat counts as a duplicate: the first copy offered wins) and buffered
 * as a COPY line. `page` flushes when the buffer is full or the window is finished, with one flush in
 * flight while the source reads on.
 */
export class WindowLoad {
  readonly counts: Counts;
  /** Records before this position are landed and checkpointed: where a resumed run starts. */
  checkpointedSkip: number;
  private readonly known: Set<string>;
  private readonly keyFields: string[];
  private readonly seen = new Set<string>();
  private lines: string[] = [];
  private rejections: Rejection[] = [];
  private flushing: Promise<void> | undefined;
  private shown = 0;
  /** The first rejections' `record id: reason`, for the message of a window that rejected too many. */
  readonly firstReasons: string[] = [];
  private readonly encoded: Encoded = { key: '', line: '' };
  /** Called once the window's last flush is handed to the database (the reader is done with the source). */
  onLastFlush?: () => void;

  constructor(
    private readonly lander: Lander,
    private readonly spec: EndpointSpec,
    private readonly windowKey: string,
    resume: number,
    counts: Counts,
    private readonly flushRows: number,
    /** Prints rejections as they happen (sources whose records have a place a person can look up: file:line). */
    private readonly log?: Logger,
  ) {
    this.counts = counts;
    this.checkpointedSkip = resume;
    this.known = new Set(spec.fields.map((f) => f.api));
    this.keyFields = spec.key.map((c) => spec.fields.find((f) => f.column === c)!.api);
  }

  /** The record as the schema reads it, or its first problem as `<field>: <message>`. */
  validate(raw: unknown): { ok: true; record: Record<string, unknown> } | { ok: false; error: string } {
    const parsed = this.spec.schema.safeParse(raw);
    if (parsed.success) return { ok: true, record: parsed.data as Record<string, unknown> };
    const issue = parsed.error.issues[0];
    const field = issue.path[0];
    if (typeof field === 'string' && typeof raw === 'object' && raw !== null) {
      const value = (raw as Record<string, unknown>)[field];
      if (value === undefined) return { ok: false, error: `${field}: missing` };
      if (value === null) return { ok: false, error: `${field}: missing (null)` };
    }
    return { ok: false, error: `${issue.path.join('.') || 'record'}: ${issue.message}` };
  }

  /**
   * One record from the source, found at `at` (page skip, row or line number); `payload` is what a rejection keeps
   * (default: the record).
   */
  offer(raw: unknown, at: number, recordId?: string, payload: unknown = raw): void {
    const out = this.encoded;
    let key: string;
    let line: string | undefined;
    if (this.spec.encode(raw, out)) {
      key = out.key;
      line = out.line;
    } else {
      // Not certainly valid on the fast path: zod decides, and words the rejection.
      const v = this.validate(raw);
      if (!v.ok) {
        this.reject(payload, at, recordId ?? this.spec.recordId((raw ?? {}) as Record<string, unknown>), v.error);
        return;
      }
      key = this.keyFields.map((k) => String(v.record[k])).join('\u0001');
      if (!this.seen.has(key)) line = csvLine(this.spec, v.record, this.known);
    }
    this.counts.fetched++;
    if (this.seen.has(key)) {
      this.counts.duplicates++;
      return;
    }
    this.seen.add(key);
    this.counts.loaded++;
    this.lines.push(line!);
  }

  /** Keys this window landed before a resumed run's checkpoint: a later copy of one is a duplicate, not new. */
  knowLanded(keys: Iterable<string>): void {
    for (const k of keys) this.seen.add(k);
  }

  /** A record that failed before validation (not JSON, a broken CSV row) or its validation. */
  reject(raw: unknown, at: number, recordId: string, error: string): void {
    this.counts.fetched++;
    this.counts.rejected++;
    this.rejections.push({ pageSkip: at, recordId, payload: raw, error });
    if (this.firstReasons.length < REASONS_SHOWN) this.firstReasons.push(`${recordId}: ${error}`);
    if (this.log && this.shown++ < REJECTIONS_SHOWN) this.log.warn(`${this.spec.name}: rejected ${recordId}: ${error}`);
  }

  /** A record the source itself knows to be superseded (an older copy of the same key). */
  duplicate(): void {
    this.counts.fetched++;
    this.counts.duplicates++;
  }

  /** After a page (or batch of rows): `nextSkip` records are read; flushes when due, and waits for it when finished. */
  async page(nextSkip: number, finished: boolean): Promise<void> {
    if (finished || this.lines.length >= this.flushRows) {
      // One flush in flight at a time: the database lands this batch while the next pages are parsed.
      await this.flushing;
      const flush = this.lander
        .flush(this.lines, this.rejections, this.spec.name, this.windowKey, {
          nextSkip,
          ...this.counts,
          done: finished,
        })
        .then(() => {
          this.checkpointedSkip = nextSkip;
        });
      flush.catch(() => undefined); // surfaced when awaited
      this.flushing = flush;
      this.lines = [];
      this.rejections = [];
    }
    if (finished) {
      this.onLastFlush?.();
      await this.flushing;
    }
  }

  /** Waits for the flush in flight, whatever its outcome (after a failure, before reporting the checkpoint). */
  async settle(): Promise<void> {
    await this.flushing?.catch(() => undefined);
  }

  get shownRejections(): number {
    return Math.min(this.shown, REJECTIONS_SHOWN);
  }
}

/**
 * Runs one window: skips it when a previous run finished it, marks it running, lets `read` feed the
 * records into a WindowLoad (and call `page` as it goes, with `finished` at the end), then logs the
 * reconciliation fetched = loaded + rejected + duplicates. A failure becomes an IngestWindowError that
 * says where the checkpoint stands.
 */
export async function runWindow(
  db: Database,
  spec: EndpointSpec,
  plan: WindowPlan,
  options: WindowOptions,
  log: Logger,
  progress: Progress,
  read: (load: WindowLoad, resume: number) => Promise<void>,
  more: { fatal?: (err: unknown) => boolean; showRejections?: boolean; onLastFlush?: () => void } = {},
): Promise<ListingSummary> {
  const t0 = Date.now();
  const cp = await db.knex('dpm.ingest_checkpoints').where({ endpoint: spec.name, window_key: plan.key }).first();
  if (cp?.status === 'done' && plan.windowed && !options.force) {
    return {
      endpoint: spec.name,
      window: plan.key,
      status: 'skipped',
      fetched: 0,
      loaded: 0,
      rejected: 0,
      duplicates: 0,
      seconds: 0,
    };
  }
  // A window failed for its rejections is read again whole: its source or the field table has changed.
  const resume = cp?.status === 'running' && plan.resumable ? Number(cp.next_skip) : 0;
  const counts: Counts = resume
    ? {
        fetched: Number(cp.fetched),
        loaded: Number(cp.loaded),
        rejected: Number(cp.rejected),
        duplicates: Number(cp.duplicates),
      }
    : { fetched: 0, loaded: 0, rejected: 0, duplicates: 0 };
  if (resume)
    log.info(
      `${spec.name} ${plan.key}: resuming at record ${formatCount(resume)} from the checkpoint of an interrupted run`,
    );
  else if (cp?.status === 'running')
    log.info(
      `${spec.name} ${plan.key}: an interrupted run left this window unfinished; reading it again from the start`,
    );
  await db
    .knex('dpm.ingest_checkpoints')
    .insert({
      endpoint: spec.name,
      window_key: plan.key,
      status: 'running',
      next_skip: resume,
      ...counts,
      updated_at: new Date(),
      // A resumed window keeps the time it first started; the merge below leaves it alone then.
      ...(resume ? {} : { started_at: db.knex.fn.now() }),
    })
    .onConflict(['endpoint', 'window_key'])
    .merge();

  // A window never finished before is expected to bring new keys: try the direct COPY (PostgreSQL only,
  // where a COPY can share the checkpoint's transaction). A forced re-read of a finished one upserts.
  const lander = new Lander(db, spec, db.target.kind === 'postgres' && cp?.status !== 'done');
  const load = new WindowLoad(
    lander,
    spec,
    plan.key,
    resume,
    counts,
    options.flushRows,
    more.showRejections ? log : undefined,
  );
  load.onLastFlush = more.onLastFlush;
  if (resume && cp?.started_at) load.knowLanded(await keysLandedSince(db, spec, cp.started_at));
  try {
    await read(load, resume);
  } catch (err) {
    progress.stop();
    await load.settle();
    throw new IngestWindowError(
      spec.name,
      plan.key,
      load.checkpointedSkip,
      (err as Error).message,
      more.fatal?.(err) ?? false,
    );
  } finally {
    await lander.close();
  }
  progress.stop();
  const share = options.maxRejectShare ?? DEFAULT_MAX_REJECT_SHARE;
  if (counts.rejected > 0 && (counts.rejected === counts.fetched || counts.rejected > share * counts.fetched)) {
    await db
      .knex('dpm.ingest_checkpoints')
      .where({ endpoint: spec.name, window_key: plan.key })
      .update({ status: 'rejected', next_skip: 0, updated_at: new Date() });
    throw new RejectedWindowError(spec.name, plan.key, counts, share, load.firstReasons);
  }
  const seconds = (Date.now() - t0) / 1000;
  const s: ListingSummary = { endpoint: spec.name, window: plan.key, status: 'done', ...counts, seconds };
  log.info(
    `${spec.name} ${plan.key}: fetched ${formatCount(s.fetched)} = loaded ${formatCount(s.loaded)} ` +
      `+ rejected ${formatCount(s.rejected)} + duplicates ${formatCount(s.duplicates)} ` +
      `in ${seconds.toFixed(1)}s (${formatCount(s.fetched / Math.max(seconds, 0.001))} records/s)`,
    { endpoint: spec.name, window: plan.key, ...counts, seconds },
  );
  if (s.rejected) {
    const unshown = s.rejected - load.shownRejections;
    const rest = more.showRejections && unshown > 0 ? ` (${unshown} not shown above)` : '';
    log.warn(
      `${spec.name} ${plan.key}: ${s.rejected} record(s) failed validation${rest}; ` +
        `see raw.rejected_records (endpoint='${spec.name}', window_key='${plan.key}')`,
    );
  }
  return s;
}

export class IngestWindowError extends Error {
  constructor(
    endpoint: string,
    windowKey: string,
    landed: number,
    cause: string,
    /** The source refused us (the API's 401/403): no other source can succeed either. */
    readonly fatal = false,
  ) {
    // A refused key is not fixed by rerunning; anything else (network, 5xx, a short listing) usually is.
    const next = fatal
      ? `Records before skip=${landed} are landed and checkpointed.`
      : `Records before skip=${landed} are landed and checkpointed; rerun the same command to resume.`;
    super(redact(`${endpoint} ${windowKey}: ${cause.replace(/\.$/, '')}. ${next}`));
    this.name = 'IngestWindowError';
  }
}

/** Too many of a window's records failed validation: the window fails, landed rows stay, nothing is truncated. */
export class RejectedWindowError extends IngestWindowError {
  constructor(endpoint: string, windowKey: string, counts: Counts, share: number, reasons: string[]) {
    super(endpoint, windowKey, 0, '');
    const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
    const all = counts.rejected === counts.fetched;
    this.message = redact(
      `${endpoint} ${windowKey}: ${all ? 'every record' : `${counts.rejected} of ${counts.fetched} records`} ` +
        `(${pct(counts.rejected / counts.fetched)}) failed validation, more than --max-reject-share ` +
        `${pct(share)} allows. First reasons:\n${reasons.map((r) => `  - ${r}`).join('\n')}\n` +
        `All are in raw.rejected_records (endpoint='${endpoint}', window_key='${windowKey}'). ` +
        'Fix the source (or the field table in ingest/endpoints.ts if the API changed), ' +
        'or raise --max-reject-share to land the rest.',
    );
  }
}

/**
 * Keys of the rows written to the window's table since the window first started, in the form of the window's
 * key set. Rows an earlier run wrote unchanged (a forced re-read) are not among them.
 */
async function keysLandedSince(db: Database, spec: EndpointSpec, since: Date): Promise<string[]> {
  const key = spec.key.map((c) => `${c}::text`).join(', ');
  const rows = await db.knex.raw(`select concat_ws(chr(1), ${key}) as k from ${spec.table} where ingested_at >= ?`, [
    since,
  ]);
  return (rows.rows as { k: string }[]).map((r) => r.k);
}
