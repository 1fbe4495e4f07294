import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../runner/db/connect.ts';
import type { EndpointSpec } from './endpoints.ts';
import type { Field } from './fields.ts';

export interface Rejection {
  pageSkip: number;
  recordId: string;
  payload: unknown;
  error: string;
}

// COPY's CSV: an unquoted empty field is NULL, so '' must be quoted; so must anything with a delimiter,
// quote or line break. Most values (ids, symbols, timestamps) need neither the quotes nor the replace.
const SPECIAL = /[",\r\n]/;
const q = (v: string) => (v === '' || SPECIAL.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function cell(f: Field, v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (f.kind) {
    case 'num':
    case 'int':
      return String(v);
    case 'bool':
      return v ? 't' : 'f';
    case 'json':
      return q(JSON.stringify(v));
    default:
      return q(String(v));
  }
}

/** One validated record as a CSV line for COPY: typed columns, then unknown API fields as JSON. */
export function csvLine(spec: EndpointSpec, record: Record<string, unknown>, known: Set<string>): string {
  const out: string[] = [];
  for (const f of spec.fields) out.push(cell(f, record[f.api]));
  let extra: Record<string, unknown> | undefined;
  for (const k in record) {
    if (known.has(k)) continue;
    extra ??= {};
    extra[k] = record[k];
  }
  out.push(extra ? q(JSON.stringify(extra)) : '');
  return `${out.join(',')}\n`;
}

type Checkpoint = {
  nextSkip: number;
  fetched: number;
  loaded: number;
  rejected: number;
  duplicates: number;
  done?: boolean;
};

/** PostgreSQL's unique_violation: a COPY met a key that the table already holds. */
const UNIQUE_VIOLATION = '23505';

/** A COPY into a Citus table reports a worker's unique violation as an internal error (XX000) with its text. */
function isUniqueViolation(err: unknown): boolean {
  const { code, message } = err as { code?: string; message?: string };
  return code === UNIQUE_VIOLATION || (code === 'XX000' && /^duplicate key value violates unique/.test(message ?? ''));
}

/**
 * Lands validated rows and advances the checkpoint in one transaction: a kill at any moment leaves either
 * the old state or the new one, and a rerun refetches only what was not committed. While a window's keys
 * are all new (its first landing, on PostgreSQL), rows are COPied straight into the raw table inside that
 * transaction; the first flush that meets a key already landed rolls back, and from then on rows go
 * through a scratch table and an upsert. Both end with the same rows: a direct COPY only commits when
 * every row is new, which is when the upsert would have inserted them all.
 */
export class Lander {
  private readonly stage: string;
  private readonly columns: string[];
  private created = false;
  /** Rows landed by direct COPY (the rest went through the scratch table). */
  directRows = 0;

  constructor(
    private readonly db: Database,
    private readonly spec: EndpointSpec,
    /** Try the direct COPY first (PostgreSQL, for a window whose rows are expected to be new). */
    private direct: boolean,
  ) {
    this.stage = `raw._dpm_stage_${randomBytes(4).toString('hex')}`;
    this.columns = [...spec.fields.map((f) => f.column), 'extra'];
  }

  async flush(
    lines: string[],
    rejections: Rejection[],
    endpoint: string,
    windowKey: string,
    checkpoint: Checkpoint,
  ): Promise<void> {
    const { knex } = this.db;
    if (lines.length && this.direct) {
      try {
        await knex.transaction(async (trx) => {
          await this.db.copyCsv(this.spec.table, this.columns, lines.join(''), trx);
          await this.record(trx, rejections, endpoint, windowKey, checkpoint);
        });
        this.directRows += lines.length;
        return;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        this.direct = false;
      }
    }
    if (!this.created && lines.length) {
      await knex.raw(`create unlogged table ${this.stage} (like ${this.spec.table} including defaults)`);
      await knex.raw(`alter table ${this.stage} drop column ingested_at`);
      this.created = true;
    }
    if (lines.length) await this.db.copyCsv(this.stage, this.columns, lines.join(''));
    const cols = this.columns.join(', ');
    const updates = this.columns.filter((c) => !this.spec.key.includes(c));
    await knex.transaction(async (trx) => {
      if (lines.length) {
        const set = updates.map((c) => `${c} = excluded.${c}`).join(', ');
        const current = updates.map((c) => `t.${c}`).join(', ');
        const incoming = updates.map((c) => `excluded.${c}`).join(', ');
        // The landing time as a constant: Citus takes no volatile or stable function in DO UPDATE SET.
        await trx.raw(
          `insert into ${this.spec.table} as t (${cols}) select ${cols} from ${this.stage}
           on conflict (${this.spec.key.join(', ')}) do update set ${set},
             ingested_at = '${new Date().toISOString()}'::timestamptz
           where (${current}) is distinct from (${incoming})`,
        );
        await trx.raw(`truncate ${this.stage}`);
      }
      await this.record(trx, rejections, endpoint, windowKey, checkpoint);
    });
  }

  /** The flush's rejected records and the window's new checkpoint, in the flush's transaction. */
  private async record(
    trx: Knex.Transaction,
    rejections: Rejection[],
    endpoint: string,
    windowKey: string,
    checkpoint: Checkpoint,
  ): Promise<void> {
    if (rejections.length) {
      await trx('raw.rejected_records')
        .insert(
          rejections.map((r) => ({
            endpoint,
            window_key: windowKey,
            page_skip: r.pageSkip,
            record_id: r.recordId,
            payload: JSON.stringify(r.payload ?? null),
            error: r.error,
          })),
        )
        .onConflict(['endpoint', 'window_key', 'page_skip', 'record_id', 'error'])
        .ignore();
    }
    await trx('dpm.ingest_checkpoints')
      .where({ endpoint, window_key: windowKey })
      .update({
        ...(checkpoint.done ? { status: 'done' } : {}),
        next_skip: checkpoint.nextSkip,
        fetched: checkpoint.fetched,
        loaded: checkpoint.loaded,
        rejected: checkpoint.rejected,
        duplicates: checkpoint.duplicates,
        updated_at: new Date(),
      });
  }

  async close(): Promise<void> {
    if (this.created) await this.db.knex.raw(`drop table if exists ${this.stage}`);
  }
}

/** Scratch tables of ingest runs that were killed; safe to drop while holding the run lock. */
export async function dropStaleStages(db: Database): Promise<number> {
  const { rows } = await db.knex.raw(
    `select tablename from pg_tables where schemaname = 'raw' and tablename like '\\_dpm\\_stage\\_%'`,
  );
  for (const r of rows as { tablename: string }[]) await db.knex.raw(`drop table if exists raw.${r.tablename}`);
  return rows.length;
}
