// The synthetic prop firm: regimes, traders and the ledger are built eagerly (a few numbers per account-day);
// trades and metrics are derived per day on demand, deterministically, with a small cache of recent days.
import { Calendar, parseStartDate } from './calendar.ts';
import { loadPlans, PlanCatalog, DEFAULT_PLANS_DIR } from './plans.ts';
import { RegimeSeries, type RegimeRecord } from './regimes.ts';
import {
  runLedger,
  medianNet,
  quantileNet,
  expectedAbsNet,
  BREACHED,
  PASSED,
  type Account,
  type Ledger,
} from './ledger.ts';
import {
  closedTradesOf,
  openTradesOf,
  writeTradesOf,
  type ClosedTrade,
  type OpenTrade,
  type TradeContext,
} from './trades.ts';
import { dailyRecord, hourlyRecords, alltimeRecord, statusOn, type MetricsRecord } from './metrics.ts';
import type { Traits } from './traits.ts';
import { ByteWriter } from './json.ts';

export interface FirmOptions {
  seed: number;
  /** Account slots: each holds one live account at a time and reopens after a breach or pass. */
  accounts: number;
  days: number;
  /** First trading day, YYYY-MM-DD (default 2024-01-01). */
  startDate?: string;
  plansDir?: string;
}

export interface AccountRecord {
  accountId: string;
  login: string;
  traderId: string;
  planId: number;
  startingBalance: number;
  currentBalance: number;
  currentEquity: number;
  profitTargetPct: number;
  maxDailyDrawdownPct: number;
  maxDrawdownPct: number;
  maxLeverage: number;
  isDrawdownRelative: boolean;
  breached: boolean;
  isUpgraded: boolean;
  phase: number;
  status: number;
  createdAt: string;
  updatedAt: string;
}

export interface OracleRecord {
  accountId: string;
  date: string;
  /** Mean of the day's net profit given the start-of-day state: the best possible prediction under squared error. */
  expectedNetProfit: number;
  /** Median of the same distribution: the best possible prediction under absolute error (MAE). */
  medianNetProfit: number;
  /** Its 5% and 95% quantiles: the best possible 90% interval and downside risk score. */
  q05NetProfit: number;
  q95NetProfit: number;
  /** E|net profit|: the day's expected size of move. */
  expectedAbsNetProfit: number;
}

/** A date as day index, YYYYMMDD, YYYY-MM-DD or ISO timestamp. */
export type DateLike = number | string;

/**
 * A day's trades as JSON text: the records joined by ',' (plus a trailing ','). Record i is
 * buf[offs[i], offs[i + 1] - 1); records i..j-1 are the contiguous run buf[offs[i], offs[j] - 1).
 */
export interface TradeDayJson {
  count: number;
  buf: Buffer;
  offs: Uint32Array;
}

/** Writes a day's trade JSON account by account, so it can be spread over event-loop turns. */
export class TradeDayBuilder {
  private next = 0;
  private at = 0;
  private readonly w: ByteWriter;
  private readonly offs: Uint32Array;
  private result: TradeDayJson | undefined;

  constructor(
    private readonly ctx: TradeContext,
    private readonly accounts: readonly Account[],
    readonly day: number,
    readonly closing: boolean,
    readonly count: number,
  ) {
    this.w = new ByteWriter(count * 600 + 1024);
    this.offs = new Uint32Array(count + 1);
  }

  get done(): boolean {
    return this.result !== undefined;
  }

  /** Writes accounts until about `budget` records were written (or the day is complete); true when complete. */
  step(budget: number): boolean {
    if (this.result) return true;
    const stop = this.at + budget;
    while (this.next < this.accounts.length && this.at < stop) {
      this.at = writeTradesOf(this.ctx, this.accounts[this.next++], this.day, this.closing, this.w, this.offs, this.at);
    }
    if (this.next < this.accounts.length) return false;
    if (this.at !== this.count)
      throw new Error(`trade json of day ${this.day}: wrote ${this.at} records, expected ${this.count}`);
    this.offs[this.count] = this.w.pos;
    this.result = { count: this.count, buf: this.w.buf.subarray(0, this.w.pos), offs: this.offs };
    return true;
  }

  finish(): TradeDayJson {
    this.step(Infinity);
    return this.result!;
  }
}

export const DEFAULT_START_DATE = '2024-01-01';
const CACHE_DAYS = 6;

