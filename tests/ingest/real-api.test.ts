// `dpm ingest` against a fake of the real Risk Analytics API, written from the upstream facts (section 1 and
// 1b), not from sim/: the real field names and types, mixed envelopes, YYYYMMDD and ISO dates, Buy/SELL/sell,
// a login on two platforms, a server page size below the one asked, listings without `total`, decimals in
// count-like fields and no regimes route. Also checks that the simulator serves exactly the field tables' names.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENDPOINT_SPECS, endpointByName } from '../../ingest/endpoints.ts';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { API_KEY, makeFirm, project, type Project } from './_helpers.ts';

const DAYS = ['2025-02-17', '2025-02-18', '2025-02-19'];
const compact = (d: string) => d.replace(/-/g, '');
/** The server's own page size: it clamps every `limit` above it, as a real deployment may. */
const SERVER_PAGE = 500;
const ACCOUNTS = 30;
const CLOSED_TRADES = 1234;

/** Every number of a daily metrics record with a value of its kind (names and kinds are section 1b's). */
function metricsStats(i: number): Record<string, number | string> {
  const rec: Record<string, number | string> = {};
  for (const f of endpointByName('metrics daily')!.fields) {
    if (f.kind === 'num') rec[f.api] = Math.round((i + 1) * 1234.5678) / 100;
    if (f.kind === 'int') rec[f.api] = i + 3;
  }
  return rec;
}

function alltimeRecord(i: number): Record<string, unknown> {
  const daily = metricsStats(i);
  delete daily.days_to_next_payout;
  delete daily.todays_payouts;
  return {
    ...daily,
    login: `${700100 + i}`,
    accountId: `acc-${String(i).padStart(3, '0')}`,
    planId: 9001,
    trader: `C5210${i}`,
    status: 1,
    type: 1,
    phase: 4,
    broker: 2,
    mt_version: 5,
    price_stream: 1,
    country: 'DE',
    mostTradedSymbol: 'EURUSD',
    firstTradeDate: '2025-01-02T00:00:00.000Z',
    firstTradeOpen: '2025-01-02T09:31:12.000Z',
    lastTradeOpen: '2025-02-19T13:02:44.000Z',
    lastTradeClose: '2025-02-19T14:01:09.000Z',
    // Decimals where upstream has decimals, even in count-like names (section 1b).
    lifeTimeInDays: 50.3521,
    meanNumOpenPos: 2.5,
    medianNumTradesInDD: 1.5,
    meanIdleDays: 0.75,
    maxNumOpenPos: 4,
    updatedDate: '2025-02-19T14:22:31.000Z',
    ...(i === 0 ? { someFieldAddedLater: 'kept' } : {}),
  };
}

function dailyRecord(i: number, day: string): Record<string, unknown> {
  const { lifeTimeInDays, updatedDate, firstTradeOpen, lastTradeOpen, lastTradeClose, ...rest } = alltimeRecord(i);
  for (const k of Object.keys(rest)) if (/TradesPerDay|IdleDays|^totalRet|^daily/.test(k)) delete rest[k];
  delete rest.someFieldAddedLater;
  // Older data sends YYYYMMDD; newer ISO with a zero time.
  return { ...rest, date: i % 2 ? compact(day) : `${day}T00:00:00.000Z`, days_to_next_payout: 7, todays_payouts: 0 };
}

