// The models' units (forecast/target-scale.ts): balance scaling round-trips to dollars, and the point forecast's
// shrink towards 0 is chosen per group by absolute error and applied only to its group.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Matrix } from '../../forecast/matrix.ts';
import {
  fitPointRule,
  MIN_GROUP_ROWS,
  modelledLabel,
  pointForecast,
  pointGroups,
  pointRuleSchema,
  toMoney,
  withTargetScale,
} from '../../forecast/target-scale.ts';

const test = suite('forecast target scale');

/** Rows on Friday (predicting Saturday) and Monday (predicting Tuesday) with balances and weekend rates. */
function matrix(balance: number[], rate: number[], dates: string[], label: number[]): Matrix {
  return {
    features: [{ name: 'starting_balance' }, { name: 'weekend_active_rate_30d' }],
    columns: [Float64Array.from(balance), Float64Array.from(rate)],
    dates,
    accounts: dates.map((_, i) => `a${i}`),
    label: Float64Array.from(label),
    n: dates.length,
  };
}

test('the label scaled by the balance comes back as dollars; missing or bad balances scale by 1', () => {
  const m = withTargetScale(
    matrix([50_000, 0, NaN, 200_000], [0, 0, 0, 0], Array(4).fill('2024-03-18'), [250, -40, 7, -3000]),
  );
  assert.equal([...m.scale!], [50_000, 1, 1, 200_000]);
  const modelled = modelledLabel(m);
  assert.equal([...modelled], [0.005, -40, 7, -0.015]);
  const back = toMoney(modelled, m.scale);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(back[i] - m.label[i]) < 1e-9, `row ${i}: ${back[i]}`);
  assert.equal(
    [...pointForecast(modelled, m)].map((v) => Math.round(v * 1e6) / 1e6),
    [250, -40, 7, -3000],
  );
});

test('groups: the day predicted x how often the account trades weekends', () => {
  const m = matrix(
    [1, 1, 1, 1, 1],
    [NaN, 0, 0.25, 0.5, 1],
    ['2024-03-15', '2024-03-15', '2024-03-16', '2024-03-18', '2024-03-18'],
    [0, 0, 0, 0, 0],
  );
  assert.equal(pointGroups(m), ['weekend:none', 'weekend:none', 'weekend:some', 'weekday:most', 'weekday:most']);
});

test('per group the factor with the lowest absolute error wins: 0 where outcomes are 0, 1 where forecasts hit', () => {
  const groups = ['weekend:none', 'weekend:none', 'weekend:none', 'weekday:most', 'weekday:most', 'weekday:most'];
  const money = [30, -20, 10, 100, -50, 80];
  const actual = [0, 0, 0, 110, -45, 75];
  const rule = fitPointRule(money, actual, groups);
  assert.equal(rule, { 'weekend:none': 0, 'weekday:most': 1 });
  // Outcomes half the forecasts: the 0.5 factor is exact.
  assert.equal(fitPointRule([10, -20, 40], [5, -10, 20], ['g', 'g', 'g']), { g: 0.5 });
  // A tie keeps the larger factor (the model's forecast as it is).
  assert.equal(fitPointRule([0, 0], [3, -3], ['g', 'g']), { g: 1 });
  assert.ok(pointRuleSchema.safeParse(rule).success);
});

test("a group under MIN_GROUP_ROWS takes its day group's factor; a large one chooses its own", () => {
  // 'weekday:none' is large and its outcomes are 0; 'weekday:most' is small and the forecasts hit it exactly.
  const big = MIN_GROUP_ROWS + 20;
  const groups = [...Array(big).fill('weekday:none'), ...Array(5).fill('weekday:most'), 'weekend:none'];
  const money = [...Array(big).fill(10), ...Array(5).fill(50), 10];
  const actual = [...Array(big).fill(0), ...Array(5).fill(50), 10];
  assert.equal(fitPointRule(money, actual, groups), { 'weekday:none': 0, 'weekday:most': 0, 'weekend:none': 1 });
  const enough = [...Array(big).fill('weekday:none'), ...Array(big).fill('weekday:most')];
  const rule = fitPointRule([...Array(2 * big).fill(10)], [...Array(big).fill(0), ...Array(big).fill(10)], enough);
  assert.equal(rule, { 'weekday:none': 0, 'weekday:most': 1 });
});

test('the rule shrinks only its groups and a group it lacks keeps the forecast', () => {
  const m = withTargetScale(
    matrix([1000, 1000, 1000], [0, 0.75, 0], ['2024-03-15', '2024-03-15', '2024-03-18'], [0, 0, 0]),
  );
  const out = pointForecast([0.01, 0.02, 0.03], m, { 'weekend:none': 0, 'weekend:most': 0.5 });
  assert.equal(
    [...out].map((v) => Math.round(v * 1e6) / 1e6),
    [0, 10, 30],
  );
});

test.run();