export class Firm {
  readonly cal: Calendar;
  readonly regimeSeries: RegimeSeries;
  readonly ledger: Ledger;
  readonly ctx: TradeContext;
  private readonly byId = new Map<string, Account>();
  private readonly tradeCache = new Map<number, ClosedTrade[][]>();
  private alltimeCache: MetricsRecord[] | undefined;

  constructor(readonly options: Required<FirmOptions>) {
    const { seed, accounts, days, startDate, plansDir } = options;
    if (!Number.isInteger(seed) || !Number.isInteger(accounts) || accounts < 1 || !Number.isInteger(days) || days < 1) {
      throw new Error(`firm needs integer seed, accounts >= 1 and days >= 1 (got ${seed}, ${accounts}, ${days})`);
    }
    this.cal = new Calendar(parseStartDate(startDate), days);
    this.regimeSeries = new RegimeSeries(seed, this.cal);
    this.ledger = runLedger(seed, accounts, this.cal, new PlanCatalog(loadPlans(plansDir)), this.regimeSeries);
    this.ctx = { seed, cal: this.cal, regimes: this.regimeSeries, traits: this.ledger.traits };
    for (const a of this.ledger.accounts) this.byId.set(a.accountId, a);
  }

  get days(): number {
    return this.cal.days;
  }

  get traits(): readonly Traits[] {
    return this.ledger.traits;
  }

  /** Day index of a date, or undefined when the date is outside the history. */
  day(date: DateLike): number | undefined {
    if (typeof date === 'number') return Number.isInteger(date) && date >= 0 && date < this.days ? date : undefined;
    return this.cal.dayOf(date);
  }

  /** Every trading day as an ISO timestamp (midnight UTC). */
  dates(): string[] {
    return Array.from({ length: this.days }, (_, d) => this.cal.iso(d));
  }

  account(accountId: string): Account | undefined {
    return this.byId.get(accountId);
  }

  /** Accounts live on a day (their metrics rows exist), in account order. */
  liveAccounts(day: number): Account[] {
    return Array.from(this.ledger.liveByDay[day] ?? [], (k) => this.ledger.accounts[k]);
  }

  /** Number of closed trades on a day without generating them (memoised: listings ask on every page). */
  closedTradeCount(day: number): number {
    return this.tradeCount(day, true);
  }

  private readonly counts = { closed: new Map<number, number>(), open: new Map<number, number>() };

  private tradeCount(day: number, closing: boolean): number {
    const memo = closing ? this.counts.closed : this.counts.open;
    let n = memo.get(day);
    if (n === undefined) {
      n = 0;
      for (const k of this.ledger.liveByDay[day] ?? []) {
        const acc = this.ledger.accounts[k];
        n += (closing ? acc.nTrades : acc.nOpen)[day - acc.startDay];
      }
      memo.set(day, n);
    }
    return n;
  }

  /** Closed trades per live account of the day (same order as liveAccounts). Cached for a few days. */
  tradesByAccount(day: number): ClosedTrade[][] {
    const hit = this.tradeCache.get(day);
    if (hit) {
      this.tradeCache.delete(day);
      this.tradeCache.set(day, hit);
      return hit;
    }
    const lists = this.liveAccounts(day).map((acc) => closedTradesOf(this.ctx, acc, day));
    this.tradeCache.set(day, lists);
    if (this.tradeCache.size > CACHE_DAYS) this.tradeCache.delete(this.tradeCache.keys().next().value as number);
    return lists;
  }

  /** Number of open trades at the end of a day without generating them. */
  openTradeCount(day: number): number {
    return this.tradeCount(day, false);
  }

  /** Incremental writer of a day's closed (or open) trades as JSON; see tradesJson. */
  tradeJsonBuilder(kind: 'closed' | 'open', day: number): TradeDayBuilder {
    const closing = kind === 'closed';
    return new TradeDayBuilder(
      this.ctx,
      this.liveAccounts(day),
      day,
      closing,
      closing ? this.closedTradeCount(day) : this.openTradeCount(day),
    );
  }

  /**
   * A day's closed (or open) trades as JSON text, written without objects (what the API serves); each record is
   * byte-identical to JSON.stringify of the matching closedTrades / openTrades record. Not cached.
   */
  tradesJson(kind: 'closed' | 'open', date: DateLike): TradeDayJson {
    const d = this.day(date);
    if (d === undefined) return { count: 0, buf: Buffer.alloc(0), offs: new Uint32Array(1) };
    return this.tradeJsonBuilder(kind, d).finish();
  }

