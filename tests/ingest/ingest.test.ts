// `dpm ingest` end to end against the simulated API, on PGlite and PostgreSQL: the raw tables match the
// firm row for row; reruns write nothing; a kill -9 mid-ingest resumes to identical tables; every fault is
// survived or reported precisely; rejected records are kept and the counts reconcile; the key never shows.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Firm } from '../../sim/firm.ts';
import type { SimServer } from '../../sim/server.ts';
import { ENDPOINT_SPECS, endpointByName } from '../../ingest/endpoints.ts';
import { isServer, TARGET_KINDS } from '../helpers/databases.ts';
import {
  ALL_ARGS,
  API_KEY,
  END,
  START,
  dumpTable,
  keyOf,
  makeFirm,
  project,
  snapshot,
  sortRows,
  startSim,
  summary,
  truth,
  type Row,
} from './_helpers.ts';

const firm: Firm = makeFirm();
const expected: Record<string, Row[]> = Object.fromEntries(
  ENDPOINT_SPECS.map((s) => [s.name, sortRows(s, truth(firm, s))]),
);
const expectedCount = Object.values(expected).reduce((n, rows) => n + rows.length, 0);
/** Every line any run printed, checked for the key at the end. */
const printed: string[] = [];
const keep = <T extends { stdout: string; stderr: string }>(r: T): T => {
  printed.push(r.stdout, r.stderr);
  return r;
};
const show = (r: { code: number | null; stdout: string; stderr: string }) =>
  `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;

function assertTablesEqual(actual: Record<string, Row[]>, want: Record<string, Row[]>, what: string): void {
  for (const spec of ENDPOINT_SPECS) {
    const a = actual[spec.name];
    const w = want[spec.name];
    assert.is(a.length, w.length, `${what}: ${spec.table} has ${a.length} rows, expected ${w.length}`);
    for (let i = 0; i < w.length; i++) {
      if (JSON.stringify(a[i]) !== JSON.stringify(w[i]))
        assert.equal(a[i], w[i], `${what}: ${spec.table} row ${keyOf(spec, w[i])}`);
    }
  }
}

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] ingest`);
  let sim: SimServer;
  let baseline: Awaited<ReturnType<typeof snapshot>>;

  test.before(async () => {
    sim = await startSim(firm);
  });
  test.after(async () => {
    await sim.close();
  });
  test.before.each(() => sim.setFaults({}));

  test('a full ingest matches the firm row for row; a rerun and a --force rerun write nothing', async () => {
    const p = await project(kind, sim);
    try {
      const r = keep(await p.run(ALL_ARGS));
      assert.is(r.code, 0, show(r));
      const s = summary(r.stdout);
      assert.equal(s, { fetched: expectedCount, loaded: expectedCount, rejected: 0, duplicates: 0 }, show(r));
      assert.match(r.stdout, /trades closed 2024-03-01\.\.2024-03-10: fetched [\d ]+ = loaded/);
      assert.match(r.stdout, /regimes from the simulated API's v2\/regimes\/daily \(--regimes-from sim\)/);

      let db = await p.connect();
      try {
        baseline = await snapshot(db);
        assertTablesEqual(baseline.tables, expected, 'first ingest');
        for (const spec of ENDPOINT_SPECS) assert.ok(baseline.tables[spec.name].length > 0, `${spec.table} is empty`);
        assert.is(Number((await db.knex('raw.rejected_records').count('* as n'))[0].n), 0);
        const cps = await db.knex('dpm.ingest_checkpoints').select('*');
        assert.ok(
          cps.length > 10 && cps.every((c) => c.status === 'done'),
          JSON.stringify(cps.filter((c) => c.status !== 'done')),
        );
        for (const c of cps) assert.is(Number(c.fetched), Number(c.loaded) + Number(c.rejected) + Number(c.duplicates));
        const stages = await db.knex.raw(
          `select count(*)::int as n from pg_tables where schemaname = 'raw' and tablename like '\\_dpm\\_stage%'`,
        );
        assert.is(stages.rows[0].n, 0, 'staging tables are dropped');
      } finally {
        await db.close();
      }

      // Finished windows are skipped; the snapshot sources (accounts, alltime) are refetched but unchanged.
      const again = keep(await p.run(ALL_ARGS));
      assert.is(again.code, 0, show(again));
      assert.match(again.stdout, /window\(s\) fetched, \d+ already done/);
      const forced = keep(await p.run([...ALL_ARGS, '--force']));
      assert.is(forced.code, 0, show(forced));
      assert.equal(summary(forced.stdout), {
        fetched: expectedCount,
        loaded: expectedCount,
        rejected: 0,
        duplicates: 0,
      });
      db = await p.connect();
      try {
        const after = await snapshot(db);
        assertTablesEqual(after.tables, expected, 'after reruns');
        assert.equal(after.versions, baseline.versions, 'a rerun rewrote rows (xmin or ingested_at changed)');
      } finally {
        await db.close();
      }
    } finally {
      await p.dispose();
    }
  });

  test('kill -9 mid-ingest, then rerun: resumes from the checkpoint and ends with identical tables', async () => {
    const p = await project(kind, sim);
    const closed = endpointByName('trades closed')!;
    try {
      // Slow pages on closed trades, one window, a checkpoint every page: a kill lands mid-window.
      sim.setFaults({ slow: { probability: 1, ms: 150 }, endpoints: ['trades/closed'] });
      const before = sim.stats().byEndpoint['v2/trades/closed'] ?? 0;
      const child = p.spawn([
        'trades',
        'closed',
        '--start-date',
        START,
        '--end-date',
        END,
        '--batch-days',
        '30',
        '--flush-rows',
        '500',
        '--concurrency',
        '1',
        '--max-rps',
        '500',
      ]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise((r) => child.on('exit', r));
      const deadline = Date.now() + 60_000;
      while ((sim.stats().byEndpoint['v2/trades/closed'] ?? 0) - before < 5 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      printed.push(out);
      sim.setFaults({});

      let db = await p.connect();
      try {
        const cp = await db.knex('dpm.ingest_checkpoints').where({ endpoint: 'trades closed' }).first();
        assert.ok(cp, `no checkpoint after the kill; output:\n${out}`);
        assert.is(cp.status, 'running');
        assert.ok(cp.next_skip > 0 && cp.next_skip < expected['trades closed'].length, `next_skip ${cp.next_skip}`);
        const landed = await dumpTable(db, closed);
        assert.is(landed.length, cp.loaded, 'landed rows = checkpointed count');
        // The killed run's new keys went straight into the raw table; a run killed on the scratch-table path
        // leaves its scratch table behind, which the next run drops.
        if (isServer(kind)) await db.knex.raw('create unlogged table raw._dpm_stage_0badc0de (like raw.trades_closed)');
      } finally {
        await db.close();
      }

      const r = keep(
        await p.run([
          'trades',
          'closed',
          '--start-date',
          START,
          '--end-date',
          END,
          '--batch-days',
          '30',
          '--max-rps',
          '500',
        ]),
      );
      assert.is(r.code, 0, show(r));
      assert.match(r.stdout, /resuming at record [\d ]+ from the checkpoint of an interrupted run/);
      if (isServer(kind)) assert.match(r.stdout, /Dropped 1 staging table/);
      const s = summary(r.stdout)!;
      assert.is(s.fetched, s.loaded + s.rejected + s.duplicates);
      assert.is(s.loaded, expected['trades closed'].length, 'the checkpoint carries the counts of the killed run');
      db = await p.connect();
      try {
        assert.equal(await dumpTable(db, closed), expected['trades closed']);
      } finally {
        await db.close();
      }
    } finally {
      await p.dispose();
    }
  });

  test(
    '5xx bursts, slow responses, dropped connections, truncated JSON, duplicates across pages ' +
      'and 429s are survived',
    async () => {
      const faulty = await startSim(firm);
      // 2 requests/s, burst 1: the single window of the rate-limit step below sends its read-ahead pages at once,
      // so some of them meet a 429 however fast or slow this machine is (timing decides nothing).
      const limited = await startSim(firm, { rateLimit: { perSecond: 2, burst: 1 } });
      const p = await project(kind, faulty);
      try {
        // One kind of fault per source, so that no single page meets more failures than the retry budget (3).
        const steps: [string[], Parameters<SimServer['setFaults']>[0]][] = [
          [['accounts'], { serverErrors: { count: 3 } }],
          [['metrics', 'alltime'], { slow: { count: 2, ms: 2500 } }],
          [['metrics', 'daily'], { drop: { count: 2 } }],
          [['regimes', '--regimes-from', 'sim'], { truncate: { count: 2 } }],
          [['trades', 'closed'], { duplicates: { count: 2, overlap: 3 } }],
          [['trades', 'open'], { serverErrors: { count: 2, statuses: [502, 504] }, truncate: { count: 1 } }],
          [['metrics', 'hourly'], {}],
        ];
        const total = { fetched: 0, loaded: 0, rejected: 0, duplicates: 0 };
        let output = '';
        for (const [what, faults] of steps) {
          faulty.setFaults(faults);
          const r = keep(
            await p.run([
              ...what,
              '--start-date',
              START,
              '--end-date',
              END,
              '--batch-days',
              '10',
              '--max-rps',
              '200',
              '--concurrency',
              '4',
              '--timeout',
              '1',
            ]),
          );
          assert.is(r.code, 0, `${what.join(' ')}: ${show(r)}`);
          const s = summary(r.stdout)!;
          for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
          output += r.stdout + r.stderr;
        }
        assert.equal(faulty.stats().faults, {
          serverErrors: 5,
          slow: 2,
          drop: 2,
          truncate: 3,
          invalid: 0,
          duplicates: 2,
        });
        assert.match(output, /after HTTP 503/);
        assert.match(output, /ETIMEDOUT/);
        assert.match(output, /the body is not valid JSON/);
        assert.equal(total, { fetched: expectedCount + 6, loaded: expectedCount, rejected: 0, duplicates: 6 }, output);

        // Closed trades again as one window of 6 pages from the rate-limited API: 429s are waited out as told.
        const r = keep(
          await p.run(
            [
              'trades',
              'closed',
              '--start-date',
              START,
              '--end-date',
              END,
              '--batch-days',
              '30',
              '--max-rps',
              '200',
              '--concurrency',
              '4',
            ],
            limited,
          ),
        );
        assert.is(r.code, 0, show(r));
        assert.ok(limited.stats().rateLimited > 0, 'the rate limit was hit (429 + Retry-After)');
        assert.match(r.stdout + r.stderr, /after 429 rate limited; Retry-After 1\.0s/);
        assert.equal(summary(r.stdout), {
          fetched: expected['trades closed'].length,
          loaded: expected['trades closed'].length,
          rejected: 0,
          duplicates: 0,
        });
        const db = await p.connect();
        try {
          const after = await snapshot(db);
          assertTablesEqual(after.tables, expected, 'after faults');
        } finally {
          await db.close();
        }
      } finally {
        await p.dispose();
        await faulty.close();
        await limited.close();
      }
    },
  );

  test('schema-violating records land in rejected_records and fetched = loaded + rejected + duplicates', async () => {
    const p = await project(kind, sim);
    try {
      sim.setFaults({ invalid: { count: 4, perPage: 2 }, endpoints: ['trades/closed', 'metrics/daily'] });
      const before = sim.stats().invalidRecords.length;
      const r = keep(
        await p.run([
          'metrics',
          'daily',
          '--start-date',
          START,
          '--end-date',
          END,
          '--batch-days',
          '10',
          '--max-rps',
          '500',
          // 2 bad records in a window of 160 exceed the default 1%: this test is about landing them.
          '--max-reject-share',
          '0.05',
        ]),
      );
      const r2 = keep(
        await p.run([
          'trades',
          'closed',
          '--start-date',
          START,
          '--end-date',
          END,
          '--batch-days',
          '10',
          '--max-rps',
          '500',
          '--max-reject-share',
          '0.05',
        ]),
      );
      assert.is(r.code, 0, show(r));
      assert.is(r2.code, 0, show(r2));
      const bad = sim.stats().invalidRecords.slice(before);
      assert.is(bad.length, 8);
      const s1 = summary(r.stdout)!;
      const s2 = summary(r2.stdout)!;
      assert.is(s1.rejected + s2.rejected, 8);
      for (const s of [s1, s2]) assert.is(s.fetched, s.loaded + s.rejected + s.duplicates);
      assert.is(s1.loaded, expected['metrics daily'].length - s1.rejected);
      assert.is(s2.loaded, expected['trades closed'].length - s2.rejected);
      assert.match(r.stdout + r.stderr, /record\(s\) failed validation; see raw.rejected_records/);

      const db = await p.connect();
      try {
        const rows = await db.knex('raw.rejected_records').select('*').orderBy('id');
        assert.is(rows.length, 8);
        const keyOfRejected = (x: Row) => {
          const pl = x.payload as Row;
          return x.endpoint === 'trades closed'
            ? `${pl.platform}:${pl.position}`
            : `${pl.accountId}:${firm.cal.iso(firm.day(String(firm.cal.ymd(0)))!).slice(0, 0)}${pl.date}`;
        };
        const want = bad
          .map((b) => (b.endpoint === 'v2/trades/closed' ? `trades closed ${b.key}` : `metrics daily ${b.key}`))
          .sort();
        const got = rows.map((x) => `${x.endpoint} ${keyOfRejected(x)}`);
        // The daily key of the sim is accountId:date with the original date; a corrupted date shows in the payload.
        assert.is(
          got
            .filter((g) => g.startsWith('trades closed'))
            .sort()
            .join(),
          want.filter((w) => w.startsWith('trades closed')).join(),
        );
        for (const x of rows) {
          assert.ok(x.error.length > 5 && /lots|login|date|openTime|closeTime|ISO/.test(x.error), x.error);
          assert.ok(x.window_key.includes('..'), x.window_key);
          assert.ok(x.page_skip % 1000 === 0);
          assert.ok(x.record_id.length > 3);
        }
        const kinds = new Set(bad.map((b) => b.kind));
        assert.ok(kinds.size >= 2, `several kinds of violation: ${[...kinds]}`);
        // Everything else landed, and the rejected records' keys are the ones missing.
        const landed = await dumpTable(db, endpointByName('trades closed')!);
        assert.is(landed.length, s2.loaded);
      } finally {
        await db.close();
      }
      // Once the API sends them cleanly, a --force rerun completes the tables; the rejections stay as history.
      const fixed = keep(
        await p.run([
          'trades',
          'closed',
          '--start-date',
          START,
          '--end-date',
          END,
          '--batch-days',
          '10',
          '--max-rps',
          '500',
          '--force',
        ]),
      );
      assert.is(fixed.code, 0, show(fixed));
      const db2 = await p.connect();
      try {
        assert.equal(await dumpTable(db2, endpointByName('trades closed')!), expected['trades closed']);
      } finally {
        await db2.close();
      }
    } finally {
      await p.dispose();
    }
  });

  test('401: exit 1 at the first request with a precise message; the key is never printed', async () => {
    const wrong = 'wrong-KEY-9d8c7b6a5f';
    const p = await project(kind, sim, wrong);
    try {
      const before = sim.stats().unauthorized;
      const r = keep(await p.run([...ALL_ARGS, '--log-level', 'debug']));
      printed.push(r.stdout.replaceAll(wrong, `<${'wrong key'}>`)); // checked below, separately
      assert.is(r.code, 1, show(r));
      assert.match(
        r.stdout + r.stderr,
        /accounts all: accounts skip=0: HTTP 401: .*missing or invalid apiKey.*Check DPM_API_KEY/,
      );
      assert.match(r.stdout + r.stderr, /Stopping: the API refused the key/);
      assert.is(sim.stats().unauthorized - before, 1, '401 is neither retried nor repeated for other sources');
      assert.not.ok((r.stdout + r.stderr).includes(wrong), 'the wrong key was printed');
      const json = keep(await p.run([...ALL_ARGS, '--json']));
      assert.is(json.code, 1);
      assert.not.ok((json.stdout + json.stderr).includes(wrong));
      const last = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((o) => o.summary);
      assert.is(last.failed, 1);
    } finally {
      await p.dispose();
    }
  });

  test('no line printed by any run contains the API key', () => {
    assert.ok(printed.length > 8);
    for (const text of printed)
      assert.not.ok(
        text.includes(API_KEY),
        `the API key was printed:\n${text.split('\n').find((l) => l.includes(API_KEY))}`,
      );
  });

  test.run();
}
