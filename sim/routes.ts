// The endpoints: which records each serves, grouped by day, and which query filters narrow them.
import type { Firm, TradeDayBuilder } from './firm.ts';
import type { ByteSource, BytePage, DaySource, DayBytes } from './listing.ts';
import { closedTradeJson, openTradeJson } from './json.ts';

export class BadRequest extends Error {}

type Row = Record<string, unknown>;

export interface Route {
  /** Page size cap (limit above it is clamped). */
  maxLimit: number;
  /** Data is the bare list (accounts) rather than {data,total,skip,limit,count}. */
  bareList: boolean;
  source: DaySource<Row>;
  keep?: (r: Row) => boolean;
  /** Identifies a record in fault reports. */
  key: (r: Row) => string;
  /** Records also available as JSON bytes per day: the fast path when no filter applies (trades). */
  bytes?: ByteSource;
  /** Called after a byte page was served (pre-generates the next day). */
  served?: (page: BytePage) => void;
}

/** Days of trade JSON kept per kind, and records written per background step. */
const TRADE_DAYS_CACHED = 4;
const PREFETCH_STEP = 1500;

/**
 * Trade days as JSON bytes, a few per kind (LRU), with background pre-generation: prefetch(day) writes the day in
 * setImmediate steps between requests; a request for a day still being written finishes it at once.
 */
export class TradeJsonCache {
  private readonly days = { closed: new Map<number, TradeDayBuilder>(), open: new Map<number, TradeDayBuilder>() };
  private readonly queue: TradeDayBuilder[] = [];
  private timer: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly firm: Firm) {}

  private entry(kind: 'closed' | 'open', day: number): TradeDayBuilder {
    const map = this.days[kind];
    let b = map.get(day);
    if (b) {
      map.delete(day);
    } else {
      b = this.firm.tradeJsonBuilder(kind, day);
      if (map.size >= TRADE_DAYS_CACHED) map.delete(map.keys().next().value as number);
    }
    map.set(day, b);
    return b;
  }

  get(kind: 'closed' | 'open', day: number): DayBytes {
    return this.entry(kind, day).finish();
  }

  has(kind: 'closed' | 'open', day: number): boolean {
    return this.days[kind].has(day);
  }

  prefetch(kind: 'closed' | 'open', day: number): void {
    if (this.closed || day < 0 || day >= this.firm.days || this.days[kind].has(day)) return;
    const b = this.entry(kind, day);
    this.queue.push(b);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed || this.queue.length === 0) return;
    this.timer = setImmediate(() => {
      this.timer = undefined;
      const b = this.queue[0];
      const kind = b.closing ? 'closed' : 'open';
      // Evicted before it was finished, or finished by a request: nothing left to do.
      if (this.days[kind].get(b.day) !== b || b.step(PREFETCH_STEP)) this.queue.shift();
      this.schedule();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export const ENDPOINTS = [
  'accounts',
  'v2/metrics/alltime',
  'v2/metrics/daily',
  'v2/metrics/hourly',
  'v2/trades/closed',
  'v2/trades/open',
  'v2/regimes/daily',
  '_sim/oracle',
] as const;

function list(q: URLSearchParams, name: string): string[] | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function intList(q: URLSearchParams, name: string, lo: number, hi: number): Set<number> | undefined {
  const xs = list(q, name);
  if (!xs) return undefined;
  return new Set(
    xs.map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < lo || n > hi)
        throw new BadRequest(`${name}: "${x}" is not an integer in ${lo}-${hi}`);
      return n;
    }),
  );
}

function isDate(s: string): boolean {
  return /^\d{8}$/.test(s) || /^\d{4}-\d{2}-\d{2}/.test(s);
}

/** Day indices named by a YYYYMMDD list (dates outside the history select nothing). */
function dayList(firm: Firm, q: URLSearchParams, name: string): number[] | undefined {
  const xs = list(q, name);
  if (!xs) return undefined;
  const days = new Set<number>();
  for (const x of xs) {
    if (!isDate(x)) throw new BadRequest(`${name}: "${x}" is not a YYYYMMDD date`);
    const d = firm.day(x);
    if (d !== undefined) days.add(d);
  }
  return [...days].sort((a, b) => a - b);
}

/** A time bound as an ISO string; a bare date as "to" means the end of that day. */
function timeBound(q: URLSearchParams, name: string, end: boolean): string | undefined {
  const v = q.get(name)?.trim();
  if (!v) return undefined;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + (end ? 86_400_000 - 1 : 0) : Date.parse(v);
  if (Number.isNaN(ms)) throw new BadRequest(`${name}: "${v}" is not a date or ISO timestamp`);
  return new Date(ms).toISOString();
}

