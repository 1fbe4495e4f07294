import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateFirm } from '../../sim/firm.ts';
import { loadPlans } from '../../sim/plans.ts';
import { tradeNet } from '../../sim/stats.ts';
import { BREACHED, PASSED } from '../../sim/ledger.ts';

const test = suite('sim firm');
const firm = generateFirm({ seed: 11, accounts: 60, days: 60 });
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('same seed gives identical records, another seed different ones', () => {
  const again = generateFirm({ seed: 11, accounts: 60, days: 60 });
  const other = generateFirm({ seed: 12, accounts: 60, days: 60 });
  for (const d of [0, 17, 59]) {
    assert.equal(again.closedTrades(d), firm.closedTrades(d));
    assert.equal(again.dailyMetrics(d), firm.dailyMetrics(d));
    assert.equal(again.openTrades(d), firm.openTrades(d));
    assert.equal(again.regimes(d), firm.regimes(d));
  }
  assert.equal(again.accounts(), firm.accounts());
  assert.not.equal(other.closedTrades(3), firm.closedTrades(3));
  assert.not.equal(other.regimes(3), firm.regimes(3));
});

test('a day regenerated out of order equals the first generation', () => {
  const first = JSON.stringify(firm.closedTrades(40));
  for (let d = 0; d < 10; d++) firm.closedTrades(d);
  assert.is(JSON.stringify(generateFirm({ seed: 11, accounts: 60, days: 60 }).closedTrades(40)), first);
});

test('accounts use real plans from seeds/plans', () => {
  const ids = new Set(loadPlans().map((p) => p.planId));
  const accounts = firm.accounts();
  assert.ok(accounts.length >= 60);
  for (const a of accounts) assert.ok(ids.has(a.planId), `plan ${a.planId}`);
  assert.ok(accounts.some((a) => a.phase === 4) && accounts.some((a) => a.phase < 4));
});

test('record shapes: ISO timestamps, sides, codes, types', () => {
  const trades = firm.closedTrades(10);
  assert.ok(trades.length > 50);
  for (const t of trades) {
    assert.ok(ISO.test(t.tradeDate) && ISO.test(t.openTime) && ISO.test(t.closeTime));
    assert.ok(t.side === 'Buy' || t.side === 'Sell');
    assert.type(t.login, 'string');
    assert.type(t.position, 'string');
    assert.type(t.platform, 'number');
    assert.ok(t.lots > 0);
    assert.ok(t.closeTime >= t.openTime);
    assert.ok(t.closeTime.startsWith(t.tradeDate.slice(0, 10)));
  }
  for (const m of firm.dailyMetrics(10)) {
    assert.ok(ISO.test(m.date as string));
    assert.ok([1, 2, 3].includes(m.status as number));
    assert.ok([1, 2, 3, 4].includes(m.phase as number));
    for (const f of [
      'netProfit',
      'grossProfit',
      'grossLoss',
      'profitFactor',
      'successRate',
      'stdProfits',
      'totalLots',
      'meanDuration',
      'maxDrawDown',
      'days_to_next_payout',
      'todays_payouts',
    ]) {
      assert.ok(f in m, f);
    }
    assert.ok((m.grossLoss as number) <= 0 && (m.maxDrawDown as number) <= 0);
  }
});

test("daily netProfit is the sum of the day's trades and balances chain", () => {
  for (let d = 0; d < firm.days; d++) {
    const byAccount = new Map<string, number>();
    const loginOf = new Map(firm.liveAccounts(d).map((a) => [`${a.login}|${a.platform}|${a.broker}`, a.accountId]));
    for (const t of firm.closedTrades(d)) {
      const id = loginOf.get(`${t.login}|${t.platform}|${t.broker}`)!;
      byAccount.set(id, (byAccount.get(id) ?? 0) + Math.round(tradeNet(t) * 100));
    }
    for (const m of firm.dailyMetrics(d)) {
      const sum = byAccount.get(m.accountId as string) ?? 0;
      assert.is(Math.round((m.netProfit as number) * 100), sum, `account ${m.accountId} day ${d}`);
      const expected = Math.round(
        ((m.priorDaysBalance as number) + (m.netProfit as number) - (m.todays_payouts as number)) * 100,
      );
      assert.is(Math.round((m.currentBalance as number) * 100), expected);
    }
  }
  const prev = new Map(firm.dailyMetrics(20).map((m) => [m.accountId, m.currentBalance]));
  for (const m of firm.dailyMetrics(21))
    if (prev.has(m.accountId)) assert.is(m.priorDaysBalance, prev.get(m.accountId));
});

test('all-time metrics aggregate the daily ones', () => {
  const daily = new Map<string, { n: number; net: number }>();
  for (let d = 0; d < firm.days; d++) {
    for (const m of firm.dailyMetrics(d)) {
      const s = daily.get(m.accountId as string) ?? { n: 0, net: 0 };
      s.n += m.numTrades as number;
      s.net += Math.round((m.netProfit as number) * 100);
      daily.set(m.accountId as string, s);
    }
  }
  const alltime = firm.alltimeMetrics();
  assert.is(alltime.length, firm.accounts().length);
  for (const a of alltime) {
    const s = daily.get(a.accountId as string)!;
    assert.is(a.numTrades, s.n);
    assert.is(Math.round((a.netProfit as number) * 100), s.net);
  }
});

