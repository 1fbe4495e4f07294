import type { Knex } from 'knex';

// Landing tables mirror the API field for field (snake_case), keyed like the source; `extra` keeps any
// field the API adds later so that nothing it sends is lost. The columns are written out here, as they were
// released: a later change to the endpoint field tables comes with a migration of its own.
const LANDING: [table: string, key: string[], columns: string][] = [
  [
    'raw.accounts',
    ['account_id'],
    `
    account_id text not null, login text, trader_id text, plan_id bigint, starting_balance numeric,
    current_balance numeric, current_equity numeric, profit_target_pct numeric, max_daily_drawdown_pct numeric,
    max_drawdown_pct numeric, max_leverage numeric, is_drawdown_relative boolean, breached boolean,
    is_upgraded boolean, phase bigint, status bigint, created_at timestamptz, updated_at timestamptz`,
  ],
  [
    'raw.metrics_alltime',
    ['account_id'],
    `
    login text, account_id text not null, plan_id bigint, trader text, status bigint, type bigint, phase bigint,
    broker bigint, mt_version bigint, price_stream text, country text, starting_balance numeric,
    prior_days_balance numeric, prior_days_equity numeric, current_balance numeric, current_equity numeric,
    approved_payouts numeric, pending_payouts numeric, first_trade_date date, days_since_initial_deposit bigint,
    days_since_first_trade bigint, num_trades bigint, net_profit numeric, gross_profit numeric,
    gross_loss numeric, gain_to_pain numeric, profit_factor numeric, success_rate numeric, mean_profit numeric,
    median_profit numeric, std_profits numeric, risk_adj_profit numeric, expectancy numeric, min_profit numeric,
    max_profit numeric, profit_perc10 numeric, profit_perc25 numeric, profit_perc75 numeric,
    profit_perc90 numeric, profit_top10_prcnt_trades numeric, profit_bottom10_prcnt_trades numeric,
    top10_prcnt_profit_contrib numeric, bottom10_prcnt_loss_contrib numeric, profit_per_usd_volume numeric,
    profit_per_lot numeric, profit_per_hour numeric, mean_ret numeric, std_rets numeric, risk_adj_ret numeric,
    downside_std_rets numeric, downside_risk_adj_ret numeric, rel_net_profit numeric, rel_gross_profit numeric,
    rel_gross_loss numeric, rel_mean_profit numeric, rel_median_profit numeric, rel_std_profits numeric,
    rel_min_profit numeric, rel_max_profit numeric, mean_draw_down numeric, median_draw_down numeric,
    max_draw_down numeric, num_trades_in_dd bigint, rel_mean_draw_down numeric, rel_max_draw_down numeric,
    total_lots numeric, total_volume numeric, mean_lots numeric, winning_lots numeric, losing_lots numeric,
    winning_volume numeric, losing_volume numeric, mean_duration numeric, median_duration numeric,
    std_durations numeric, min_duration numeric, max_duration numeric, cv_durations numeric,
    num_trades_with_tp bigint, num_trades_with_sl bigint, tp_usage_rate numeric, sl_usage_rate numeric,
    mean_t_pvs_sl numeric, max_num_consec_wins bigint, max_num_consec_losses bigint,
    max_val_consec_wins numeric, max_val_consec_losses numeric, num_open_pos bigint, open_pos_val numeric,
    open_pos_val_to_equity numeric, mean_account_margin numeric, mean_firm_margin numeric,
    num_traded_symbols bigint, most_traded_symbol text, most_traded_smb_trades bigint,
    first_trade_open timestamptz, last_trade_open timestamptz, last_trade_close timestamptz,
    life_time_in_days bigint, total_ret numeric, daily_mean_ret numeric, daily_std_ret numeric,
    daily_sharpe numeric, daily_downside_std_ret numeric, daily_sortino numeric, trades_per_day numeric,
    idle_days bigint, updated_date date`,
  ],
  [
    'raw.metrics_daily',
    ['account_id', 'date'],
    `
    date date not null, login text, account_id text not null, plan_id bigint, trader text, status bigint,
    type bigint, phase bigint, broker bigint, mt_version bigint, price_stream text, country text,
    starting_balance numeric, prior_days_balance numeric, prior_days_equity numeric, current_balance numeric,
    current_equity numeric, approved_payouts numeric, pending_payouts numeric, first_trade_date date,
    days_since_initial_deposit bigint, days_since_first_trade bigint, num_trades bigint, net_profit numeric,
    gross_profit numeric, gross_loss numeric, gain_to_pain numeric, profit_factor numeric, success_rate numeric,
    mean_profit numeric, median_profit numeric, std_profits numeric, risk_adj_profit numeric,
    expectancy numeric, min_profit numeric, max_profit numeric, profit_perc10 numeric, profit_perc25 numeric,
    profit_perc75 numeric, profit_perc90 numeric, profit_top10_prcnt_trades numeric,
    profit_bottom10_prcnt_trades numeric, top10_prcnt_profit_contrib numeric,
    bottom10_prcnt_loss_contrib numeric, profit_per_usd_volume numeric, profit_per_lot numeric,
    profit_per_hour numeric, mean_ret numeric, std_rets numeric, risk_adj_ret numeric,
    downside_std_rets numeric, downside_risk_adj_ret numeric, rel_net_profit numeric, rel_gross_profit numeric,
    rel_gross_loss numeric, rel_mean_profit numeric, rel_median_profit numeric, rel_std_profits numeric,
    rel_min_profit numeric, rel_max_profit numeric, mean_draw_down numeric, median_draw_down numeric,
    max_draw_down numeric, num_trades_in_dd bigint, rel_mean_draw_down numeric, rel_max_draw_down numeric,
    total_lots numeric, total_volume numeric, mean_lots numeric, winning_lots numeric, losing_lots numeric,
    winning_volume numeric, losing_volume numeric, mean_duration numeric, median_duration numeric,
    std_durations numeric, min_duration numeric, max_duration numeric, cv_durations numeric,
    num_trades_with_tp bigint, num_trades_with_sl bigint, tp_usage_rate numeric, sl_usage_rate numeric,
    mean_t_pvs_sl numeric, max_num_consec_wins bigint, max_num_consec_losses bigint,
    max_val_consec_wins numeric, max_val_consec_losses numeric, num_open_pos bigint, open_pos_val numeric,
    open_pos_val_to_equity numeric, mean_account_margin numeric, mean_firm_margin numeric,
    num_traded_symbols bigint, most_traded_symbol text, most_traded_smb_trades bigint,
    days_to_next_payout bigint, todays_payouts numeric`,
  ],
  [
    'raw.metrics_hourly',
    ['account_id', 'date', 'hour'],
    `
    date date not null, login text, account_id text not null, plan_id bigint, trader text, status bigint,
    type bigint, phase bigint, broker bigint, mt_version bigint, price_stream text, country text,
    starting_balance numeric, prior_days_balance numeric, prior_days_equity numeric, current_balance numeric,
    current_equity numeric, approved_payouts numeric, pending_payouts numeric, first_trade_date date,
    days_since_initial_deposit bigint, days_since_first_trade bigint, num_trades bigint, net_profit numeric,
    gross_profit numeric, gross_loss numeric, gain_to_pain numeric, profit_factor numeric, success_rate numeric,
    mean_profit numeric, median_profit numeric, std_profits numeric, risk_adj_profit numeric,
    expectancy numeric, min_profit numeric, max_profit numeric, profit_perc10 numeric, profit_perc25 numeric,
    profit_perc75 numeric, profit_perc90 numeric, profit_top10_prcnt_trades numeric,
    profit_bottom10_prcnt_trades numeric, top10_prcnt_profit_contrib numeric,
    bottom10_prcnt_loss_contrib numeric, profit_per_usd_volume numeric, profit_per_lot numeric,
    profit_per_hour numeric, mean_ret numeric, std_rets numeric, risk_adj_ret numeric,
    downside_std_rets numeric, downside_risk_adj_ret numeric, rel_net_profit numeric, rel_gross_profit numeric,
    rel_gross_loss numeric, rel_mean_profit numeric, rel_median_profit numeric, rel_std_profits numeric,
    rel_min_profit numeric, rel_max_profit numeric, mean_draw_down numeric, median_draw_down numeric,
    max_draw_down numeric, num_trades_in_dd bigint, rel_mean_draw_down numeric, rel_max_draw_down numeric,
    total_lots numeric, total_volume numeric, mean_lots numeric, winning_lots numeric, losing_lots numeric,
    winning_volume numeric, losing_volume numeric, mean_duration numeric, median_duration numeric,
    std_durations numeric, min_duration numeric, max_duration numeric, cv_durations numeric,
    num_trades_with_tp bigint, num_trades_with_sl bigint, tp_usage_rate numeric, sl_usage_rate numeric,
    mean_t_pvs_sl numeric, max_num_consec_wins bigint, max_num_consec_losses bigint,
    max_val_consec_wins numeric, max_val_consec_losses numeric, num_open_pos bigint, open_pos_val numeric,
    open_pos_val_to_equity numeric, mean_account_margin numeric, mean_firm_margin numeric,
    num_traded_symbols bigint, most_traded_symbol text, most_traded_smb_trades bigint,
    days_to_next_payout bigint, todays_payouts numeric, datetime timestamptz, hour bigint not null`,
  ],
  [
    'raw.trades_closed',
    ['platform', 'position', 'trade_date'],
    `
    trade_date date not null, broker bigint, mngr bigint, platform bigint not null, ticket text,
    position text not null, login text, trd_symbol text, std_symbol text, side text, lots numeric,
    contract_size numeric, qty_in_base_crncy numeric, volume_usd numeric, stop_loss numeric,
    take_profit numeric, open_time timestamptz, open_price numeric, duration numeric, profit numeric,
    commission numeric, fee numeric, swap numeric, comment text, client_margin numeric, firm_margin numeric,
    close_time timestamptz, close_price numeric`,
  ],
  [
    'raw.trades_open',
    ['trade_date', 'platform', 'position'],
    `
    trade_date date not null, broker bigint, mngr bigint, platform bigint not null, ticket text,
    position text not null, login text, trd_symbol text, std_symbol text, side text, lots numeric,
    contract_size numeric, qty_in_base_crncy numeric, volume_usd numeric, stop_loss numeric,
    take_profit numeric, open_time timestamptz, open_price numeric, duration numeric, profit numeric,
    commission numeric, fee numeric, swap numeric, comment text, client_margin numeric, firm_margin numeric`,
  ],
  [
    'raw.regimes_daily',
    ['date'],
    `
    date date not null, market_news jsonb, instruments jsonb, country_economic_indicators jsonb,
    news_analysis jsonb, summary jsonb, created_at timestamptz, updated_at timestamptz`,
  ],
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create schema if not exists raw');
  for (const [table, key, columns] of LANDING) {
    await knex.raw(
      `create table ${table} (${columns.trim()}, extra jsonb, ` +
        `ingested_at timestamptz not null default now(), primary key (${key.join(', ')}))`,
    );
  }
  await knex.raw('create index on raw.trades_closed (login, platform, broker)');
  await knex.raw('create index on raw.metrics_daily (date)');
  await knex.schema.withSchema('raw').createTable('rejected_records', (t) => {
    t.bigIncrements('id');
    t.text('endpoint').notNullable();
    t.text('window_key').notNullable();
    t.integer('page_skip').notNullable();
    t.text('record_id');
    t.jsonb('payload').notNullable();
    t.text('error').notNullable();
    t.timestamp('rejected_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['endpoint', 'window_key', 'page_skip', 'record_id', 'error']);
  });
  await knex.schema.withSchema('dpm').createTable('ingest_checkpoints', (t) => {
    t.text('endpoint').notNullable();
    t.text('window_key').notNullable();
    t.text('status').notNullable();
    t.integer('next_skip').notNullable().defaultTo(0);
    t.bigInteger('fetched').notNullable().defaultTo(0);
    t.bigInteger('loaded').notNullable().defaultTo(0);
    t.bigInteger('rejected').notNullable().defaultTo(0);
    t.bigInteger('duplicates').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['endpoint', 'window_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('dpm').dropTable('ingest_checkpoints');
  await knex.raw('drop schema raw cascade');
}
