// The API client against the simulated API, no database: every fault at the page level, the rate cap,
// the circuit breaker and key redaction.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateFirm } from '../../sim/firm.ts';
import { startSimServer, type SimServer } from '../../sim/server.ts';
import { ApiClient, ApiError } from '../../ingest/client.ts';

const KEY = 'client-test-key-7f3a9';
const test = suite('ingest client');
const firm = generateFirm({ seed: 11, accounts: 30, days: 10 });
let sim: SimServer;
const retries: string[] = [];
const client = (over: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) =>
  new ApiClient({ baseUrl: sim.url, apiKey: KEY, maxRps: 200, burst: 50, onRetry: (m) => retries.push(m), ...over });
const truthDay = (d: number) => JSON.parse(JSON.stringify(firm.closedTrades(d)));
const params = { 'trade-date-from': firm.cal.ymd(2), 'trade-date-to': firm.cal.ymd(2) };

test.before(async () => {
  sim = await startSimServer({ seed: 11, accounts: 30, days: 10, apiKey: KEY, port: 0, firm });
});
test.after(() => sim.close());
test.before.each(() => {
  sim.setFaults({});
  retries.length = 0;
});

test('a page: records, total, envelope unwrapped', async () => {
  const page = await client().page('v2/trades/closed', params, 0, 1000, true);
  assert.equal(page.records, truthDay(2));
  assert.is(page.total, truthDay(2).length);
  const accounts = await client().page('accounts', {}, 0, 500, false);
  assert.is(accounts.records.length, firm.accounts().length);
  assert.is(accounts.total, undefined);
});

for (const [name, faults] of [
  ['5xx burst', { serverErrors: { count: 3 } }],
  ['dropped connection', { drop: { count: 2 } }],
  ['truncated JSON', { truncate: { count: 2 } }],
] as const) {
  test(`${name} is retried and the page comes back whole`, async () => {
    sim.setFaults(faults);
    const page = await client().page('v2/trades/closed', params, 0, 1000, true);
    assert.equal(page.records, truthDay(2));
    assert.ok(retries.length >= 2, `retries logged: ${retries.join(' | ')}`);
    for (const line of retries) assert.not.ok(line.includes(KEY), line);
  });
}

test('a 5xx burst longer than the retries fails the page precisely, without the key', async () => {
  sim.setFaults({ serverErrors: { count: 10, statuses: [503] } });
  try {
    await client({ retries: 2 }).page('v2/trades/closed', params, 2000, 1000, true);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ApiError);
    const msg = (err as Error).message;
    // The message names the request's filters, so the operator can tell which window failed.
    assert.match(msg, /v2\/trades\/closed\?trade-date-from=\d{8}&trade-date-to=\d{8} skip=2000: HTTP 503/);
    assert.not.ok(msg.includes(KEY), msg);
  }
});

test('a slow response beyond the timeout is retried', async () => {
  sim.setFaults({ slow: { count: 1, ms: 1500 } });
  const t0 = Date.now();
  const page = await client({ timeoutMs: 400 }).page('v2/trades/closed', params, 0, 1000, true);
  assert.equal(page.records, truthDay(2));
  assert.ok(Date.now() - t0 >= 400);
  assert.ok(
    retries.some((r) => /ETIMEDOUT|timeout/i.test(r)),
    retries.join(' | '),
  );
});

test('slow but within the timeout: simply waited for', async () => {
  sim.setFaults({ slow: { count: 2, ms: 300 } });
  const page = await client().page('v2/trades/closed', params, 0, 1000, true);
  assert.equal(page.records, truthDay(2));
  assert.is(retries.length, 0);
});

test('429 with Retry-After: waits as told, every page arrives', async () => {
  const limited = await startSimServer({
    seed: 11,
    accounts: 30,
    days: 10,
    apiKey: KEY,
    port: 0,
    firm,
    rateLimit: { perSecond: 4, burst: 2 },
  });
  try {
    const c = new ApiClient({
      baseUrl: limited.url,
      apiKey: KEY,
      maxRps: 100,
      burst: 100,
      onRetry: (m) => retries.push(m),
    });
    const t0 = Date.now();
    const pages = await Promise.all(
      Array.from({ length: 8 }, (_, d) => c.page('v2/trades/closed', { 'trade-date': firm.cal.ymd(d) }, 0, 1000, true)),
    );
    for (const [d, p] of pages.entries()) assert.equal(p.records, truthDay(d));
    assert.ok(limited.stats().rateLimited > 0, 'the sim rate-limited');
    assert.ok(
      retries.some((r) => r.includes('429')),
      retries.join(' | '),
    );
    assert.ok(Date.now() - t0 >= 1000, 'Retry-After was honoured');
  } finally {
    await limited.close();
  }
});

test('the client rate cap keeps the request rate under maxRps', async () => {
  const c = client({ maxRps: 10, burst: 1 });
  const t0 = Date.now();
  for (let i = 0; i < 6; i++) await c.page('v2/regimes/daily', { dates: firm.cal.ymd(i) }, 0, 1000, true);
  assert.ok(Date.now() - t0 >= 450, `6 requests at 10/s took ${Date.now() - t0} ms`);
});

test('401: not retried, says to check DPM_API_KEY, never shows the key', async () => {
  const before = sim.stats().unauthorized;
  const c = new ApiClient({ baseUrl: sim.url, apiKey: 'wrong-key-123456', maxRps: 100 });
  try {
    await c.page('v2/trades/closed', params, 0, 1000, true);
    assert.unreachable();
  } catch (err) {
    const msg = (err as Error).message;
    assert.match(msg, /HTTP 401/);
    assert.match(msg, /DPM_API_KEY/);
    assert.not.ok(msg.includes('wrong-key-123456'), msg);
  }
  assert.is(sim.stats().unauthorized - before, 1, 'a 401 is final');
});

test('circuit breaker: opens after consecutive failures, then refuses without calling the API', async () => {
  sim.setFaults({ serverErrors: { count: 100 } });
  const c = client({ retries: 0, breakerThreshold: 3, breakerCooldownMs: 60_000 });
  for (let i = 0; i < 3; i++) await c.page('v2/trades/closed', params, 0, 1000, true).catch(() => undefined);
  const before = sim.stats().requests;
  try {
    await c.page('v2/trades/closed', params, 0, 1000, true);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /circuit is open/);
  }
  assert.is(sim.stats().requests, before);
});

test.run();
