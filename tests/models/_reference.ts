// Features recomputed in TypeScript straight from the simulator's own records (daily metrics, closed trades,
// plan rules), written from each column's documented meaning in models/*/_*.yml rather than from the SQL, so
// comparing the two catches a mistake on either side.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Firm } from '../../sim/firm.ts';
import type { ClosedTrade } from '../../sim/trades.ts';
import type { MetricsRecord } from '../../sim/metrics.ts';

export type Values = Record<string, number | null>;

interface AccountDay {
  day: number;
  metrics: MetricsRecord;
  trades: ClosedTrade[];
}

interface Plan {
  startingBalance: number;
  profitTargetPct: number;
  maxDailyDrawdownPct: number;
  maxDrawdownPct: number;
  isDrawdownRelative: boolean;
  dailyDrawdownByBalanceEquity: boolean;
}

/** Plan flags the simulator's account records do not carry, read from the plans seed's CSV exports. */
function balanceEquityPlans(root: string): Set<number> {
  const dir = join(root, 'seeds', 'plans');
  const ids = new Set<number>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.csv'))) {
    for (const r of parseCsv(readFileSync(join(dir, f)), { columns: true }) as Record<string, string>[]) {
      if (r.dailyDrawdownByBalanceEquity === '1') ids.add(Number(r.planId));
    }
  }
  return ids;
}

/** The project's vars (dpm.yml) that feature definitions depend on. */
export function projectVars(root: string): { ratioCap: number; minTradingDays: number } {
  const vars = parse(readFileSync(join(root, 'dpm.yml'), 'utf8')).vars;
  return { ratioCap: vars.ratio_cap, minTradingDays: vars.min_trading_days };
}

const num = (v: unknown) => Number(v);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length ? sum(xs) / xs.length : null);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
const clip = (x: number | null, cap: number) => (x === null ? null : Math.min(cap, Math.max(-cap, x)));

function sampleStd(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = sum(xs) / xs.length;
  return Math.sqrt(sum(xs.map((x) => (x - m) ** 2)) / (xs.length - 1));
}

/** Sharpe-like: mean / sample std x sqrt(252), NULL when the std is 0 or undefined, clipped to [-cap, cap]. */
function sharpe(xs: number[], cap: number): number | null {
  const s = sampleStd(xs);
  return clip(s ? (mean(xs)! / s) * Math.sqrt(252) : null, cap);
}

/** Sortino-like: mean / sqrt(mean of squared losses, gains counting 0) x sqrt(252), clipped. */
function sortino(xs: number[], cap: number): number | null {
  const down = Math.sqrt(sum(xs.map((x) => Math.min(x, 0) ** 2)) / xs.length);
  return clip(down ? (mean(xs)! / down) * Math.sqrt(252) : null, cap);
}

const isoDate = (iso: unknown) => String(iso).slice(0, 10);

export class Reference {
  /** Each account's live days in order. */
  private readonly history = new Map<string, AccountDay[]>();
  private readonly plans = new Map<string, Plan>();

  constructor(
    firm: Firm,
    days: number,
    root: string,
    private readonly vars: { ratioCap: number; minTradingDays: number },
  ) {
    const byBalanceEquity = balanceEquityPlans(root);
    for (const a of firm.accounts())
      this.plans.set(a.accountId, { ...a, dailyDrawdownByBalanceEquity: byBalanceEquity.has(a.planId) });
    // A trade names no account: it belongs to the account whose (login, platform, broker) matches.
    for (let d = 0; d < days; d++) {
      const byLogin = new Map<string, AccountDay>();
      for (const m of firm.dailyMetrics(d)) {
        const row = { day: d, metrics: m, trades: [] };
        const id = String(m.accountId);
        if (!this.history.has(id)) this.history.set(id, []);
        this.history.get(id)!.push(row);
        byLogin.set(`${m.login}|${m.mt_version}|${m.broker}`, row);
      }
      for (const t of firm.closedTrades(d)) byLogin.get(`${t.login}|${t.platform}|${t.broker}`)!.trades.push(t);
    }
  }

  accountIds(): string[] {
    return [...this.history.keys()];
  }

  /** Live days of an account as YYYY-MM-DD, in order. */
  dates(accountId: string): string[] {
    return this.history.get(accountId)!.map((r) => isoDate(r.metrics.date));
  }

  /** The rows of the `days` calendar days ending at the i-th live day (days the account was live). */
  private window(rows: AccountDay[], i: number, days: number): AccountDay[] {
    return rows.slice(0, i + 1).filter((r) => r.day > rows[i].day - days);
  }

