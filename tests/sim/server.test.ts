import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startSimServer, type SimServer } from '../../sim/server.ts';
import { generateFirm } from '../../sim/firm.ts';
import type { ClosedTrade } from '../../sim/trades.ts';

const test = suite('sim server');
const firm = generateFirm({ seed: 5, accounts: 40, days: 20 });
let sim: SimServer;

test.before(async () => {
  sim = await startSimServer({ seed: 5, accounts: 40, days: 20, apiKey: 'secret', port: 0, firm });
});
test.after(() => sim.close());
test.before.each(() => sim.setFaults({}));

function url(endpoint: string, params: Record<string, string | number> = {}, key: string | null = 'secret'): string {
  const u = new URL(endpoint, sim.url);
  if (key !== null) u.searchParams.set('apiKey', key);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.href;
}

/** One record as the API sends it: the tests compare whole records and read a few fields. */
type ApiRecord = Record<string, unknown>;

/** The envelope's Data of a listing: one page of records; total only when include-total is asked. */
interface Page {
  data: ApiRecord[];
  count: number;
  limit: number;
  total?: number;
}

async function getJson<D = Page>(endpoint: string, params: Record<string, string | number> = {}) {
  const res = await fetch(url(endpoint, params));
  assert.is(res.status, 200, `${endpoint} ${res.status}`);
  return (await res.json()) as { Status: string; Data: D };
}

/** Follows pages the way a client should: advance by count, stop on a short page or skip+count >= total. */
async function listAll(endpoint: string, params: Record<string, string | number>, limit: number): Promise<ApiRecord[]> {
  const out: ApiRecord[] = [];
  for (let skip = 0; ; ) {
    const { Data } = await getJson<Required<Page>>(endpoint, { ...params, limit, skip, 'include-total': 1 });
    out.push(...Data.data);
    skip += Data.count;
    if (Data.count < limit || skip >= Data.total) return out;
  }
}

test('401 without or with a wrong apiKey, in the envelope', async () => {
  for (const key of [null, 'wrong']) {
    const res = await fetch(url('v2/trades/closed', { 'trade-date': '20240103' }, key));
    assert.is(res.status, 401);
    const body = (await res.json()) as { Status: string; Message: string };
    assert.is(body.Status, 'fail');
    assert.ok(body.Message.length > 0);
  }
});

test('closed trades: pages union equals the truth, no gaps or duplicates', async () => {
  const truth = firm.closedTrades('20240104');
  assert.ok(truth.length > 150);
  const got = await listAll('v2/trades/closed', { 'trade-date': '20240104' }, 70);
  assert.equal(got, JSON.parse(JSON.stringify(truth)));
  assert.is(new Set(got.map((t) => t.position)).size, got.length);
});

test('unfiltered trade listings page over days without trades into valid JSON', async () => {
  // This firm has trade-free days at the start, inside and at the end of its history.
  const opts = { seed: 21, accounts: 40, days: 24, startDate: '2024-03-01' };
  const quiet = generateFirm(opts);
  const days = Array.from({ length: quiet.days }, (_, d) => d);
  const empty = days.filter((d) => quiet.closedTradeCount(d) === 0);
  assert.ok(empty.some((d) => d > 0 && d < quiet.days - 1) && empty.includes(quiet.days - 1), `empty days: ${empty}`);
  const other = await startSimServer({ ...opts, apiKey: 'secret', port: 0, firm: quiet });
  try {
    for (const kind of ['closed', 'open'] as const) {
      const truth = days.flatMap((d) => (kind === 'closed' ? quiet.closedTrades(d) : quiet.openTrades(d)));
      const got: unknown[] = [];
      for (let skip = 0; skip < truth.length; skip += 1000) {
        const res = await fetch(`${other.url}v2/trades/${kind}?apiKey=secret&limit=1000&skip=${skip}`);
        const text = await res.text();
        got.push(...(JSON.parse(text) as { Data: { data: unknown[] } }).Data.data);
      }
      assert.is(got.length, truth.length, kind);
      assert.equal(got, JSON.parse(JSON.stringify(truth)), kind);
    }
  } finally {
    await other.close();
  }
});