function allDays(firm: Firm): number[] {
  return Array.from({ length: firm.days }, (_, d) => d);
}

function tradeDays(firm: Firm, q: URLSearchParams): number[] {
  const one = q.get('trade-date');
  const from = q.get('trade-date-from');
  const to = q.get('trade-date-to');
  for (const [n, v] of [
    ['trade-date', one],
    ['trade-date-from', from],
    ['trade-date-to', to],
  ] as const) {
    if (v && !isDate(v)) throw new BadRequest(`${n}: "${v}" is not a YYYYMMDD date`);
  }
  if (one) {
    const d = firm.day(one);
    return d === undefined ? [] : [d];
  }
  const clamp = (s: string | null, dflt: number, edge: 'from' | 'to') => {
    if (!s) return dflt;
    const d = firm.day(s);
    if (d !== undefined) return d;
    const ms = Date.UTC(
      Number(s.slice(0, 4)),
      Number(s.replace(/-/g, '').slice(4, 6)) - 1,
      Number(s.replace(/-/g, '').slice(6, 8)),
    );
    const before = ms < firm.cal.startMs;
    return edge === 'from' ? (before ? 0 : firm.days) : before ? -1 : firm.days - 1;
  };
  const lo = clamp(from, 0, 'from');
  const hi = clamp(to, firm.days - 1, 'to');
  return Array.from({ length: Math.max(0, hi - lo + 1) }, (_, k) => lo + k);
}

function all(...preds: ((r: Row) => boolean)[]): ((r: Row) => boolean) | undefined {
  return preds.length === 0 ? undefined : (r) => preds.every((p) => p(r));
}

function inSet(field: string, values: Set<string | number> | string[] | undefined): ((r: Row) => boolean) | undefined {
  if (!values) return undefined;
  const set = values instanceof Set ? values : new Set(values);
  return (r) => set.has(r[field] as string | number);
}

function defined<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

export class Routes {
  private cache = new Map<string, { items: Row[]; json: string[] }>();
  readonly tradeJson: TradeJsonCache;
  /**
   * The last two distinct days served per trade kind: prefetch beyond a listing only when the client walks days in
   * order.
   */
  private readonly walks = { closed: { prev: -2, day: -2 }, open: { prev: -2, day: -2 } };

  constructor(private readonly firm: Firm) {
    this.tradeJson = new TradeJsonCache(firm);
  }

  close(): void {
    this.tradeJson.close();
  }

  private rows(kind: string, day: number, make: () => Row[], toJson: (r: Row) => string = (r) => JSON.stringify(r)) {
    const key = `${kind}:${day}`;
    let hit = this.cache.get(key);
    if (!hit) {
      const items = make();
      hit = { items, json: items.map(toJson) };
      this.cache.set(key, hit);
      if (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value as string);
    }
    return hit;
  }

  private metricsFilters(q: URLSearchParams): ((r: Row) => boolean)[] {
    return defined([
      inSet('login', list(q, 'logins')),
      inSet('accountId', list(q, 'accountIds')),
      inSet('type', intList(q, 'types', 0, 99)),
      inSet('phase', intList(q, 'phases', 0, 9)),
      inSet('broker', intList(q, 'providers', 0, 1e6)),
      inSet('mt_version', intList(q, 'platforms', 0, 1e6)),
    ]);
  }

