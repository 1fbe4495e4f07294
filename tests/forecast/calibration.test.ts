// Conformal recalibration (forecast/calibration.ts) on samples whose answer is known: the shifts hit the nominal
// miss rate on fresh draws of the same distribution, and outcomes the published interval always contains (the
// exact zeros of days without trading, where the point forecast is 0) do not push coverage above nominal.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  applyCalibration,
  conformalQuantile,
  type DayGroup,
  fitCalibration,
  targetDayGroup,
} from '../../forecast/calibration.ts';

const test = suite('forecast calibration');

/** A small LCG: deterministic uniforms, then normals by Box-Muller. */
function normals(n: number, seed: number): Float64Array {
  let x = seed;
  const u = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return (x + 0.5) / 2 ** 31;
  };
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** Share of outcomes inside the published interval: the calibrated bounds widened to contain the point. */
function coverage(
  bounds: { lower: ArrayLike<number>; upper: ArrayLike<number> },
  point: ArrayLike<number>,
  actual: ArrayLike<number>,
): number {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    const lo = Math.min(bounds.lower[i], point[i]);
    const hi = Math.max(bounds.upper[i], point[i]);
    if (actual[i] >= lo && actual[i] <= hi) inside++;
  }
  return inside / actual.length;
}

test('the conformal quantile is the ceil((n + 1)(1 - tail))-th smallest score', () => {
  const scores = Array.from({ length: 19 }, (_, i) => 19 - i);
  assert.equal(conformalQuantile(scores, 0.05), 19);
  assert.equal(conformalQuantile(scores, 0.1), 18);
  assert.equal(conformalQuantile([...scores, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33], 0.25), 26);
  assert.equal(conformalQuantile([-Infinity, -Infinity, -Infinity, 4, 7], 0.5), 4, 'unmissable rows give way');
});

test('too narrow bounds on a known sample are shifted to miss 5% on each side of fresh data', () => {
  const fit = normals(4000, 1);
  const fresh = normals(20_000, 2);
  // Bounds at +-1 (about 68% coverage) for standard normal outcomes: the 5%/95% quantiles are at +-1.645.
  const bounds = (n: number) => ({ lower: new Float64Array(n).fill(-1), upper: new Float64Array(n).fill(1) });
  const weekday = (n: number): DayGroup[] => new Array(n).fill('weekday');
  const cal = fitCalibration(bounds(fit.length), new Float64Array(fit.length), fit, weekday(fit.length));
  const g = cal.groups.weekday!;
  assert.ok(Math.abs(g.lower - 0.645) < 0.06 && Math.abs(g.upper - 0.645) < 0.06, JSON.stringify(g));
  assert.ok(Math.abs(g.rawCoverage - 0.683) < 0.03, `raw coverage ${g.rawCoverage}`);
  const moved = applyCalibration(bounds(fresh.length), weekday(fresh.length), cal);
  const below = fresh.filter((y, i) => y < moved.lower[i]).length / fresh.length;
  const above = fresh.filter((y, i) => y > moved.upper[i]).length / fresh.length;
  assert.ok(Math.abs(below - 0.05) < 0.01 && Math.abs(above - 0.05) < 0.01, `missed ${below} below, ${above} above`);
});

test('exact zeros the published interval always contains leave pooled coverage at nominal, not above', () => {
  // Weekend-like days: 70% of outcomes are exactly 0 (no trading), the rest normal; the point forecast is 0 and
  // the raw bounds a too wide +-3, except that on half the no-trade rows the 95% model says -0.5: the published
  // interval still holds their 0 (it contains the point), so they must not count as misses to be covered.
  const sample = (n: number, seed: number) => {
    const z = normals(n, seed);
    return z.map((v, i) => (i % 10 < 7 ? 0 : v));
  };
  const fit = sample(6000, 3);
  const fresh = sample(30_000, 4);
  const bounds = (n: number) => ({
    lower: new Float64Array(n).fill(-3),
    upper: Float64Array.from({ length: n }, (_, i) => (i % 10 < 7 && i % 2 === 0 ? -0.5 : 3)),
  });
  const weekend = (n: number): DayGroup[] => new Array(n).fill('weekend');
  const cal = fitCalibration(bounds(fit.length), new Float64Array(fit.length), fit, weekend(fit.length));
  const moved = applyCalibration(bounds(fresh.length), weekend(fresh.length), cal);
  const covered = coverage(moved, new Float64Array(fresh.length), fresh);
  assert.ok(Math.abs(covered - 0.9) < 0.01, `pooled coverage ${covered}`);
  // Outcomes that trade are covered only 2/3 of the time: the zeros take the rest of the 90%.
  const traded = fresh.filter((_, i) => i % 10 >= 7);
  const coveredTraded = traded.filter((y) => y >= moved.lower[7] && y <= moved.upper[7]).length / traded.length;
  assert.ok(Math.abs(coveredTraded - 2 / 3) < 0.02, `coverage of trading days ${coveredTraded}`);
});

test('groups are calibrated apart and a group the fold lacked is left as it is', () => {
  const y = Float64Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? ((i % 40) - 20) * 10 : (i % 40) - 20));
  const groups: DayGroup[] = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 'weekday' : 'weekend'));
  const zeros = new Float64Array(400);
  const cal = fitCalibration({ lower: zeros, upper: zeros }, zeros, y, groups);
  assert.ok(cal.groups.weekday!.upper > 5 * cal.groups.weekend!.upper, JSON.stringify(cal.groups));
  const weekdayOnly = fitCalibration({ lower: zeros, upper: zeros }, zeros, y, new Array(400).fill('weekday'));
  const moved = applyCalibration({ lower: [-1], upper: [1] }, ['weekend'], weekdayOnly);
  assert.equal([moved.lower[0], moved.upper[0]], [-1, 1]);
});

test('the target day group is that of D + 1', () => {
  assert.is(targetDayGroup('2024-03-15'), 'weekend', 'Friday features predict Saturday');
  assert.is(targetDayGroup('2024-03-16'), 'weekend');
  assert.is(targetDayGroup('2024-03-17'), 'weekday', 'Sunday features predict Monday');
  assert.is(targetDayGroup('2024-03-18'), 'weekday');
});

test.run();