function trade(n: number, closed: boolean): Record<string, unknown> {
  const day = DAYS[n % DAYS.length];
  // One login trades on two platforms: its trades differ by platform, and both land.
  const platform = n % 7 === 0 ? 4 : 5;
  const rec: Record<string, unknown> = {
    tradeDate: n % 2 ? compact(day) : `${day}T00:00:00.000Z`,
    broker: 2,
    mngr: 1,
    platform,
    ticket: `T${n}`,
    position: `P${n}`,
    login: `${700100 + (n % ACCOUNTS)}`,
    trdSymbol: 'EURUSD.r',
    stdSymbol: 'EURUSD',
    side: ['Buy', 'SELL', 'sell'][n % 3],
    lots: 0.5,
    contractSize: 100000,
    qtyInBaseCrncy: 50000,
    volumeUSD: 54000.5,
    stopLoss: 1.071,
    takeProfit: n % 5 ? 1.09 : null,
    openTime: `${day}T09:30:00.000Z`,
    openPrice: 1.08,
    duration: 1.25,
    profit: (n % 11) - 5.5,
    commission: -3.5,
    fee: 0,
    swap: 0,
    comment: null,
    client_margin: 540.25,
    firm_margin: 12.5,
  };
  if (closed) Object.assign(rec, { closeTime: `${day}T10:45:00.000Z`, closePrice: 1.0812 });
  return rec;
}

interface FakeOptions {
  /** Serve an empty page from this record on, while `total` still says CLOSED_TRADES. */
  truncateClosedAt?: number;
  /** Alltime records without their accountId (every one is then rejected). */
  dropAccountIds?: boolean;
  /** Answer this many requests with a 503 first. */
  failFirst?: number;
}

interface FakeApi {
  url: string;
  paths: string[];
  /** accountIds per hourly request. */
  hourlyAsked: number[];
  close(): Promise<void>;
}