test('envelope, include-total and page size caps', async () => {
  const { Status, Data } = await getJson('v2/trades/closed', {
    'trade-date-from': '20240101',
    'trade-date-to': '20240110',
    limit: 5000,
    'include-total': 1,
  });
  assert.is(Status, 'ok');
  assert.is(Data.limit, 1000);
  let total = 0;
  for (let d = 0; d < 10; d++) total += firm.closedTrades(d).length;
  assert.is(Data.total, total);
  const noTotal = await getJson('v2/trades/closed', { 'trade-date': '20240104', limit: 3 });
  assert.is(noTotal.Data.total, undefined);
  assert.is(noTotal.Data.count, 3);
  const accounts = await getJson<ApiRecord[]>('accounts', { limit: 900 });
  assert.ok(Array.isArray(accounts.Data));
  assert.equal(accounts.Data, JSON.parse(JSON.stringify(firm.accounts().slice(0, 500))));
});

test('filters: logins, accountIds, dates, hours, phases, time ranges', async () => {
  const login = firm.closedTrades(3)[0].login;
  const byLogin = await listAll('v2/trades/closed', { 'trade-date': '20240104', logins: login }, 1000);
  assert.equal(byLogin, JSON.parse(JSON.stringify(firm.closedTrades(3).filter((t) => t.login === login))));
  const daily = firm.dailyMetrics(7);
  const ids = daily.slice(0, 3).map((m) => m.accountId as string);
  const got = await listAll('v2/metrics/daily', { dates: '20240108', accountIds: ids.join(',') }, 1000);
  assert.equal(
    got.map((m) => m.accountId),
    ids,
  );
  const funded = await listAll('v2/metrics/daily', { dates: '20240108', phases: 4 }, 1000);
  assert.equal(funded, JSON.parse(JSON.stringify(daily.filter((m) => m.phase === 4))));
  const hourly = firm.hourlyMetrics(7);
  const hour = hourly[0].hour as number;
  const h = await listAll('v2/metrics/hourly', { dates: '20240108', hours: hour }, 1000);
  assert.equal(h, JSON.parse(JSON.stringify(hourly.filter((m) => m.hour === hour))));
  const late = await listAll(
    'v2/trades/closed',
    { 'trade-date': '20240104', 'close-time-from': '2024-01-04T12:00:00.000Z' },
    1000,
  );
  assert.equal(late.length, firm.closedTrades(3).filter((t) => t.closeTime >= '2024-01-04T12:00:00.000Z').length);
  const oracle = await listAll('_sim/oracle', { dates: '20240108', accountIds: ids[0] }, 1000);
  assert.is(oracle[0].expectedNetProfit, firm.oracle(ids[0], 7));
  const regimes = await listAll('v2/regimes/daily', { dates: '20240102,20240105' }, 1000);
  assert.equal(regimes, JSON.parse(JSON.stringify([...firm.regimes(1), ...firm.regimes(4)])));
  const bad = await fetch(url('v2/metrics/daily', { dates: '2024-13' }));
  assert.is(bad.status, 400);
});

test('alltime and open trades match the truth', async () => {
  const all = await listAll('v2/metrics/alltime', {}, 25);
  assert.equal(all, JSON.parse(JSON.stringify(firm.alltimeMetrics())));
  const open = await listAll('v2/trades/open', { 'trade-date': '20240110' }, 1000);
  assert.equal(open, JSON.parse(JSON.stringify(firm.openTrades(9))));
});