  route(endpoint: string, q: URLSearchParams): Route | undefined {
    const firm = this.firm;
    switch (endpoint) {
      case 'accounts': {
        return {
          maxLimit: 500,
          bareList: true,
          source: {
            days: [0],
            count: () => firm.ledger.accounts.length,
            rows: () => this.rows('accounts', 0, () => firm.accounts() as unknown as Row[]),
          },
          keep: all(...defined([inSet('login', list(q, 'logins')), inSet('traderId', list(q, 'traders'))])),
          key: (r) => String(r.accountId),
        };
      }
      case 'v2/metrics/alltime':
        return {
          maxLimit: 1000,
          bareList: false,
          source: {
            days: [0],
            count: () => firm.ledger.accounts.length,
            rows: () => this.rows('alltime', 0, () => firm.alltimeMetrics()),
          },
          keep: all(...this.metricsFilters(q)),
          key: (r) => String(r.accountId),
        };
      case 'v2/metrics/daily':
        return {
          maxLimit: 1000,
          bareList: false,
          source: {
            days: dayList(firm, q, 'dates') ?? allDays(firm),
            count: (d) => firm.ledger.liveByDay[d].length,
            rows: (d) => this.rows('daily', d, () => firm.dailyMetrics(d)),
          },
          keep: all(...this.metricsFilters(q)),
          key: (r) => `${r.accountId}:${r.date}`,
        };
      case 'v2/metrics/hourly': {
        const days = dayList(firm, q, 'dates') ?? allDays(firm);
        const ids = list(q, 'accountIds');
        if (q.get('dates') && list(q, 'dates')!.length > 1)
          throw new BadRequest('dates: hourly metrics take 1 date a call');
        if (ids && ids.length > 25)
          throw new BadRequest('accountIds: hourly metrics take at most 25 accountIds a call');
        const rows = (d: number) => this.rows('hourly', d, () => firm.hourlyMetrics(d));
        return {
          maxLimit: 1000,
          bareList: false,
          source: { days, count: (d) => rows(d).items.length, rows },
          keep: all(...this.metricsFilters(q), ...defined([inSet('hour', intList(q, 'hours', 0, 23))])),
          key: (r) => `${r.accountId}:${r.datetime}`,
        };
      }
      case 'v2/trades/closed':
      case 'v2/trades/open': {
        const closed = endpoint === 'v2/trades/closed';
        const preds = defined<(r: Row) => boolean>([inSet('login', list(q, 'logins'))]);
        const symbols = list(q, 'symbols');
        if (symbols) {
          const set = new Set(symbols.map((s) => s.toUpperCase()));
          preds.push((r) => set.has(String(r.stdSymbol).toUpperCase()) || set.has(String(r.trdSymbol).toUpperCase()));
        }
        const bounds: [string, string, boolean][] = [
          ['open-time-from', 'openTime', false],
          ['open-time-to', 'openTime', true],
          ...(closed
            ? ([
                ['close-time-from', 'closeTime', false],
                ['close-time-to', 'closeTime', true],
              ] as [string, string, boolean][])
            : []),
        ];
        for (const [param, field, end] of bounds) {
          const b = timeBound(q, param, end);
          if (b !== undefined) preds.push(end ? (r) => String(r[field]) <= b : (r) => String(r[field]) >= b);
        }
        const count = closed ? (d: number) => firm.closedTradeCount(d) : (d: number) => firm.openTradeCount(d);
        const kind = closed ? 'closed' : 'open';
        const days = tradeDays(firm, q);
        const rows = closed
          ? (d: number) =>
              this.rows(
                'closed',
                d,
                () => firm.closedTrades(d) as unknown as Row[],
                closedTradeJson as unknown as (r: Row) => string,
              )
          : (d: number) =>
              this.rows(
                'open',
                d,
                () => firm.openTrades(d) as unknown as Row[],
                openTradeJson as unknown as (r: Row) => string,
              );
        return {
          maxLimit: 1000,
          bareList: false,
          source: { days, count, rows },
          keep: all(...preds),
          key: (r) => `${r.platform}:${r.position}`,
          bytes: { days, count, bytes: (d) => this.tradeJson.get(kind, d) },
          // The next day of the listing (or of the calendar after a listing's last day) is likely asked next.
          served: (page) => {
            if (page.lastDayIndex < 0) return;
            const k = page.lastDayIndex;
            const walk = this.walks[kind];
            if (days[k] !== walk.day) [walk.prev, walk.day] = [walk.day, days[k]];
            // Past the listing's last day only when the client walks the calendar (it asked for the day before).
            if (k + 1 < days.length) this.tradeJson.prefetch(kind, days[k + 1]);
            else if (walk.prev === days[k] - 1) this.tradeJson.prefetch(kind, days[k] + 1);
          },
        };
      }
      case 'v2/regimes/daily':
        return {
          maxLimit: 1000,
          bareList: false,
          source: {
            days: dayList(firm, q, 'dates') ?? allDays(firm),
            count: () => 1,
            rows: (d) => this.rows('regimes', d, () => firm.regimes(d) as unknown as Row[]),
          },
          key: (r) => String(r.date),
        };
      case '_sim/oracle':
        return {
          maxLimit: 1000,
          bareList: false,
          source: {
            days: dayList(firm, q, 'dates') ?? allDays(firm),
            count: (d) => firm.ledger.liveByDay[d].length,
            rows: (d) => this.rows('oracle', d, () => firm.oracleRecords(d) as unknown as Row[]),
          },
          keep: all(...defined([inSet('accountId', list(q, 'accountIds'))])),
          key: (r) => `${r.accountId}:${r.date}`,
        };
      default:
        return undefined;
    }
  }
}
