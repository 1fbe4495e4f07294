// The daily market regime: a persistent volatility state, a mean-reverting sentiment, scheduled economic
// events and the prices of the regime instruments. It is the simulator's stand-in for the regimes source
// database (public.regimes_daily) and it moves traders' PnL, so a model that reads it can gain from it.
import { Rng } from './rng.ts';
import type { Calendar } from './calendar.ts';
import { INSTRUMENTS, REGIME_SYMBOLS } from './instruments.ts';

export const VOL_NAMES = ['low', 'normal', 'high'] as const;
/** Multiplier of PnL dispersion per volatility regime. */
export const VOL_MULT = [0.7, 1, 1.6] as const;
/** Row = today's regime, column = tomorrow's: persistent, so today's regime predicts tomorrow's. */
const VOL_TRANSITIONS = [
  [0.93, 0.07, 0.0],
  [0.04, 0.92, 0.04],
  [0.0, 0.12, 0.88],
];
const WARMUP = 90;
/** Days ahead the regimes record lists scheduled releases for. */
const CALENDAR_DAYS = 14;

export interface RegimeRecord {
  date: string;
  market_news: unknown;
  instruments: { data: Record<string, { eod_price: number; daily_return: number; volatility_90d: number }> };
  country_economic_indicators: Record<string, number>;
  news_analysis: unknown;
  summary: unknown;
  created_at: string;
  updated_at: string;
}

export class RegimeSeries {
  /** 0 low, 1 normal, 2 high. */
  readonly vol: Uint8Array;
  /** In [-1, 1]; positive = risk-on. */
  readonly sentiment: Float64Array;
  /** Scheduled macro release (NFP, CPI, FOMC): more dispersion, worse for swing traders. */
  readonly event: Uint8Array;
  /** prices[day * n + k] for instrument k (all INSTRUMENTS), end of day. */
  readonly prices: Float64Array;
  private readonly returns: Float64Array;
  private readonly vol90: Float64Array;
  private readonly rates: Float64Array;
  private readonly newsCount: Uint16Array;

  constructor(
    seed: number,
    readonly cal: Calendar,
  ) {
    const days = cal.days;
    const n = INSTRUMENTS.length;
    const total = days + WARMUP;
    const rng = new Rng(seed, 0x5e91);
    this.vol = new Uint8Array(days);
    this.sentiment = new Float64Array(days);
    this.event = new Uint8Array(days);
    this.prices = new Float64Array(days * n);
    this.returns = new Float64Array(days * n);
    this.vol90 = new Float64Array(days * n);
    this.rates = new Float64Array(days * 6);
    this.newsCount = new Uint16Array(days);

    const allRet = new Float64Array(total * n);
    const price = INSTRUMENTS.map((i) => i.basePrice);
    let v = 1;
    let s = 0;
    let ff = 5.33;
    let cpi = 3.4;
    let t2 = 4.3;
    let t10 = 4.0;
    let un = 3.8;
    let gdp = 2.5;
    for (let t = 0; t < total; t++) {
      v = rng.weighted(VOL_TRANSITIONS[v]);
      s = Math.max(-1, Math.min(1, 0.9 * s + 0.18 * rng.normal()));
      const day = t - WARMUP;
      const wd = day >= 0 ? cal.weekday(day) : t % 7;
      const isEvent = day >= 0 ? scheduledEvent(cal, day) !== undefined : warmupEvent(t);
      for (let k = 0; k < n; k++) {
        const ins = INSTRUMENTS[k];
        const open = wd < 5 || ins.tradesWeekend;
        const dailyVol = (ins.vol / Math.sqrt(252)) * VOL_MULT[v] * (isEvent ? 1.4 : 1);
        const drift = ins.assetClass === 'indices' || ins.assetClass === 'crypto' ? 0.25 * s * dailyVol : 0;
        const r = open ? drift + dailyVol * rng.studentT(4) : 0;
        price[k] *= Math.exp(r);
        allRet[t * n + k] = r;
      }
      ff = Math.max(0, ff + 0.01 * rng.normal() - 0.002);
      cpi = Math.max(0, cpi + 0.02 * rng.normal() - 0.003);
      t2 = Math.max(0, t2 + 0.03 * rng.normal() - 0.001);
      t10 = Math.max(0, t10 + 0.025 * rng.normal());
      un = Math.max(2, un + 0.01 * rng.normal() + 0.0005);
      gdp = gdp + 0.01 * rng.normal();
      if (day < 0) continue;
      this.vol[day] = v;
      this.sentiment[day] = s;
      this.event[day] = isEvent ? 1 : 0;
      this.newsCount[day] = Math.round((wd < 5 ? 120 : 40) * (1 + 0.5 * v) * (isEvent ? 1.5 : 1) + 10 * rng.next());
      this.rates.set([ff, cpi, t2, t10, un, gdp], day * 6);
      for (let k = 0; k < n; k++) {
        this.prices[day * n + k] = price[k];
        this.returns[day * n + k] = allRet[t * n + k];
        let sum = 0;
        let sum2 = 0;
        for (let j = t - 89; j <= t; j++) {
          const x = allRet[j * n + k];
          sum += x;
          sum2 += x * x;
        }
        const variance = Math.max(0, sum2 / 90 - (sum / 90) ** 2);
        this.vol90[day * n + k] = Math.sqrt(variance * 252);
      }
    }
  }

