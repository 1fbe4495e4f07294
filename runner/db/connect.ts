import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { DatabaseError, LockError } from '../errors.ts';
import type { EmbeddedServer } from './pglite-server.ts';
import { redact } from './redact.ts';
import { withPgConnection } from './pg-connection.ts';
import type { Target } from './target.ts';

// Numeric and bigint come back as JS numbers: money is double precision from staging on and row counts fit.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
// Dates stay ISO strings: a trading day is a calendar date, not an instant in the local time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface Database {
  readonly target: Target;
  readonly knex: Knex;
  /**
   * Loads CSV text (or a stream of CSV chunks) into an existing table through COPY; `within`, a transaction
   * of this database's knex (PostgreSQL only), makes the COPY commit or roll back with it.
   */
  copyCsv(
    table: string,
    columns: string[],
    csv: string | AsyncIterable<string>,
    within?: Knex.Transaction,
  ): Promise<void>;
  /** Takes the run lock of this target; waits up to waitMs, then fails with a LockError. */
  acquireRunLock(waitMs: number): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** How long to wait for another process that holds the embedded database. */
  lockWaitMs?: number;
  poolSize?: number;
  /** Embedded target: start from an empty data directory, removed only once its lock is ours. */
  fresh?: boolean;
}

const RUN_LOCK_KEY = 'dpm.run';

/**
 * Prepares each new PostgreSQL connection: the target's session settings, and (PostgreSQL 14+) a check
 * for a vanished client, so that a backend whose client was killed with -9 cancels its statement instead
 * of running it to the end and committing it (a CREATE TABLE AS scratch table could then appear after the
 * next run cleaned up).
 */
function prepareConnection(settings: Record<string, string>) {
  return (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void): void => {
    (async () => {
      await conn.query(
        "select set_config('client_connection_check_interval', '1000', false) " +
          "where current_setting('server_version_num')::int >= 140000",
      );
      for (const [name, value] of Object.entries(settings))
        await conn.query('select set_config($1, $2, false)', [name, value]);
    })().then(
      () => done(null, conn),
      (err: Error) =>
        done(
          new DatabaseError(
            `cannot apply the target's session settings (${Object.keys(settings).join(', ')}): ` +
              `${err.message}. Fix settings: in dpm.yml.`,
          ),
          conn,
        ),
    );
  };
}

export async function connect(target: Target, options: ConnectOptions = {}): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let connection: Knex.PgConnectionConfig | string;
  if (target.kind === 'pglite') {
    // Loaded only for the embedded target: importing PGlite is slow, and a PostgreSQL run should not pay for it.
    const { startEmbeddedServer } = await import('./pglite-server.ts');
    embedded = await startEmbeddedServer(target.dataDir, options.lockWaitMs ?? 0, options.fresh ?? false);
    connection = { host: '127.0.0.1', port: embedded.port, user: 'postgres', database: 'postgres' };
  } else {
    connection = target.url;
  }
  const knex = knexFactory({
    client: 'pg',
    connection,
    // PGlite is a single session: more than one pooled connection would interleave transactions.
    pool:
      target.kind === 'pglite'
        ? { min: 0, max: 1 }
        : {
            min: 0,
            max: Math.max(2, options.poolSize ?? target.threads + 1),
            afterCreate: prepareConnection(target.settings),
          },
    acquireConnectionTimeout: 600_000,
  });
  try {
    await knex.raw('select 1');
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    await embedded?.stop();
    throw new DatabaseError(
      `cannot connect to ${target.kind === 'postgres' ? redact(target.url) : 'the embedded database'}: ` +
        `${redact((err as Error).message)}. ` +
        (target.kind === 'postgres' ? 'Check that the server is up and DPM_DATABASE_URL is right (dpm debug).' : ''),
    );
  }

  async function copyCsv(
    table: string,
    columns: string[],
    csv: string | AsyncIterable<string>,
    within?: Knex.Transaction,
  ): Promise<void> {
    const columnList = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
    if (embedded) {
      // The in-process COPY does not go through the pooled session, so it cannot join a knex transaction.
      if (within)
        throw new Error('COPY inside a transaction needs a PostgreSQL target; the embedded database loads outside one');
      // The socket protocol of PGlite does not carry COPY FROM STDIN; its in-process /dev/blob does.
      const chunks: string[] = [];
      if (typeof csv === 'string') chunks.push(csv);
      else for await (const chunk of csv) chunks.push(chunk);
      await embedded.db.query(`COPY ${table} (${columnList}) FROM '/dev/blob' (FORMAT csv)`, [], {
        blob: new Blob(chunks),
      });
      return;
    }
    // Loaded here: only seeds and ingestion COPY, and every command's start-up would otherwise pay for the import.
    const { from: copyFrom } = await import('pg-copy-streams');
    await withPgConnection(within ?? knex, async (client) => {
      const stream = client.query(copyFrom(`COPY ${table} (${columnList}) FROM STDIN (FORMAT csv)`));
      await pipeline(typeof csv === 'string' ? Readable.from([csv]) : Readable.from(csv), stream);
    });
  }

  async function acquireRunLock(waitMs: number): Promise<() => Promise<void>> {
    // The embedded database is already exclusive to this process through its lock file.
    if (target.kind === 'pglite') return async () => undefined;
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { rows } = await client.query('select pg_try_advisory_lock(hashtext($1)) as ok', [RUN_LOCK_KEY]);
      if (rows[0].ok) break;
      if (Date.now() >= deadline) {
        const holder = await client
          .query(
            `select a.pid, a.application_name, a.backend_start from pg_locks l join pg_stat_activity a using (pid)
             where l.locktype = 'advisory' and l.objid = hashtext($1)::oid and l.granted limit 1`,
            [RUN_LOCK_KEY],
          )
          .then((r) => r.rows[0] as { pid: number; backend_start: Date } | undefined)
          .catch(() => undefined);
        await client.end();
        throw new LockError(
          `another dpm run holds the run lock on target '${target.name}'` +
            (holder ? ` (backend pid ${holder.pid}, since ${new Date(holder.backend_start).toISOString()})` : '') +
            '. Wait for it to finish or pass --lock-wait SECONDS to queue behind it.',
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return async () => {
      await client.query('select pg_advisory_unlock(hashtext($1))', [RUN_LOCK_KEY]).catch(() => undefined);
      await client.end().catch(() => undefined);
    };
  }

  return {
    target,
    knex,
    copyCsv,
    acquireRunLock,
    async close() {
      await knex.destroy();
      await embedded?.stop();
    },
  };
}