test('rate limit answers 429 with Retry-After', async () => {
  const limited = await startSimServer({
    seed: 5,
    accounts: 40,
    days: 20,
    apiKey: 'k',
    firm,
    rateLimit: { perSecond: 1, burst: 2 },
  });
  try {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${limited.url}v2/regimes/daily?apiKey=k&dates=20240102`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    assert.equal(statuses.slice(0, 2), [200, 200]);
    assert.is(statuses[3], 429);
    assert.ok(Number(retryAfter) >= 1);
    assert.ok(limited.stats().rateLimited >= 1);
  } finally {
    await limited.close();
  }
});

test('serverErrors fault: a burst of N 5xx, then success', async () => {
  sim.setFaults({ serverErrors: { count: 3 } });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(url('v2/regimes/daily', { dates: '20240102' }));
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  assert.equal(statuses, [500, 502, 503, 200]);
  assert.ok(sim.stats().faults.serverErrors >= 3);
});

test('slow fault delays the response', async () => {
  sim.setFaults({ slow: { count: 1, ms: 300 } });
  const t0 = performance.now();
  await getJson('v2/regimes/daily', { dates: '20240102' });
  assert.ok(performance.now() - t0 >= 280);
  const t1 = performance.now();
  await getJson('v2/regimes/daily', { dates: '20240102' });
  assert.ok(performance.now() - t1 < 280);
});

test('drop fault breaks the connection mid-body', async () => {
  sim.setFaults({ drop: { count: 1 } });
  let failed = false;
  try {
    const res = await fetch(url('v2/trades/closed', { 'trade-date': '20240104' }));
    await res.text();
  } catch {
    failed = true;
  }
  assert.ok(failed);
  assert.is((await getJson('v2/regimes/daily')).Status, 'ok');
});

test('truncate fault sends cut-off JSON', async () => {
  sim.setFaults({ truncate: { count: 1 } });
  const res = await fetch(url('v2/trades/closed', { 'trade-date': '20240104' }));
  assert.is(res.status, 200);
  const text = await res.text();
  assert.throws(() => JSON.parse(text));
  assert.is(sim.stats().faults.truncate, 1);
});

test('invalid fault corrupts records and reports which', async () => {
  const before = sim.stats().invalidRecords.length;
  sim.setFaults({ invalid: { count: 1, perPage: 3 }, endpoints: ['trades/closed'] });
  const { Data } = await getJson('v2/trades/closed', { 'trade-date': '20240104', limit: 30 });
  const reported = sim.stats().invalidRecords.slice(before);
  assert.is(reported.length, 3);
  const truth = new Map(firm.closedTrades(3).map((t) => [`${t.platform}:${t.position}`, JSON.stringify(t)]));
  // A corrupted record may lack its login; every other field keeps its type.
  const sent = Data.data as unknown as (Omit<ClosedTrade, 'login'> & { login?: string })[];
  const bad = sent.filter((t) => JSON.stringify(t) !== truth.get(`${t.platform}:${t.position}`));
  assert.is(bad.length, 3);
  for (const t of bad) {
    assert.ok(t.lots <= 0 || t.login === undefined || !/T.*Z$/.test(t.openTime));
    assert.ok(reported.some((r) => r.key === `${t.platform}:${t.position}`));
  }
});

test('duplicates fault repeats records across pages without losing any', async () => {
  sim.setFaults({ duplicates: { count: 1, overlap: 4 } });
  const truth = firm.closedTrades(3);
  const got = await listAll('v2/trades/closed', { 'trade-date': '20240104' }, 50);
  assert.is(got.length, truth.length + 4);
  const keys = got.map((t) => t.position);
  assert.is(new Set(keys).size, truth.length);
  assert.equal([...new Set(keys)].sort(), truth.map((t) => t.position).sort());
  assert.is(sim.stats().faults.duplicates, 1);
});

test('faults can be limited to endpoints and are counted in stats', async () => {
  sim.setFaults({ serverErrors: { count: 1 }, endpoints: ['metrics/daily'] });
  assert.is((await getJson('v2/regimes/daily')).Status, 'ok');
  const res = await fetch(url('v2/metrics/daily', { dates: '20240102' }));
  assert.is(res.status >= 500, true);
  await res.arrayBuffer();
  const s = sim.stats();
  assert.ok(s.requests > 10 && s.recordsServed > 100);
});

test.run();