test('breached and passed accounts stop; a passed account is followed by the next phase', () => {
  const firm = generateFirm({ seed: 11, accounts: 150, days: 90 });
  const accounts = firm.ledger.accounts;
  const breached = accounts.filter((a) => a.endStatus === BREACHED);
  const passed = accounts.filter((a) => a.endStatus === PASSED);
  assert.ok(breached.length > 0, 'some account breaches');
  assert.ok(passed.length > 0, 'some account passes');
  for (const a of [...breached, ...passed]) {
    for (let d = a.endDay + 1; d < firm.days; d++) {
      assert.not.ok(firm.liveAccounts(d).includes(a));
    }
    const last = firm.dailyMetrics(a.endDay).find((m) => m.accountId === a.accountId)!;
    assert.is(last.status, a.endStatus);
  }
  for (const a of passed) {
    const next = accounts.find((b) => b.upgradedFrom === a.idx);
    if (next) assert.ok(next.plan.phase > a.plan.phase && next.startDay > a.endDay);
  }
  assert.ok(accounts.some((b) => b.upgradedFrom >= 0));
});

test('weekends are quiet except for crypto', () => {
  let weekday = 0;
  let weekend = 0;
  for (let d = 0; d < firm.days; d++) {
    const n = firm.closedTrades(d).length;
    if (firm.cal.isWeekend(d)) {
      weekend += n;
      for (const t of firm.closedTrades(d)) assert.ok(['BTCUSD', 'ETHUSD'].includes(t.stdSymbol));
    } else weekday += n;
  }
  assert.ok(weekend > 0 && weekend * 5 < weekday);
});

test('oracle correlates with realised PnL but is not equal to it', () => {
  const xs: number[] = [];
  const meds: number[] = [];
  const ys: number[] = [];
  for (let d = 0; d < firm.days; d++) {
    const net = new Map(firm.dailyMetrics(d).map((m) => [m.accountId, m.netProfit as number]));
    for (const o of firm.oracleRecords(d)) {
      assert.is(firm.oracle(o.accountId, d), o.expectedNetProfit);
      xs.push(o.expectedNetProfit);
      meds.push(o.medianNetProfit);
      ys.push(net.get(o.accountId)!);
    }
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i] - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  });
  const corr = sxy / Math.sqrt(sxx * syy);
  assert.ok(corr > 0.1 && corr < 0.9, `corr ${corr}`);
  const mse = (p: (i: number) => number) => mean(ys.map((y, i) => (y - p(i)) ** 2));
  const mae = (p: (i: number) => number) => mean(ys.map((y, i) => Math.abs(y - p(i))));
  assert.ok(mse((i) => xs[i]) < mse(() => my), 'mean oracle beats the mean under squared error');
  assert.ok(mae((i) => meds[i]) < mae(() => 0), 'median oracle beats zero under absolute error');
  assert.ok(mae((i) => meds[i]) < mae((i) => xs[i]), 'median oracle is the better MAE benchmark');
  assert.is(firm.oracle('nope', 0), undefined);
});

test('open trades add up to equity minus balance', () => {
  const d = 12;
  const open = new Map<string, number>();
  for (const t of firm.openTrades(d)) {
    const k = `${t.login}|${t.platform}|${t.broker}`;
    open.set(k, (open.get(k) ?? 0) + Math.round((t.profit + t.commission + t.swap + t.fee) * 100));
  }
  assert.ok(open.size > 0);
  for (const m of firm.dailyMetrics(d)) {
    const k = `${m.login}|${m.mt_version}|${m.broker}`;
    assert.is(Math.round(((m.currentEquity as number) - (m.currentBalance as number)) * 100), open.get(k) ?? 0);
  }
});

test('regimes carry the documented JSON paths', () => {
  // RegimeRecord leaves the nested sections unknown; this is the shape the documented paths promise.
  const [r] = firm.regimes(5) as unknown as {
    date: string;
    instruments: { data: Record<string, { eod_price: unknown; volatility_90d: unknown }> };
    summary: { key_metrics: { volatility_regime: string }; transition_probabilities: { to_vol_spike: unknown } };
    news_analysis: { sentiment_summary: { average_score: unknown } };
    country_economic_indicators: { treasury_10_year: unknown };
  }[];
  assert.ok(ISO.test(r.date));
  for (const sym of [
    'SPX500',
    'NDX100',
    'US30',
    'EURUSD',
    'GBPUSD',
    'USDJPY',
    'BTCUSD',
    'ETHUSD',
    'XAUUSD',
    'USOUSD',
  ]) {
    assert.type(r.instruments.data[sym].eod_price, 'number');
    assert.type(r.instruments.data[sym].volatility_90d, 'number');
  }
  assert.ok(['low', 'normal', 'high'].includes(r.summary.key_metrics.volatility_regime));
  assert.type(r.summary.transition_probabilities.to_vol_spike, 'number');
  assert.type(r.news_analysis.sentiment_summary.average_score, 'number');
  assert.type(r.country_economic_indicators.treasury_10_year, 'number');
  assert.equal(firm.regimes(999), []);
});

test.run();
