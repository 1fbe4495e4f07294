import type { Knex } from 'knex';

// The metrics tables take the real Risk Analytics API's field names and types (upstream-facts section 1b).
// 002 was written from the simulator's vocabulary: the real API's fields landed only in `extra` and columns
// such as num_open_pos stayed NULL. This migration adds a column per real field and fills it from `extra`
// where earlier runs kept the value there; the simulator-only columns go into `extra` under their old API
// names before they are dropped, so no landed value is lost. The lists are written out as released.

/** `apiName:column:type` of the fields daily, hourly and all-time records share. */
const SHARED = `
  oneStdOutlierProfit:one_std_outlier_profit:numeric
  oneStdOutlierProfitContrib:one_std_outlier_profit_contrib:numeric
  twoStdOutlierProfit:two_std_outlier_profit:numeric
  twoStdOutlierProfitContrib:two_std_outlier_profit_contrib:numeric
  netProfitPerUSDVolume:net_profit_per_usd_volume:numeric
  grossProfitPerUSDVolume:gross_profit_per_usd_volume:numeric
  grossLossPerUSDVolume:gross_loss_per_usd_volume:numeric
  distanceGrossProfitLossPerUSDVolume:distance_gross_profit_loss_per_usd_volume:numeric
  multipleGrossProfitLossPerUSDVolume:multiple_gross_profit_loss_per_usd_volume:numeric
  grossProfitPerLot:gross_profit_per_lot:numeric grossLossPerLot:gross_loss_per_lot:numeric
  distanceGrossProfitLossPerLot:distance_gross_profit_loss_per_lot:numeric
  multipleGrossProfitLossPerLot:multiple_gross_profit_loss_per_lot:numeric
  netProfitPerDuration:net_profit_per_duration:numeric grossProfitPerDuration:gross_profit_per_duration:numeric
  grossLossPerDuration:gross_loss_per_duration:numeric relRiskAdjProfit:rel_risk_adj_profit:numeric
  relProfitPerc10:rel_profit_perc10:numeric relProfitPerc25:rel_profit_perc25:numeric
  relProfitPerc75:rel_profit_perc75:numeric relProfitPerc90:rel_profit_perc90:numeric
  relProfitTop10PrcntTrades:rel_profit_top10_prcnt_trades:numeric
  relProfitBottom10PrcntTrades:rel_profit_bottom10_prcnt_trades:numeric
  relOneStdOutlierProfit:rel_one_std_outlier_profit:numeric
  relTwoStdOutlierProfit:rel_two_std_outlier_profit:numeric meanNumTradesInDD:mean_num_trades_in_dd:numeric
  medianNumTradesInDD:median_num_trades_in_dd:numeric maxNumTradesInDD:max_num_trades_in_dd:bigint
  relMedianDrawDown:rel_median_draw_down:numeric stdVolumes:std_volumes:numeric
  meanWinningLot:mean_winning_lot:numeric meanLosingLot:mean_losing_lot:numeric
  distanceWinLossLots:distance_win_loss_lots:numeric multipleWinLossLots:multiple_win_loss_lots:numeric
  meanWinningVolume:mean_winning_volume:numeric meanLosingVolume:mean_losing_volume:numeric
  distanceWinLossVolume:distance_win_loss_volume:numeric multipleWinLossVolume:multiple_win_loss_volume:numeric
  meanTP:mean_tp:numeric medianTP:median_tp:numeric stdTP:std_tp:numeric minTP:min_tp:numeric maxTP:max_tp:numeric
  cvTP:cv_tp:numeric meanSL:mean_sl:numeric medianSL:median_sl:numeric stdSL:std_sl:numeric minSL:min_sl:numeric
  maxSL:max_sl:numeric cvSL:cv_sl:numeric medianTPvsSL:median_tp_vs_sl:numeric minTPvsSL:min_tp_vs_sl:numeric
  maxTPvsSL:max_tp_vs_sl:numeric cvTPvsSL:cv_tp_vs_sl:numeric meanNumConsecWins:mean_num_consec_wins:numeric
  medianNumConsecWins:median_num_consec_wins:numeric meanNumConsecLosses:mean_num_consec_losses:numeric
  medianNumConsecLosses:median_num_consec_losses:numeric meanValConsecWins:mean_val_consec_wins:numeric
  medianValConsecWins:median_val_consec_wins:numeric meanValConsecLosses:mean_val_consec_losses:numeric
  medianValConsecLosses:median_val_consec_losses:numeric meanNumOpenPos:mean_num_open_pos:numeric
  medianNumOpenPos:median_num_open_pos:numeric maxNumOpenPos:max_num_open_pos:bigint
  meanValOpenPos:mean_val_open_pos:numeric medianValOpenPos:median_val_open_pos:numeric
  maxValOpenPos:max_val_open_pos:numeric meanValtoEqtyOpenPos:mean_val_to_eqty_open_pos:numeric
  medianValtoEqtyOpenPos:median_val_to_eqty_open_pos:numeric maxValtoEqtyOpenPos:max_val_to_eqty_open_pos:numeric`;
