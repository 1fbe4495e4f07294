import { z } from 'zod';
import { targetDayGroup } from './calibration.ts';
import type { Matrix } from './matrix.ts';

/**
 * The models learn next-day PnL per dollar of starting balance and predictions are scaled back: PnL, its
 * spread and its limits all grow with the account's size, so on one scale the trees share what they learn
 * across account sizes instead of splitting on size first. The best forecast under absolute error (a median)
 * and every quantile scale with a positive divisor, so nothing is lost by the change of units.
 */
export const TARGET_SCALE = 'starting_balance';

/** The matrix with its per-row target divisor: the starting balance, 1 where it is missing or not positive. */
export function withTargetScale(m: Matrix): Matrix {
  const j = m.features.findIndex((f) => f.name === TARGET_SCALE);
  const scale = Float64Array.from({ length: m.n }, (_, i) => {
    const b = j < 0 ? NaN : m.columns[j][i];
    return Number.isFinite(b) && b > 0 ? b : 1;
  });
  return { ...m, scale };
}

/** The label in the units the models learn. */
export function modelledLabel(m: Matrix): Float64Array {
  const { scale } = m;
  return scale ? Float64Array.from(m.label, (y, i) => y / scale[i]) : m.label;
}

/** Model outputs back in dollars. */
export function toMoney(values: ArrayLike<number>, scale: Float64Array | undefined): Float64Array {
  return Float64Array.from(values, (v, i) => (scale ? v * scale[i] : v));
}

/**
 * Factors the median forecast is multiplied by, per group of rows (`pointGroups`), chosen on the latest CV fold.
 * Where an account is unlikely to trade on the day predicted, at least half the mass of its PnL sits at exactly
 * 0, so 0 is the median the trees only approach; where it trades, the trees' noisy medians also gain from
 * shrinking towards 0. Which factor is best is measured rather than assumed. A group without one keeps 1.
 */
export const pointRuleSchema = z.record(z.string(), z.number().min(0).max(1));
export type PointRule = z.infer<typeof pointRuleSchema>;
export const SHRINK_FACTORS = [0, 0.25, 0.5, 0.75, 1] as const;

/** Weekday or weekend day predicted x how often the account traded on its recent weekend days. */
export function pointGroups(m: Matrix): string[] {
  const j = m.features.findIndex((f) => f.name === 'weekend_active_rate_30d');
  return m.dates.map((d, i) => {
    const rate = j < 0 ? NaN : m.columns[j][i];
    const bucket = !(rate > 0) ? 'none' : rate < 0.5 ? 'some' : 'most';
    return `${targetDayGroup(d)}:${bucket}`;
  });
}

/** Rows a group needs to choose its own factor; a smaller one takes its day group's (weekday or weekend). */
export const MIN_GROUP_ROWS = 100;

/**
 * Per group, the factor whose shrunk forecasts have the lowest absolute error (the larger one on a tie). A group
 * too small to tell a real gain from a few lucky rows takes the factor chosen on all rows of its day group.
 */
export function fitPointRule(money: ArrayLike<number>, actual: ArrayLike<number>, groups: string[]): PointRule {
  const best = (rows: number[]) => {
    const mae = (f: number) => rows.reduce((a, i) => a + Math.abs(f * money[i] - actual[i]), 0);
    return [...SHRINK_FACTORS].reverse().reduce((b, f) => (mae(f) < mae(b) ? f : b));
  };
  const rowsOf = (keep: (g: string) => boolean) =>
    groups.flatMap((g, i) => (keep(g) && Number.isFinite(actual[i]) ? [i] : []));
  const rule: PointRule = {};
  for (const g of new Set(groups)) {
    const rows = rowsOf((x) => x === g);
    const day = g.split(':')[0];
    rule[g] = best(rows.length >= MIN_GROUP_ROWS ? rows : rowsOf((x) => x.split(':')[0] === day));
  }
  return rule;
}

/** The median forecast in dollars, shrunk by its group's factor when a rule is given. */
export function pointForecast(values: ArrayLike<number>, m: Matrix, rule?: PointRule): Float64Array {
  const money = toMoney(values, m.scale);
  if (!rule) return money;
  const groups = pointGroups(m);
  return money.map((v, i) => v * (rule[groups[i]] ?? 1));
}
