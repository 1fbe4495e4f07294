import { z } from 'zod';
import { addDays } from '../runner/dates.ts';

/**
 * Conformal recalibration of the 5% and 95% quantile models, per tail and separately for weekday and weekend
 * target days (their PnL is distributed very differently: most traders do not trade weekends). Each shift is
 * the finite-sample conformal quantile of how far outcomes of the calibration fold fell beyond the bound, in
 * the models' units: bounds moved by it miss about 5% on each side on exchangeable days. The published interval
 * always contains the point forecast, so an outcome on the point's side of a bound (an exact 0 where the point
 * is 0, typically) cannot miss it whatever the shift: the shifts are fitted on the interval as published, or
 * those outcomes would count as misses to be covered and the shifts would overshoot the nominal coverage.
 */
const groupSchema = z.object({ n: z.number(), lower: z.number(), upper: z.number(), rawCoverage: z.number() });
export const calibrationSchema = z.object({
  /** Nominal share of outcomes expected beyond each bound. */
  tail: z.number(),
  groups: z.object({ weekday: groupSchema.optional(), weekend: groupSchema.optional() }),
});
export type Calibration = z.infer<typeof calibrationSchema>;
export type DayGroup = 'weekday' | 'weekend';

/** Whether the day predicted from feature day D (D + 1) is a Saturday or Sunday. */
export function targetDayGroup(featureDate: string): DayGroup {
  const weekday = new Date(`${addDays(featureDate, 1)}T00:00:00Z`).getUTCDay();
  return weekday === 0 || weekday === 6 ? 'weekend' : 'weekday';
}

/**
 * The ceil((n + 1)(1 - tail))-th smallest score: split conformal's quantile (the largest when n is small).
 * Scores of -Infinity (outcomes no shift can miss) leave it free below the finite ones: the smallest finite
 * score then keeps the misses under the tail.
 */
export function conformalQuantile(scores: number[], tail: number): number {
  const sorted = [...scores].sort((a, b) => a - b);
  const k = Math.min(sorted.length, Math.ceil((sorted.length + 1) * (1 - tail)));
  return Number.isFinite(sorted[k - 1]) ? sorted[k - 1] : (sorted.find(Number.isFinite) ?? 0);
}

/** Bounds, point forecasts and outcomes in the same units (the models'). */
export function fitCalibration(
  bounds: { lower: ArrayLike<number>; upper: ArrayLike<number> },
  point: ArrayLike<number>,
  actual: ArrayLike<number>,
  groups: DayGroup[],
  tail = 0.05,
): Calibration {
  const out: Calibration = { tail, groups: {} };
  for (const g of ['weekday', 'weekend'] as const) {
    const rows = groups.flatMap((x, i) => (x === g ? [i] : []));
    if (rows.length === 0) continue;
    const inside = rows.filter((i) => actual[i] >= bounds.lower[i] && actual[i] <= bounds.upper[i]).length;
    out.groups[g] = {
      n: rows.length,
      lower: conformalQuantile(
        rows.map((i) => (actual[i] < point[i] ? bounds.lower[i] - actual[i] : -Infinity)),
        tail,
      ),
      upper: conformalQuantile(
        rows.map((i) => (actual[i] > point[i] ? actual[i] - bounds.upper[i] : -Infinity)),
        tail,
      ),
      rawCoverage: inside / rows.length,
    };
  }
  return out;
}

/** Bounds moved by their group's shifts (unchanged for a group the calibration fold did not have). */
export function applyCalibration(
  bounds: { lower: ArrayLike<number>; upper: ArrayLike<number> },
  groups: DayGroup[],
  calibration: Calibration | undefined,
): { lower: Float64Array; upper: Float64Array } {
  const shift = (i: number) => calibration?.groups[groups[i]];
  return {
    lower: Float64Array.from(bounds.lower, (v, i) => v - (shift(i)?.lower ?? 0)),
    upper: Float64Array.from(bounds.upper, (v, i) => v + (shift(i)?.upper ?? 0)),
  };
}