async function startFakeApi(o: FakeOptions = {}): Promise<FakeApi> {
  const paths: string[] = [];
  const hourlyAsked: number[] = [];
  let failures = 0;
  const closed = Array.from({ length: CLOSED_TRADES }, (_, n) => trade(n, true));
  const open = Array.from({ length: 37 }, (_, n) => trade(n, false));
  const alltime = Array.from({ length: ACCOUNTS }, (_, i) => alltimeRecord(i));
  if (o.dropAccountIds) for (const r of alltime) delete r.accountId;
  const accounts = [0, 1].map((i) => ({
    accountId: `acc-00${i}`,
    login: `${700100 + i}`,
    traderId: `C5210${i}`,
    planId: 9001,
    startingBalance: 100000,
    currentBalance: 101234.5,
    currentEquity: 101300.25,
    profitTargetPct: 0,
    maxDailyDrawdownPct: 5,
    maxDrawdownPct: 10,
    maxLeverage: 100,
    isDrawdownRelative: 0,
    breached: 0,
    isUpgraded: 1,
    phase: 4,
    status: 1,
    createdAt: '2025-01-01T08:00:00.000Z',
    updatedAt: '2025-02-19T14:22:31.000Z',
  }));
  const daily = DAYS.flatMap((d) => Array.from({ length: ACCOUNTS }, (_, i) => dailyRecord(i, d)));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/+/, '');
    paths.push(path);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.searchParams.get('apiKey') !== API_KEY) return send(401, { Status: 'fail', Message: 'invalid apiKey' });
    if (failures < (o.failFirst ?? 0)) {
      failures++;
      return send(503, { Status: 'error', Message: 'upstream busy' });
    }
    const skip = Number(url.searchParams.get('skip') ?? 0);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? SERVER_PAGE), SERVER_PAGE);
    const withTotal = url.searchParams.get('include-total') === '1';
    const paged = (rows: unknown[], total = rows.length) => {
      const data = rows.slice(skip, skip + limit);
      return { data, ...(withTotal ? { total } : {}), skip, limit, count: data.length };
    };
    switch (path) {
      case 'accounts':
        // The accounts listing's Data is the list itself, with no paging block.
        return send(200, { Status: 'ok', Data: accounts.slice(skip, skip + limit) });
      case 'v2/metrics/alltime':
        // An older response: no Status and a lowercase top-level data.
        return send(200, { data: paged(alltime) });
      case 'v2/metrics/daily':
        return send(200, { Status: 'ok', Time: '2025-02-20T01:00:00.000Z', Data: paged(daily) });
      case 'v2/metrics/hourly': {
        // Documented: one date and at most 25 accountIds a call.
        const dates = (url.searchParams.get('dates') ?? '').split(',');
        const ids = (url.searchParams.get('accountIds') ?? '').split(',').filter(Boolean);
        if (dates.length !== 1 || ids.length === 0 || ids.length > 25) {
          return send(400, { Status: 'fail', Message: 'hourly metrics take one date and 1 to 25 accountIds' });
        }
        hourlyAsked.push(ids.length);
        const day = `${dates[0].slice(0, 4)}-${dates[0].slice(4, 6)}-${dates[0].slice(6, 8)}`;
        const rows = daily
          .filter((r) => compact(String(r.date).slice(0, 10)) === dates[0])
          .filter((r) => ids.includes(String(r.accountId)))
          .flatMap((r) =>
            [9, 14].map((h) => ({ ...r, hour: h, datetime: `${day}T${String(h).padStart(2, '0')}:00:00.000Z` })),
          );
        return send(200, { Status: 'ok', Data: paged(rows) });
      }
      case 'v2/trades/closed': {
        if (o.truncateClosedAt !== undefined && skip >= o.truncateClosedAt)
          return send(200, { Status: 'ok', Data: { data: [], total: CLOSED_TRADES, skip, limit, count: 0 } });
        return send(200, { Status: 'ok', Data: paged(closed) });
      }
      case 'v2/trades/open': {
        // This listing never says its total: a short page ends it.
        const data = open.slice(skip, skip + limit);
        return send(200, { Status: 'ok', Data: { data, skip, limit, count: data.length } });
      }
      default:
        // The real API has no regimes route (nor any other than the documented ones).
        return send(404, { Status: 'error', Message: `no route ${path}` });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    paths,
    hourlyAsked,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const INGEST_ALL = ['all', '--start-date', DAYS[0], '--end-date', DAYS[2], '--max-rps', '500'];

const sim = suite('sim: serves exactly the real API field names');

sim('every metrics record of the simulator has the field tables names, no more and no fewer', () => {
  const firm = makeFirm();
  const cases: [string, Record<string, unknown>[]][] = [
    ['metrics alltime', firm.alltimeMetrics() as Record<string, unknown>[]],
    ['metrics daily', firm.dailyMetrics(5) as Record<string, unknown>[]],
    ['metrics hourly', firm.hourlyMetrics(5) as Record<string, unknown>[]],
  ];
  for (const [name, records] of cases) {
    const spec = ENDPOINT_SPECS.find((s) => s.name === name)!;
    const want = spec.fields.map((f) => f.api).sort();
    assert.ok(records.length > 0, `${name}: the firm has records`);
    for (const r of records.slice(0, 20)) assert.equal(Object.keys(r).sort(), want, `${name}: field names`);
    for (const r of records) {
      const problem = spec.schema.safeParse(JSON.parse(JSON.stringify(r)));
      assert.ok(problem.success, `${name}: ${problem.error?.issues[0]?.message}`);
    }
  }
});

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] ingest from a fake of the real API`);
  let api: FakeApi;
  let p: Project;

  test.before(async () => {
    api = await startFakeApi();
    p = await project(kind, api);
  });
  test.after(async () => {
    await p.dispose();
    await api.close();
  });

  test('every source lands whole with the real names and types; regimes are skipped, not asked', async () => {
    const r = await p.run(INGEST_ALL);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.is(r.code, 0, out.slice(-3000));
    assert.match(out, /regimes skipped: no source configured\. Set DPM_REGIMES_DATABASE_URL/);
    assert.not.ok(
      api.paths.some((x) => x.includes('regimes')),
      'the real API has no regimes route: never asked',
    );
    assert.not.match(out, /rejected [1-9]/);
    const db = await p.connect();
    try {
      const count = async (t: string) => Number((await db.knex(t).count({ n: '*' }))[0].n);
      // The server hands out 500 records a page although 1 000 were asked: the listing goes on to `total`.
      assert.is(await count('raw.trades_closed'), CLOSED_TRADES);
      assert.is(await count('raw.accounts'), 2);
      assert.is(await count('raw.trades_open'), 37);
      assert.is(await count('raw.metrics_alltime'), ACCOUNTS);
      assert.is(await count('raw.metrics_daily'), ACCOUNTS * DAYS.length);
      assert.is(await count('raw.metrics_hourly'), ACCOUNTS * DAYS.length * 2);
      assert.equal(api.hourlyAsked, [25, 5, 25, 5, 25, 5], 'hourly: 25 accountIds and one date a request');
      const a = await db.knex('raw.metrics_alltime').where({ account_id: 'acc-000' }).first();
      assert.is(Number(a.life_time_in_days), 50.3521);
      assert.is(new Date(a.updated_date).toISOString(), '2025-02-19T14:22:31.000Z');
      assert.is(Number(a.mean_num_open_pos), 2.5);
      assert.is(Number(a.max_num_open_pos), 4);
      assert.is(Number(a.median_num_trades_in_dd), 1.5);
      assert.is(Number(a.mean_val_to_eqty_open_pos) > 0, true);
      assert.is(Number(a.mean_account_margin) > 0, true);
      // A name dpm does not map is kept, and only such names go to extra.
      assert.equal(a.extra, { someFieldAddedLater: 'kept' });
      const dailyExtra = await db.knex('raw.metrics_daily').whereNotNull('extra').count({ n: '*' });
      assert.is(Number(dailyExtra[0].n), 0, 'every field of a daily record has its own column');
      const nullOpen = await db.knex('raw.metrics_daily').whereNull('max_num_open_pos').count({ n: '*' });
      assert.is(Number(nullOpen[0].n), 0, 'open positions land in their own column');
      const sides = await db.knex('raw.trades_closed').distinct('side').orderBy('side');
      assert.equal(
        sides.map((s: { side: string }) => s.side),
        ['Buy', 'SELL', 'sell'],
      );
      const platforms = await db.knex('raw.trades_closed').where({ login: '700100' }).distinct('platform');
      assert.is(platforms.length, 2, 'one login on two platforms keeps both');
      const skipped = await db.knex('dpm.ingest_checkpoints').where({ endpoint: 'regimes' }).first();
      assert.is(skipped?.status, 'skipped', 'the run log says the regimes were skipped');
    } finally {
      await db.close();
    }
  });

  test('a listing that ends before its total fails its window and says how many were not served', async () => {
    const short = await startFakeApi({ truncateClosedAt: 1000 });
    try {
      const r = await p.run(['trades', 'closed', '--start-date', DAYS[0], '--end-date', DAYS[2], '--force'], short);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.is(r.code, 1, out.slice(-2000));
      assert.match(out, /the listing ended at record 1000 but its total said 1234: 234 record\(s\) were not served/);
      assert.not.match(out, new RegExp(API_KEY));
    } finally {
      await short.close();
    }
  });

  test('a source whose every record is rejected fails with the first reasons on the terminal', async () => {
    const bad = await startFakeApi({ dropAccountIds: true });
    try {
      const r = await p.run(['metrics', 'alltime'], bad);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.is(r.code, 1, out.slice(-2000));
      assert.match(out, /metrics alltime all: every record \(100%\) failed validation/);
      assert.match(out, /account \?: accountId: missing/);
      assert.match(out, /raise --max-reject-share/);
      assert.not.match(out, /rerun the same command/);
    } finally {
      await bad.close();
    }
  });

  test('the retry budget is said once, then each retry counts against it', async () => {
    const flaky = await startFakeApi({ failFirst: 2 });
    try {
      const r = await p.run(['metrics', 'alltime'], flaky);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.is(r.code, 0, out.slice(-2000));
      assert.is(out.match(/retries: each request is retried up to 3 times/g)?.length, 1, out);
      assert.is(out.match(/retry \d\/3 of v2\/metrics\/alltime skip=0 in [\d.]+s after HTTP 503/g)?.length, 2, out);
    } finally {
      await flaky.close();
    }
  });

  test.run();
}

sim.run();
