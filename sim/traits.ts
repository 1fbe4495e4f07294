// A trader's latent, persistent traits. Nothing here is served by the API: models have to infer it from the
// trader's history, which is what makes past PnL informative about tomorrow's.
import { Rng } from './rng.ts';
import { INSTRUMENTS } from './instruments.ts';

export type Style = 'scalper' | 'intraday' | 'swing';
export const STYLES: readonly Style[] = ['scalper', 'intraday', 'swing'];

export interface Traits {
  traderId: string;
  country: string;
  /**
   * Edge in units of daily risk: about N(0.03, 0.45); some are consistently good, many bad. Wide enough that a
   * month of history tells traders apart through the t3 noise: with N(0.03, 0.22) even the oracle's median
   * forecast was barely better than predicting zero, so no model could show what it learnt.
   */
  skill: number;
  /** Daily PnL dispersion as a fraction of the starting balance. */
  riskPct: number;
  style: Style;
  /** How much the trader follows market sentiment (directional styles gain when sentiment is strong). */
  directional: number;
  /** After a big loss: extra risk and a worse edge ("revenge trading"). */
  tilt: number;
  /** Hot hand: weight of recent momentum in tomorrow's mean. */
  momentum: number;
  /** Base probability of trading on a weekday. */
  activity: number;
  /** Weights over INSTRUMENTS. */
  symbolWeights: Float64Array;
  /** Trades weekends (crypto). */
  weekendTrader: boolean;
  /** UTC hour around which the trader's session centres. */
  sessionHour: number;
  stopLossUsage: number;
  takeProfitUsage: number;
  /** Typical notional as a multiple of balance. */
  leverageUse: number;
}

const COUNTRIES = ['GB', 'US', 'DE', 'NG', 'IN', 'AE', 'ZA', 'FR', 'ES', 'CA', 'MY', 'PL', 'BR', 'PK', 'EG'];

export function makeTraits(seed: number, trader: number): Traits {
  const rng = new Rng(seed, 0x7a17, trader);
  const style = STYLES[rng.weighted([0.3, 0.45, 0.25])];
  const weights = new Float64Array(INSTRUMENTS.length);
  const crypto = rng.chance(0.22);
  for (let k = 0; k < INSTRUMENTS.length; k++) {
    const ins = INSTRUMENTS[k];
    const base = ins.assetClass === 'crypto' ? (crypto ? 3 : 0.05) : ins.symbol === 'XAUUSD' ? 1.5 : 1;
    weights[k] = base * Math.exp(1.2 * rng.normal());
  }
  return {
    traderId: `C${String(500000 + ((trader * 7919 + (seed % 1000)) % 499999)).padStart(6, '0')}`,
    country: rng.pick(COUNTRIES),
    skill: 0.03 + 0.45 * rng.normal(),
    riskPct: 0.009 * Math.exp(0.45 * rng.normal()),
    style,
    directional:
      style === 'swing' ? rng.uniform(0.3, 1) : style === 'intraday' ? rng.uniform(0, 0.6) : rng.uniform(0, 0.2),
    tilt: rng.uniform(0, 1),
    momentum: rng.uniform(-0.05, 0.15),
    activity: rng.uniform(0.75, 0.98),
    symbolWeights: weights,
    weekendTrader: crypto && rng.chance(0.7),
    sessionHour: rng.pick([8, 9, 10, 13, 14, 15, 16, 20]),
    stopLossUsage: rng.uniform(0.2, 1),
    takeProfitUsage: rng.uniform(0.1, 0.8),
    leverageUse:
      style === 'scalper' ? rng.uniform(3, 10) : style === 'intraday' ? rng.uniform(1.5, 6) : rng.uniform(0.5, 3),
  };
}

/** Trades per active day by style (min, max). */
export const TRADES_PER_DAY: Record<Style, [number, number]> = {
  scalper: [8, 45],
  intraday: [2, 12],
  swing: [1, 4],
};
