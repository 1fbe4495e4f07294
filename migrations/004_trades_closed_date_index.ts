import type { Knex } from 'knex';

// Daily model batches read closed trades by trade_date; the primary key (platform, position, trade_date)
// cannot serve that, so without this index every nightly batch scans the whole table.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index if not exists trades_closed_trade_date_idx on raw.trades_closed (trade_date)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists raw.trades_closed_trade_date_idx');
}