  closedTrades(date: DateLike): ClosedTrade[] {
    const d = this.day(date);
    return d === undefined ? [] : this.tradesByAccount(d).flat();
  }

  openTrades(date: DateLike): OpenTrade[] {
    const d = this.day(date);
    return d === undefined ? [] : this.liveAccounts(d).flatMap((acc) => openTradesOf(this.ctx, acc, d));
  }

  dailyMetrics(date: DateLike): MetricsRecord[] {
    const d = this.day(date);
    if (d === undefined) return [];
    const trades = this.tradesByAccount(d);
    return this.liveAccounts(d).map((acc, k) => dailyRecord(this.ctx, acc, d, trades[k]));
  }

  hourlyMetrics(date: DateLike): MetricsRecord[] {
    const d = this.day(date);
    if (d === undefined) return [];
    const trades = this.tradesByAccount(d);
    return this.liveAccounts(d).flatMap((acc, k) => hourlyRecords(this.ctx, acc, d, trades[k]));
  }

  /** One record per account as of the last day; generates every trade once (cached). */
  alltimeMetrics(): MetricsRecord[] {
    if (!this.alltimeCache) {
      this.alltimeCache = this.ledger.accounts.map((acc) => {
        const trades: ClosedTrade[] = [];
        for (let d = acc.startDay; d <= acc.endDay; d++)
          for (const t of closedTradesOf(this.ctx, acc, d)) trades.push(t);
        return alltimeRecord(this.ctx, acc, trades, this.days - 1);
      });
    }
    return this.alltimeCache;
  }

  accounts(): AccountRecord[] {
    return this.ledger.accounts.map((acc) => {
      const i = acc.endDay - acc.startDay;
      const p = acc.plan;
      return {
        accountId: acc.accountId,
        login: acc.login,
        traderId: this.ledger.traits[acc.trader].traderId,
        planId: p.planId,
        startingBalance: p.startingBalance,
        currentBalance: acc.balance[i] / 100,
        currentEquity: (acc.balance[i] + acc.floating[i]) / 100,
        profitTargetPct: p.profitTargetPct,
        maxDailyDrawdownPct: p.dailyLossLimitPct,
        maxDrawdownPct: p.maxTrailingDrawdownPct,
        maxLeverage: p.leverage,
        isDrawdownRelative: !p.makeDrawdownStatic,
        breached: acc.endStatus === BREACHED,
        isUpgraded: acc.endStatus === PASSED,
        phase: p.phase,
        status: statusOn(acc, acc.endDay),
        createdAt: new Date(this.cal.dayMs(acc.startDay) + 6 * 3600_000 + (acc.idx % 3600) * 1000).toISOString(),
        updatedAt: new Date(this.cal.dayMs(acc.endDay) + 23 * 3600_000).toISOString(),
      };
    });
  }

  regimes(date: DateLike): RegimeRecord[] {
    const d = this.day(date);
    return d === undefined ? [] : [this.regimeSeries.record(d)];
  }

  /**
   * The expected net profit the generator used for an account-day, before noise: E[net] over both whether the
   * trader trades and how the day turns out, given everything known at the start of the day. Undefined when
   * the account was not live that day.
   */
  oracle(accountId: string, date: DateLike): number | undefined {
    const acc = this.byId.get(accountId);
    const d = this.day(date);
    if (!acc || d === undefined || d < acc.startDay || d > acc.endDay) return undefined;
    return acc.expected[d - acc.startDay];
  }

  oracleRecords(date: DateLike): OracleRecord[] {
    const d = this.day(date);
    if (d === undefined) return [];
    const iso = this.cal.iso(d);
    return this.liveAccounts(d).map((acc) => ({
      accountId: acc.accountId,
      date: iso,
      expectedNetProfit: acc.expected[d - acc.startDay],
      medianNetProfit: medianNet(acc, d - acc.startDay),
      q05NetProfit: quantileNet(acc, d - acc.startDay, 0.05),
      q95NetProfit: quantileNet(acc, d - acc.startDay, 0.95),
      expectedAbsNetProfit: expectedAbsNet(acc, d - acc.startDay),
    }));
  }
}

export function generateFirm(options: FirmOptions): Firm {
  return new Firm({ startDate: DEFAULT_START_DATE, plansDir: DEFAULT_PLANS_DIR, ...options });
}