/** The all-time record's lifetime-only fields. */
const LIFETIME = `
  meanTradesPerDay:mean_trades_per_day:numeric medianTradesPerDay:median_trades_per_day:numeric
  minTradesPerDay:min_trades_per_day:numeric maxTradesPerDay:max_trades_per_day:numeric
  cvTradesPerDay:cv_trades_per_day:numeric meanIdleDays:mean_idle_days:numeric
  medianIdleDays:median_idle_days:numeric maxIdleDays:max_idle_days:bigint minIdleDays:min_idle_days:bigint`;
/** Simulator-only columns of 002 and the API name each came from. */
const DROPPED = `
  profitPerUSDVolume:profit_per_usd_volume:numeric profitPerLot:profit_per_lot:numeric
  profitPerHour:profit_per_hour:numeric numTradesInDD:num_trades_in_dd:bigint meanLots:mean_lots:numeric
  winningLots:winning_lots:numeric losingLots:losing_lots:numeric winningVolume:winning_volume:numeric
  losingVolume:losing_volume:numeric numTradesWithTP:num_trades_with_tp:bigint
  numTradesWithSL:num_trades_with_sl:bigint tpUsageRate:tp_usage_rate:numeric slUsageRate:sl_usage_rate:numeric
  numOpenPos:num_open_pos:bigint openPosVal:open_pos_val:numeric openPosValToEquity:open_pos_val_to_equity:numeric`;
const DROPPED_LIFETIME = `
  tradesPerDay:trades_per_day:numeric idleDays:idle_days:bigint`;

interface Column {
  api: string;
  column: string;
  type: string;
}

const parse = (list: string): Column[] =>
  list
    .trim()
    .split(/\s+/)
    .map((token) => {
      const [api, column, type] = token.split(':');
      return { api, column, type };
    });

const TABLES: [table: string, added: Column[], dropped: Column[]][] = [
  ['raw.metrics_alltime', parse(`${SHARED} ${LIFETIME}`), parse(`${DROPPED} ${DROPPED_LIFETIME}`)],
  ['raw.metrics_daily', parse(SHARED), parse(DROPPED)],
  ['raw.metrics_hourly', parse(SHARED), parse(DROPPED)],
];

/** The value of `extra->api` as the column's type, or NULL when it is absent or does not fit (it stays in extra). */
function fromExtra(c: Column): string {
  const v = `extra->>'${c.api}'`;
  if (c.type === 'bigint') return `case when ${v} ~ '^-?[0-9]+$' then (${v})::bigint end`;
  return `case when jsonb_typeof(extra->'${c.api}') = 'number' then (${v})::numeric end`;
}

/** `extra` with the columns' non-NULL values added under their API names (jsonb_build_object takes 100 arguments). */
function intoExtra(columns: Column[]): string {
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i += 40) {
    const pairs = columns.slice(i, i + 40).map((c) => `'${c.api}', ${c.column}`);
    parts.push(`jsonb_strip_nulls(jsonb_build_object(${pairs.join(', ')}))`);
  }
  return `nullif(coalesce(extra, '{}') || ${parts.join(' || ')}, '{}')`;
}

export async function up(knex: Knex): Promise<void> {
  for (const [table, added, dropped] of TABLES) {
    await knex.raw(`alter table ${table} rename column mean_t_pvs_sl to mean_tp_vs_sl`);
    await knex.raw(`alter table ${table} ${added.map((c) => `add column ${c.column} ${c.type}`).join(', ')}`);
    await knex.raw(
      `update ${table} set ${added.map((c) => `${c.column} = ${fromExtra(c)}`).join(', ')}, ` +
        `extra = ${intoExtra(dropped)}`,
    );
    await knex.raw(`alter table ${table} ${dropped.map((c) => `drop column ${c.column}`).join(', ')}`);
  }
  await knex.raw(`
    alter table raw.metrics_alltime
      alter column life_time_in_days type numeric,
      alter column updated_date type timestamptz using updated_date::timestamp at time zone 'UTC'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table raw.metrics_alltime
      alter column life_time_in_days type bigint using round(life_time_in_days),
      alter column updated_date type date using (updated_date at time zone 'UTC')::date`);
  for (const [table, added, dropped] of TABLES) {
    await knex.raw(`alter table ${table} ${dropped.map((c) => `add column ${c.column} ${c.type}`).join(', ')}`);
    await knex.raw(
      `update ${table} set ${dropped.map((c) => `${c.column} = ${fromExtra(c)}`).join(', ')}, ` +
        `extra = ${intoExtra(added)}`,
    );
    await knex.raw(`alter table ${table} ${added.map((c) => `drop column ${c.column}`).join(', ')}`);
    await knex.raw(`alter table ${table} rename column mean_tp_vs_sl to mean_t_pvs_sl`);
  }
}
