import type { Knex } from 'knex';

// On a Citus coordinator the landing tables are spread over the workers: metrics by account (co-located with
// the account-keyed models), trades by position (a trade has no account id; its key has no login), and the
// small lookups copied to every worker as reference tables so that joins to them run where the data is.
// Elsewhere this migration does nothing: the same project runs on plain PostgreSQL and PGlite.
const DISTRIBUTED: [table: string, column: string][] = [
  ['raw.metrics_daily', 'account_id'],
  ['raw.metrics_hourly', 'account_id'],
  ['raw.trades_closed', 'position'],
  ['raw.trades_open', 'position'],
];
const REFERENCE = ['raw.accounts', 'raw.metrics_alltime', 'raw.regimes_daily'];

async function citusTables(knex: Knex): Promise<Set<string> | undefined> {
  const citus = await knex.raw(`select 1 from pg_extension where extname = 'citus'`);
  if (!citus.rows.length) return undefined;
  const { rows } = await knex.raw('select logicalrelid::regclass::text as name from pg_dist_partition');
  return new Set((rows as { name: string }[]).map((r) => r.name));
}

export async function up(knex: Knex): Promise<void> {
  const done = await citusTables(knex);
  if (!done) return;
  for (const [table, column] of DISTRIBUTED) {
    if (!done.has(table)) await knex.raw('select create_distributed_table(?, ?)', [table, column]);
  }
  for (const table of REFERENCE) if (!done.has(table)) await knex.raw('select create_reference_table(?)', [table]);
}

export async function down(knex: Knex): Promise<void> {
  const done = await citusTables(knex);
  if (!done) return;
  for (const table of [...DISTRIBUTED.map(([t]) => t), ...REFERENCE]) {
    if (done.has(table)) await knex.raw('select undistribute_table(?)', [table]);
  }
}
