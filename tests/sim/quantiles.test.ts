// The oracle's distribution figures (sim/ledger.ts) against a Monte-Carlo of the very draw the ledger makes:
// trade with probability p, PnL mu + sigma * t3, liquidated below the daily loss limit with up to 3% slippage.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Account, expectedAbsNet, medianNet, quantileNet } from '../../sim/ledger.ts';
import type { Plan } from '../../sim/plans.ts';
import { Rng } from '../../sim/rng.ts';

const test = suite('sim quantiles');
const plan = { startingBalance: 100_000, dailyLossLimitPct: 5 } as Plan;
const LIMIT = 5000;

function account(p: number, mu: number, sigma: number): Account {
  const one = (v: number) => Float64Array.of(v);
  return { plan, pActive: one(p), mu: one(mu), sigma: one(sigma) } as unknown as Account;
}

function draws(p: number, mu: number, sigma: number, n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (!rng.chance(p)) continue;
    const net = mu + sigma * rng.studentT(3);
    out[k] = net < -LIMIT ? -LIMIT * (1 + 0.03 * rng.next()) : net;
  }
  return out.sort();
}

// Trading most days, half the days, rarely (weekend-like), and with the loss limit well inside the spread.
const cases = [
  { p: 0.9, mu: 50, sigma: 800 },
  { p: 0.5, mu: -100, sigma: 1500 },
  { p: 0.1, mu: 20, sigma: 600 },
  { p: 0.8, mu: -500, sigma: 4000 },
];

for (const [c, { p, mu, sigma }] of cases.entries()) {
  test(`quantiles and E|PnL| match a Monte-Carlo of the draw (p ${p}, mu ${mu}, sigma ${sigma})`, () => {
    const n = 200_000;
    const sample = draws(p, mu, sigma, n, 100 + c);
    const acc = account(p, mu, sigma);
    for (const q of [0.05, 0.25, 0.5, 0.75, 0.95]) {
      const x = quantileNet(acc, 0, q);
      // Compare in probability: the share of draws at or below x, within sampling error of q (or inside the
      // jump of the point mass at 0, where any x = 0 is a q-quantile).
      const below = sample.filter((v) => v < x).length / n;
      const atOrBelow = sample.filter((v) => v <= x).length / n;
      assert.ok(below <= q + 0.005 && atOrBelow >= q - 0.005, `q ${q}: x ${x}, P(<x) ${below}, P(<=x) ${atOrBelow}`);
    }
    assert.equal(quantileNet(acc, 0, 0.5), medianNet(acc, 0), 'the 50% quantile is the median');
    const meanAbs = sample.reduce((a, v) => a + Math.abs(v), 0) / n;
    const expected = expectedAbsNet(acc, 0);
    assert.ok(Math.abs(expected - meanAbs) / meanAbs < 0.02, `E|PnL| ${expected} vs Monte-Carlo ${meanAbs}`);
  });
}

test('an account that cannot trade has every quantile and E|PnL| at 0', () => {
  const acc = account(0, 100, 1000);
  for (const q of [0.05, 0.5, 0.95]) assert.equal(quantileNet(acc, 0, q), 0);
  assert.equal(expectedAbsNet(acc, 0), 0);
});

test.run();
