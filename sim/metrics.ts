// Daily, hourly and all-time metrics records, computed from the ledger and the trades exactly as served.
// Balance rule: currentBalance = priorDaysBalance + netProfit - todays_payouts, where netProfit is the sum of
// the day's closed trades' profit + commission + swap + fee; equity = balance + open positions' net amount.
import type { Calendar } from './calendar.ts';
import { ACTIVE, type Account } from './ledger.ts';
import type { Traits } from './traits.ts';
import type { ClosedTrade } from './trades.ts';
import { activityStats, dailyReturnStats, tradeStats, type Stats } from './stats.ts';

export const PAYOUT_EVERY_DAYS = 14;

export interface MetricsContext {
  cal: Calendar;
  traits: Traits[];
}

export type MetricsRecord = Record<string, number | string | null>;

const money = (cents: number) => Math.round(cents) / 100;

function identity(ctx: MetricsContext, acc: Account, status: number): MetricsRecord {
  const tr = ctx.traits[acc.trader];
  return {
    login: acc.login,
    accountId: acc.accountId,
    planId: acc.plan.planId,
    trader: tr.traderId,
    status,
    type: acc.plan.type,
    phase: acc.plan.phase,
    broker: acc.broker,
    mt_version: acc.platform,
    price_stream: 1,
    country: tr.country,
  };
}

export function statusOn(acc: Account, day: number): number {
  return day === acc.endDay ? acc.endStatus : ACTIVE;
}

function balanceBefore(acc: Account, i: number): number {
  return i === 0 ? acc.plan.startingBalance * 100 : acc.balance[i - 1];
}

function equityAt(acc: Account, i: number): number {
  return i < 0 ? acc.plan.startingBalance * 100 : acc.balance[i] + acc.floating[i];
}

function firstActive(acc: Account, upTo: number): number {
  for (let i = 0; i <= upTo; i++) if (acc.nTrades[i] > 0) return i;
  return -1;
}

function payoutsUpTo(acc: Account, i: number): number {
  let s = 0;
  for (let k = 0; k <= i; k++) s += acc.payout[k];
  return s;
}

function money_(acc: Account, i: number): MetricsRecord {
  const funded = acc.plan.phase === 4;
  return {
    startingBalance: acc.plan.startingBalance,
    priorDaysBalance: money(balanceBefore(acc, i)),
    priorDaysEquity: money(equityAt(acc, i - 1)),
    currentBalance: money(acc.balance[i]),
    currentEquity: money(equityAt(acc, i)),
    approved_payouts: money(payoutsUpTo(acc, i)),
    pending_payouts: 0,
    days_to_next_payout: funded ? PAYOUT_EVERY_DAYS - ((i + 1) % PAYOUT_EVERY_DAYS) : null,
    todays_payouts: money(acc.payout[i]),
  };
}

/** The ledger keeps one open-positions snapshot a day (its end), so mean, median and max are that snapshot. */
function openBlock(nOpen: number, value: number, equity: number): Stats {
  const toEquity = equity > 0 ? Math.round((value / equity) * 1e6) / 1e6 : null;
  const out: Stats = {};
  for (const w of ['mean', 'median', 'max']) {
    out[`${w}NumOpenPos`] = nOpen;
    out[`${w}ValOpenPos`] = money(value);
    out[`${w}ValtoEqtyOpenPos`] = toEquity;
  }
  return out;
}

export function dailyRecord(
  ctx: MetricsContext,
  acc: Account,
  day: number,
  trades: readonly ClosedTrade[],
): MetricsRecord {
  const i = day - acc.startDay;
  const first = firstActive(acc, i);
  return {
    date: ctx.cal.iso(day),
    ...identity(ctx, acc, statusOn(acc, day)),
    ...money_(acc, i),
    firstTradeDate: first >= 0 ? ctx.cal.iso(acc.startDay + first) : null,
    daysSinceInitialDeposit: i,
    daysSinceFirstTrade: first >= 0 ? i - first : null,
    numTrades: trades.length,
    ...tradeStats(trades, balanceBefore(acc, i) / 100),
    ...openBlock(acc.nOpen[i], acc.floating[i], equityAt(acc, i)),
  };
}