  price(day: number, k: number): number {
    return this.prices[day * INSTRUMENTS.length + k];
  }

  /** The record as the regimes source database holds it (JSON columns as objects). */
  record(day: number): RegimeRecord {
    const n = INSTRUMENTS.length;
    const rng = new Rng(day, 0x7e95);
    const v = this.vol[day];
    const s = this.sentiment[day];
    const count = this.newsCount[day];
    const bullish = Math.round(count * (0.35 + 0.3 * s) * (0.9 + 0.2 * rng.next()));
    const bearish = Math.round(count * (0.35 - 0.3 * s) * (0.9 + 0.2 * rng.next()));
    const [ff, cpi, t2, t10, un, gdp] = this.rates.subarray(day * 6, day * 6 + 6);
    const spread = t10 - t2;
    const data: RegimeRecord['instruments']['data'] = {};
    REGIME_SYMBOLS.forEach((sym, k) => {
      const ins = INSTRUMENTS[k];
      data[sym] = {
        eod_price: round(this.prices[day * n + k], ins.digits),
        daily_return: round(this.returns[day * n + k], 6),
        volatility_90d: round(this.vol90[day * n + k], 6),
      };
    });
    const next = VOL_TRANSITIONS[v];
    const riskOn = clamp01(0.3 + 0.4 * s) * (1 - next[2]);
    const iso = this.cal.iso(day);
    return {
      date: iso,
      market_news: {
        count,
        top_headlines: [
          this.event[day] ? 'Scheduled macro release moves markets' : 'Markets trade in a quiet session',
          s > 0.2 ? 'Risk appetite improves' : s < -0.2 ? 'Investors turn defensive' : 'Mixed signals across assets',
        ],
      },
      instruments: { data },
      country_economic_indicators: {
        fed_funds_rate_effective: round(ff, 2),
        inflation_us_consumer_prices: round(cpi, 2),
        treasury_2_year: round(t2, 2),
        treasury_10_year: round(t10, 2),
        unemployment_rate: round(un, 2),
        real_gdp: round(gdp, 2),
      },
      news_analysis: {
        count,
        sentiment_summary: {
          average_score: round(s, 4),
          distribution: { bullish, bearish, neutral: Math.max(0, count - bullish - bearish) },
        },
      },
      summary: {
        key_metrics: {
          volatility_regime: VOL_NAMES[v],
          liquidity_state: v === 2 ? 'tight' : v === 0 ? 'abundant' : 'normal',
          sentiment_level: s > 0.2 ? 'bullish' : s < -0.2 ? 'bearish' : 'neutral',
          yield_curve_shape: spread < -0.1 ? 'inverted' : spread < 0.25 ? 'flat' : 'normal',
          anomaly_count: this.event[day] + (v === 2 ? rng.int(1, 3) : rng.int(0, 1)),
        },
        regime_fingerprint:
          `${VOL_NAMES[v]}-${s > 0.2 ? 'on' : s < -0.2 ? 'off' : 'flat'}` + `${this.event[day] ? '-event' : ''}`,
        transition_probabilities: {
          to_risk_on: round(riskOn, 4),
          to_risk_off: round(clamp01(1 - riskOn - next[2]), 4),
          to_vol_spike: round(next[2], 4),
        },
        economic_event: this.event[day] === 1,
        // The economic calendar: releases are scheduled weeks ahead, so the next days' events are known today.
        upcoming_events: Array.from({ length: CALENDAR_DAYS }, (_, k) => day + 1 + k).flatMap((d) => {
          const event = scheduledEvent(this.cal, d);
          return event ? [{ date: this.cal.iso(d).slice(0, 10), event }] : [];
        }),
      },
      created_at: new Date(this.cal.dayMs(day) + 23 * 3600_000).toISOString(),
      updated_at: new Date(this.cal.dayMs(day) + 23 * 3600_000).toISOString(),
    };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

/**
 * The scheduled macro release of a day, if any: NFP on the first Friday, CPI on the Wednesday of the 10th-14th,
 * an FOMC-like meeting every sixth Wednesday. A pure function of the date, as a real economic calendar is.
 */
export function scheduledEvent(cal: Calendar, day: number): 'NFP' | 'CPI' | 'FOMC' | undefined {
  const wd = cal.weekday(day);
  const dom = new Date(cal.dayMs(day)).getUTCDate();
  if (wd === 4 && dom <= 7) return 'NFP';
  if (wd === 2 && dom >= 10 && dom <= 14) return 'CPI';
  if (wd === 2 && (day + WARMUP) % 42 === 17) return 'FOMC';
  return undefined;
}

/** Warm-up days (before the first day) have no date: a weekday rhythm stands in for the calendar. */
function warmupEvent(t: number): boolean {
  return t % 7 === 4 || (t % 7 === 2 && t % 42 === 17);
}
