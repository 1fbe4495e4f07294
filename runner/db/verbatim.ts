import type { Knex } from 'knex';
import type pg from 'pg';

type ConnectionSource = { acquireConnection(): Promise<pg.ClientBase>; releaseConnection(c: pg.ClientBase): Promise<unknown> };

/**
 * Runs SQL text exactly as written, as PostgreSQL's simple query (one or several statements). knex.raw
 * turns every `?` into a bind parameter, inside string literals and comments too and in the jsonb
 * operators (`payload ? 'key'`), so a model or a description holding one failed with a syntax error at
 * "$1". Inside a transaction this is the transaction's connection, else one of the pool's. A failure keeps
 * the server's message as `serverMessage` (knex-run statements get the SQL prefixed to theirs).
 */
export async function runVerbatim(db: Knex | Knex.Transaction, sql: string): Promise<pg.QueryResult> {
  const source = db.client as unknown as ConnectionSource;
  const conn = await source.acquireConnection();
  try {
    return await conn.query(sql);
  } catch (err) {
    if (err instanceof Error) Object.defineProperty(err, 'serverMessage', { value: err.message });
    throw err;
  } finally {
    await source.releaseConnection(conn);
  }
}