  /** The feature-store columns this reference knows, for the i-th live day of an account. */
  features(accountId: string, i: number): Values {
    const rows = this.history.get(accountId)!;
    const m = rows[i].metrics;
    const plan = this.plans.get(accountId)!;
    const pnl = (days: number) => this.window(rows, i, days).map((r) => num(r.metrics.netProfit));
    const trades = (days: number) => this.window(rows, i, days).flatMap((r) => r.trades);
    const out: Values = {};

    // rolling performance of daily net profit
    for (const w of [3, 7, 30]) {
      const xs = pnl(w);
      out[`pnl_sum_${w}d`] = sum(xs);
      out[`pnl_avg_${w}d`] = mean(xs);
      out[`pnl_std_${w}d`] = sampleStd(xs);
      out[`pnl_win_rate_${w}d`] = ratio(xs.filter((x) => x > 0).length, xs.length);
      out[`pnl_sharpe_${w}d`] = sharpe(xs, this.vars.ratioCap);
    }
    const month = pnl(30);
    out.pnl_profit_factor_30d = ratio(sum(month.filter((x) => x > 0)), -sum(month.filter((x) => x < 0)));
    out.pnl_sortino_30d = sortino(month, this.vars.ratioCap);

    // behaviour of the closed trades
    for (const w of [5, 30]) {
      const ts = trades(w);
      out[`trades_count_${w}d`] = ts.length;
      out[`avg_lots_per_trade_${w}d`] = ratio(sum(ts.map((t) => t.lots)), ts.length);
      out[`buy_share_${w}d`] = ratio(ts.filter((t) => t.side.toLowerCase() === 'buy').length, ts.length);
      out[`stop_loss_usage_rate_${w}d`] = ratio(
        ts.filter((t) => t.stopLoss !== null && t.stopLoss !== 0).length,
        ts.length,
      );
      // UTC hour and weekday of the open (the SQL must not follow the session's time zone)
      const hours = ts.map((t) => new Date(t.openTime).getUTCHours());
      out[`morning_share_${w}d`] = ratio(hours.filter((h) => h >= 6 && h <= 11).length, ts.length);
      out[`afternoon_share_${w}d`] = ratio(hours.filter((h) => h >= 12 && h <= 17).length, ts.length);
      out[`evening_share_${w}d`] = ratio(hours.filter((h) => h >= 18 || h < 6).length, ts.length);
      out[`weekend_share_${w}d`] = ratio(
        ts.filter((t) => [0, 6].includes(new Date(t.openTime).getUTCDay())).length,
        ts.length,
      );
      const weekendDays = this.window(rows, i, w).filter((r) =>
        [0, 6].includes(new Date(`${isoDate(r.metrics.date)}T00:00:00Z`).getUTCDay()),
      );
      out[`weekend_active_rate_${w}d`] = ratio(
        weekendDays.filter((r) => r.trades.length > 0).length,
        weekendDays.length,
      );
    }

    // distances to the plan's limits
    const start = plan.startingBalance;
    const equity = num(m.currentEquity);
    const dailyBase = plan.dailyDrawdownByBalanceEquity
      ? Math.max(num(m.priorDaysBalance), num(m.priorDaysEquity))
      : num(m.priorDaysBalance);
    out.distance_to_daily_loss_limit = equity - (dailyBase - (start * plan.maxDailyDrawdownPct) / 100);
    out.distance_to_profit_target = plan.profitTargetPct > 0 ? start * (1 + plan.profitTargetPct / 100) - equity : null;
    const hwmBefore = Math.max(start, ...rows.slice(0, i).map((r) => num(r.metrics.currentEquity)));
    out.distance_to_max_drawdown =
      equity - ((plan.isDrawdownRelative ? hwmBefore : start) - (start * plan.maxDrawdownPct) / 100);
    out.active_trading_days_count = this.activeDays(rows, i);

    // calendar
    const date = new Date(`${isoDate(m.date)}T00:00:00Z`);
    out.day_of_week = (date.getUTCDay() + 6) % 7;
    out.days_to_month_end =
      new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate() - date.getUTCDate();
    // the day predicted, D + 1
    const next = new Date(date.getTime() + 86_400_000);
    out.next_day_of_week = (next.getUTCDay() + 6) % 7;
    out.next_day_is_weekend = [0, 6].includes(next.getUTCDay()) ? 1 : 0;
    out.days_to_next_payout = m.days_to_next_payout === null ? null : num(m.days_to_next_payout);
    out.pnl_std_30d_rel = out.pnl_std_30d === null ? null : out.pnl_std_30d / start;
    return out;
  }

  private activeDays(rows: AccountDay[], i: number): number {
    return rows.slice(0, i + 1).filter((r) => num(r.metrics.numTrades) > 0).length;
  }

  /**
   * The training row of the i-th live day, or null when it has none: funded (phase 4), active (status 1),
   * positive balance, at least min_trading_days trading days, and a next live day whose net profit is the target.
   */
  trainingRow(accountId: string, i: number): { prediction_date: string; target_net_profit: number } | null {
    const rows = this.history.get(accountId)!;
    const m = rows[i].metrics;
    const next = rows[i + 1];
    const eligible =
      m.phase === 4 &&
      m.status === 1 &&
      num(m.currentBalance) > 0 &&
      this.activeDays(rows, i) >= this.vars.minTradingDays;
    if (!eligible || !next) return null;
    return { prediction_date: isoDate(next.metrics.date), target_net_profit: num(next.metrics.netProfit) };
  }
}
