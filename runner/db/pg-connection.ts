import type { Knex } from 'knex';
import type pg from 'pg';

type ConnectionSource = {
  acquireConnection(): Promise<pg.ClientBase>;
  releaseConnection(c: pg.ClientBase): Promise<unknown>;
};

/**
 * Runs `fn` on the driver's connection under `db`: inside a transaction the transaction's own (whose client
 * hands it out and releases nothing), else one of the pool's, released afterwards. For what knex cannot
 * send: COPY streams and SQL text that must not be rewritten.
 */
export async function withPgConnection<T>(
  db: Knex | Knex.Transaction,
  fn: (conn: pg.ClientBase) => Promise<T>,
): Promise<T> {
  const source = db.client as unknown as ConnectionSource;
  const conn = await source.acquireConnection();
  try {
    return await fn(conn);
  } finally {
    await source.releaseConnection(conn);
  }
}

/**
 * Runs SQL text exactly as written, as PostgreSQL's simple query (one or several statements). knex.raw
 * turns every `?` into a bind parameter, inside string literals and comments too and in the jsonb
 * operators (`payload ? 'key'`), so a model or a description holding one would fail with a syntax error at
 * "$1". A failure keeps the server's message as `serverMessage` (knex-run statements get the SQL prefixed
 * to theirs).
 */
export function runVerbatim(db: Knex | Knex.Transaction, sql: string): Promise<pg.QueryResult> {
  return withPgConnection(db, async (conn) => {
    try {
      return await conn.query(sql);
    } catch (err) {
      if (err instanceof Error) Object.defineProperty(err, 'serverMessage', { value: err.message });
      throw err;
    }
  });
}