/** One row per hour in which the account closed at least one trade; balances run through the end of that hour. */
export function hourlyRecords(
  ctx: MetricsContext,
  acc: Account,
  day: number,
  trades: readonly ClosedTrade[],
): MetricsRecord[] {
  const i = day - acc.startDay;
  const daily = dailyRecord(ctx, acc, day, []);
  const rows: MetricsRecord[] = [];
  let cum = balanceBefore(acc, i);
  for (let h = 0, j = 0; h < 24 && j < trades.length; h++) {
    const from = j;
    while (j < trades.length && Number(trades[j].closeTime.slice(11, 13)) === h) j++;
    if (j === from) continue;
    const hourTrades = trades.slice(from, j);
    const stats = tradeStats(hourTrades, cum / 100);
    cum += Math.round(Number(stats.netProfit) * 100);
    rows.push({
      ...daily,
      datetime: new Date(ctx.cal.dayMs(day) + h * 3600_000).toISOString(),
      hour: h,
      currentBalance: money(cum),
      currentEquity: money(cum),
      todays_payouts: 0,
      numTrades: hourTrades.length,
      ...stats,
      ...openBlock(0, 0, cum),
    });
  }
  return rows;
}

/** Lifetime record as of the end of the history (or the day the account ended). */
export function alltimeRecord(
  ctx: MetricsContext,
  acc: Account,
  trades: readonly ClosedTrade[],
  lastDay: number,
): MetricsRecord {
  const i = acc.endDay - acc.startDay;
  const first = firstActive(acc, i);
  const rets: number[] = [];
  for (let k = 0; k <= i; k++) rets.push(acc.net[k] / balanceBefore(acc, k));
  const start = acc.plan.startingBalance * 100;
  let firstOpen = '';
  let lastOpen = '';
  let lastClose = '';
  for (const t of trades) {
    if (!firstOpen || t.openTime < firstOpen) firstOpen = t.openTime;
    if (t.openTime > lastOpen) lastOpen = t.openTime;
    if (t.closeTime > lastClose) lastClose = t.closeTime;
  }
  // days_to_next_payout and todays_payouts are daily-only fields.
  const { days_to_next_payout: _next, todays_payouts: _today, ...lifetimeMoney } = money_(acc, i);
  return {
    ...identity(ctx, acc, acc.endStatus),
    ...lifetimeMoney,
    firstTradeDate: first >= 0 ? ctx.cal.iso(acc.startDay + first) : null,
    daysSinceInitialDeposit: lastDay - acc.startDay,
    daysSinceFirstTrade: first >= 0 ? lastDay - acc.startDay - first : null,
    numTrades: trades.length,
    firstTradeOpen: firstOpen || null,
    lastTradeOpen: lastOpen || null,
    lastTradeClose: lastClose || null,
    // Days since the deposit, which the simulated firm books at 09:30 UTC on the account's first day.
    lifeTimeInDays: Math.round((i + 1 - 9.5 / 24) * 1e4) / 1e4,
    ...tradeStats(trades, start / 100),
    totalRet: Math.round(((acc.balance[i] + payoutsUpTo(acc, i) - start) / start) * 1e6) / 1e6,
    ...dailyReturnStats(rets),
    ...activityStats(acc.nTrades.slice(0, i + 1)),
    ...openBlock(acc.nOpen[i], acc.floating[i], equityAt(acc, i)),
    // Refreshed by the firm's end-of-day job at 22:15 UTC.
    updatedDate: new Date(ctx.cal.dayMs(lastDay) + 22.25 * 3600_000).toISOString(),
  };
}
