// run_query() while a template renders. nunjucks renders synchronously and the database client is async, so a
// template that queries is rendered several times ("replayed"): each render reads the results known so far; a query
// not run yet gets an empty stand-in and is noted; the noted queries then run, and the template is rendered again,
// until a render asks for nothing new. Only the final render's output and log() lines count.
import type { Knex } from 'knex';
import { withPgConnection } from '../db/pg-connection.ts';
import { DpmError, ModelRunError, describeDbError } from '../errors.ts';
import { type QueryData, QueryTable } from './query-table.ts';

/** How the replay reaches the outside: the database and the log. */
export interface TemplateQueries {
  run(sql: string): Promise<QueryData>;
  log(message: string, info: boolean): void;
}

// Each round of queries may depend on the one before (a query built from an earlier result); ten rounds is more
// than any macro we know of needs, and a template whose query text changes on every render never settles.
const MAX_RENDERS = 10;

/** The results and log lines of one template (a node, or a run-operation), kept across its renders. */
export class QueryReplay {
  readonly #results = new Map<string, QueryData>();
  #settled = false;
  /** Per render: how often each SQL text was asked for, so a statement written twice runs twice, as in dbt. */
  #asked = new Map<string, number>();
  #pending: { key: string; sql: string }[] = [];
  #sawStandIn = false;
  #logs: [string, boolean][] = [];

  /** Called before each render of the template. */
  beginRender(): void {
    this.#asked = new Map();
    this.#pending = [];
    this.#sawStandIn = false;
    if (!this.#settled) this.#logs = [];
  }

  /** run_query() and statement(): the stored result; while replaying, an empty stand-in for a new query. */
  lookup(sql: string): QueryTable {
    const n = this.#asked.get(sql) ?? 0;
    this.#asked.set(sql, n + 1);
    const key = `${n}\u0000${sql}`;
    const known = this.#results.get(key);
    if (known) return new QueryTable(known);
    if (this.#settled) {
      throw new Error(
        `run_query() asked for a query its first render did not: ${sql.slice(0, 200)}. ` +
          'The SQL of run_query()/statement() must not depend on batch_start/batch_end (microbatch windows) or ' +
          'change between renders.',
      );
    }
    // A query noted after the render looked at a stand-in may be built from that fake result, so it waits for the
    // next render; the queries before it run in the order the template asked for them.
    if (!this.#sawStandIn) this.#pending.push({ key, sql });
    return new QueryTable({ columns: [], rows: [] }, () => {
      this.#sawStandIn = true;
    });
  }

  log(message: string, info: boolean): void {
    if (!this.#settled) this.#logs.push([message, info]);
  }

  /**
   * Renders until no new query appears, running the noted ones in between; returns the final output and prints
   * its log() lines once. `where` names the template in errors.
   */
  async render(where: string, render: () => string, queries: TemplateQueries): Promise<string> {
    for (let pass = 1; pass <= MAX_RENDERS; pass++) {
      this.beginRender();
      let output = '';
      let failure: unknown;
      try {
        output = render();
      } catch (err) {
        // A stand-in result may break the template (an empty table has no columns[0]); the real one may not.
        failure = err;
      }
      if (this.#pending.length === 0) {
        if (failure !== undefined) throw failure;
        this.#settled = true;
        for (const [message, info] of this.#logs) queries.log(message, info);
        return output;
      }
      for (const { key, sql } of this.#pending) {
        try {
          this.#results.set(key, await queries.run(sql));
        } catch (err) {
          if (err instanceof DpmError) throw err;
          throw new ModelRunError(`${where}: run_query() failed: ${describeDbError(err)}\n  ${sql.trim()}`);
        }
      }
    }
    throw new ModelRunError(
      `${where}: run_query() still asked for new queries after ${MAX_RENDERS} renders. dpm renders a template ` +
        'again after each round of queries, so the text of a query must be the same on every render (no now() or ' +
        `random values in it), and at most ${MAX_RENDERS - 1} rounds may each depend on the one before.`,
    );
  }
}

/** Runs one template query on the target as written (no `?` binding); the last statement's rows are the result. */
export async function runTemplateQuery(db: Knex, sql: string): Promise<QueryData> {
  const res = await withPgConnection(db, (conn) => conn.query({ text: sql, rowMode: 'array' }));
  const last = (Array.isArray(res) ? res.at(-1) : res) as
    | { fields?: { name: string }[]; rows?: unknown[][]; command?: string; rowCount?: number | null }
    | undefined;
  return {
    columns: (last?.fields ?? []).map((f) => f.name),
    rows: last?.rows ?? [],
    command: last?.command,
    rowCount: last?.rowCount ?? null,
  };
}
