// `dpm ingest regimes` from the regimes source database (a real PostgreSQL database made for the suite,
// filled by `dpm sim export-regimes`) and from file exports (JSON Lines, psql-style CSV), into raw tables
// on PGlite and PostgreSQL: the firm's regimes row for row, reruns that write nothing, the latest copy of
// a day winning, rejected rows and lines kept with their place, clear errors, and never the password.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointByName } from '../../ingest/endpoints.ts';
import { isoTimestamp, latestFirst, REGIMES_NOT_CONFIGURED, resolveRegimesSource } from '../../ingest/regimes.ts';
import { runDpm, type CliResult } from '../helpers/cli.ts';
import { TARGET_KINDS, TEST_PG_URL } from '../helpers/databases.ts';
import {
  dumpTable,
  END,
  FIRM,
  makeFirm,
  project,
  sortRows,
  START,
  summary,
  truth,
  type Project,
  type Row,
} from './_helpers.ts';

const spec = endpointByName('regimes')!;
const expected: Row[] = sortRows(spec, truth(makeFirm(), spec));
const byDate = (rows: Row[]) => new Map(rows.map((r) => [String(r.date), r]));
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const printed: string[] = [];
const keep = (r: CliResult): CliResult => {
  printed.push(r.stdout, r.stderr);
  return r;
};
const show = (r: CliResult) => `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`;
const WINDOW = ['--start-date', START, '--end-date', END, '--batch-days', '10'];

/**
 * A database on the test server standing in for the upstream regimes database; its URL carries a password
 * (trust auth ignores it).
 */
async function sourceDatabase() {
  const name = `dpm_test_regsrc_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  url.password = PASSWORD;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`set timezone = 'UTC'`);
  return {
    name,
    url: url.toString(),
    client,
    async dispose() {
      await client.end();
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

async function versions(p: Project): Promise<string> {
  const db = await p.connect();
  try {
    return (
      await db.knex.raw(
        `select md5(string_agg(xmin::text || ':' || ingested_at::text, ',' order by date)) as v from raw.regimes_daily`,
      )
    ).rows[0].v;
  } finally {
    await db.close();
  }
}

async function regimesTable(p: Project): Promise<{ rows: Row[]; rejected: Row[]; checkpoints: Row[] }> {
  const db = await p.connect();
  try {
    return {
      rows: await dumpTable(db, spec),
      rejected: await db.knex('raw.rejected_records').select('*').orderBy('id'),
      checkpoints: await db.knex('dpm.ingest_checkpoints').where({ endpoint: 'regimes' }).orderBy('window_key'),
    };
  } finally {
    await db.close();
  }
}

function assertReconciled(checkpoints: Row[]): void {
  assert.ok(checkpoints.length > 0);
  for (const c of checkpoints) {
    assert.is(c.status, 'done', JSON.stringify(c));
    assert.is(Number(c.fetched), Number(c.loaded) + Number(c.rejected) + Number(c.duplicates), JSON.stringify(c));
  }
}

const unit = suite('ingest: regimes source choice, text forms, latest copy');

unit(
  '--from-file, then DPM_REGIMES_DATABASE_URL, then dpm.yml (url_env, url), else none; the table is configurable',
  () => {
    const url = 'postgres://u:secret-pw@db.example:5432/market';
    // The real API has no regimes route: with no source configured the regimes are skipped, never asked of it.
    assert.equal(resolveRegimesSource({ env: {} }), { kind: 'none', why: REGIMES_NOT_CONFIGURED });
    assert.equal(resolveRegimesSource({ env: { DPM_REGIMES_DATABASE_URL: url } }), {
      kind: 'database',
      url,
      table: 'public.regimes_daily',
      why: 'DPM_REGIMES_DATABASE_URL',
    });
    assert.is(resolveRegimesSource({ env: { DPM_REGIMES_DATABASE_URL: url }, regimesFrom: 'sim' }).kind, 'sim');
    const viaConfig = resolveRegimesSource({
      env: { MY_URL: url, DPM_REGIMES_TABLE: 'md.regimes' },
      config: { url_env: 'MY_URL', table: 'x.y' },
    });
    assert.equal(viaConfig, {
      kind: 'database',
      url,
      table: 'md.regimes',
      why: '$MY_URL, named by regimes-source.url_env in dpm.yml',
    });
    assert.is(resolveRegimesSource({ env: {}, config: { url, table: 'x.y' } }).kind, 'database');
    assert.throws(
      () => resolveRegimesSource({ env: {}, config: { url_env: 'UNSET_VAR' } }),
      /UNSET_VAR, which is not set/,
    );
    assert.throws(
      () => resolveRegimesSource({ env: {}, regimesFrom: 'database' }),
      /--regimes-from database needs the source database: set DPM_REGIMES_DATABASE_URL/,
    );
    assert.throws(
      () => resolveRegimesSource({ env: { DPM_REGIMES_DATABASE_URL: 'mysql://u:secret-pw@h/db' } }),
      (e: Error) => /must be a postgres:\/\/ URL/.test(e.message) && !e.message.includes('secret-pw'),
    );
    assert.throws(() => resolveRegimesSource({ env: {}, fromFile: 'no/such/file.jsonl' }), /no such file/);
  },
);

unit("psql's timestamps become ISO; copies sort by updated_at, then created_at, missing times last", () => {
  assert.is(isoTimestamp('2024-03-01 23:00:00+00'), '2024-03-01T23:00:00+00:00');
  assert.is(isoTimestamp('2024-03-01 23:00:00.123456-0530'), '2024-03-01T23:00:00.123456-05:30');
  assert.is(isoTimestamp('2024-03-01T23:00:00.000Z'), '2024-03-01T23:00:00.000Z');
  assert.is(isoTimestamp('yesterday'), 'yesterday');
  const copies = [
    { id: 'old', updated_at: '2024-03-01T10:00:00Z', created_at: '2024-03-01T09:00:00Z' },
    { id: 'none', updated_at: null, created_at: null },
    { id: 'new', updated_at: '2024-03-01T12:00:00+00:00', created_at: '2024-03-01T09:00:00Z' },
    { id: 'new-created-later', updated_at: '2024-03-01T12:00:00Z', created_at: '2024-03-01T11:00:00Z' },
  ];
  assert.equal(
    [...copies].sort(latestFirst).map((c) => c.id),
    ['new-created-later', 'new', 'old', 'none'],
  );
});

unit.run();

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] ingest regimes from the source database and files`);
  let src: Awaited<ReturnType<typeof sourceDatabase>>;
  let dir: string;
  let jsonl: string;
  let exportRun: CliResult;

  test.before(async () => {
    src = await sourceDatabase();
    dir = mkdtempSync(join(tmpdir(), 'dpm-regsrc-'));
    jsonl = join(dir, 'regimes_daily.jsonl');
    exportRun = keep(
      await runDpm(
        [
          'sim',
          'export-regimes',
          '--seed',
          String(FIRM.seed),
          '--days',
          String(FIRM.days),
          '--start-date',
          FIRM.startDate,
          '--db',
          src.url,
          '--file',
          jsonl,
        ],
        { cwd: dir },
      ),
    );
  });
  test.after(async () => {
    await src.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    'export-regimes fills public.regimes_daily; ingest reads it window by window, row for row; ' +
      'reruns write nothing',
    async () => {
      assert.is(exportRun.code, 0, show(exportRun));
      assert.match(
        exportRun.stdout,
        new RegExp(
          `wrote 24 regimes \\(2024-03-01\\.\\.2024-03-24\\) ` +
            `to postgres://postgres@127\\.0\\.0\\.1:5432/${src.name} table public\\.regimes_daily`,
        ),
      );
      const { rows: cols } = await src.client.query(
        `select column_name from information_schema.columns
         where table_schema = 'public' and table_name = 'regimes_daily' order by ordinal_position`,
      );
      assert.equal(
        cols.map((c) => c.column_name),
        [
          'date',
          'market_news',
          'instruments',
          'country_economic_indicators',
          'news_analysis',
          'summary',
          'vector_daily_regime',
          'created_at',
          'updated_at',
        ],
      );
      // No API is configured: the regimes need none.
      const p = await project(kind);
      p.env.DPM_REGIMES_DATABASE_URL = src.url;
      try {
        const r = keep(await p.run(['regimes', ...WINDOW]));
        assert.is(r.code, 0, show(r));
        assert.match(
          r.stdout,
          new RegExp(
            `regimes from source database postgres://postgres@127\\.0\\.0\\.1:5432/${src.name} ` +
              'table public\\.regimes_daily \\(DPM_REGIMES_DATABASE_URL\\); vector_daily_regime read as text',
          ),
        );
        assert.equal(summary(r.stdout), { fetched: 24, loaded: 24, rejected: 0, duplicates: 0 });
        const first = await regimesTable(p);
        assert.equal(first.rows, expected);
        assert.is(first.rejected.length, 0);
        assert.equal(
          first.checkpoints.map((c) => c.window_key),
          ['2024-03-01..2024-03-10', '2024-03-11..2024-03-20', '2024-03-21..2024-03-24'],
        );
        assertReconciled(first.checkpoints);
        const v0 = await versions(p);

        const again = keep(await p.run(['regimes', ...WINDOW]));
        assert.is(again.code, 0, show(again));
        assert.match(again.stdout, /0 window\(s\) fetched, 3 already done/);
        const forced = keep(await p.run(['regimes', ...WINDOW, '--force', '--json']));
        assert.is(forced.code, 0, show(forced));
        const last = forced.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((o) => o.summary);
        assert.equal([last.fetched, last.loaded, last.rejected, last.duplicates], [24, 24, 0, 0]);
        assert.is(await versions(p), v0, 'a rerun rewrote rows (xmin or ingested_at changed)');
        assert.equal((await regimesTable(p)).rows, expected);
      } finally {
        await p.dispose();
      }
    },
  );

  test(
    'the latest copy of a day wins (updated_at, then created_at); older copies count as duplicates; ' +
      'dpm.yml names the source',
    async () => {
      const t = 'public.regimes_copies';
      await src.client.query(`create table ${t} as select * from public.regimes_daily`);
      await src.client.query(
        `insert into ${t} select date, market_news, instruments, country_economic_indicators, news_analysis,
           '{"stale": true}', null, created_at - interval '1 day', updated_at - interval '1 day'
         from ${t} where date = '2024-03-02'`,
      );
      await src.client.query(
        `insert into ${t} select date, market_news, instruments, country_economic_indicators, news_analysis,
           jsonb_set(summary, '{regime_fingerprint}', '"revised"'), '[0.25,-1.5,3]', created_at,
           updated_at + interval '2 hours'
         from ${t} where date = '2024-03-03'`,
      );
      await src.client.query(
        `insert into ${t} select date, market_news, instruments, country_economic_indicators, news_analysis,
           summary || '{"copy": "created later"}', null, created_at + interval '1 hour', updated_at
         from ${t} where date = '2024-03-04'`,
      );
      await src.client.query(
        `insert into ${t} select date, market_news, instruments, country_economic_indicators, news_analysis,
           '{"undated copy": true}', null, created_at, null
         from ${t} where date = '2024-03-05'`,
      );
      const p = await project(kind);
      appendFileSync(join(p.dir, 'dpm.yml'), `regimes-source:\n  url_env: REGSRC_URL\n  table: ${t}\n`);
      p.env.REGSRC_URL = src.url;
      try {
        const r = keep(await p.run(['regimes', ...WINDOW]));
        assert.is(r.code, 0, show(r));
        assert.match(
          r.stdout,
          /table public\.regimes_copies \(\$REGSRC_URL, named by regimes-source\.url_env in dpm\.yml\)/,
        );
        assert.equal(summary(r.stdout), { fetched: 28, loaded: 24, rejected: 0, duplicates: 4 });
        const { rows, checkpoints } = await regimesTable(p);
        assertReconciled(checkpoints);
        const got = byDate(rows);
        const want = byDate(expected);
        assert.is(rows.length, 24);
        assert.equal(got.get('2024-03-02'), want.get('2024-03-02'), 'an older copy does not replace the latest');
        assert.is((got.get('2024-03-03')!.summary as Row).regime_fingerprint, 'revised', 'a copy updated later wins');
        assert.equal(
          got.get('2024-03-03')!.extra,
          { vector_daily_regime: [0.25, -1.5, 3] },
          'the vector is kept in extra as numbers',
        );
        assert.equal(
          got.get('2024-03-03')!.updated_at,
          new Date(Date.parse(String(want.get('2024-03-03')!.updated_at)) + 2 * 3600_000).toISOString(),
        );
        assert.is(
          (got.get('2024-03-04')!.summary as Row).copy,
          'created later',
          'same updated_at: the copy created later wins',
        );
        assert.equal(got.get('2024-03-05'), want.get('2024-03-05'), 'a copy without updated_at is the oldest');
        for (const [date, row] of want)
          if (!['2024-03-03', '2024-03-04'].includes(date)) assert.equal(got.get(date), row, date);
      } finally {
        await p.dispose();
      }
    },
  );

  test(
    'schema-violating rows of a source table land in raw.rejected_records; ' +
      'fetched = loaded + rejected + duplicates',
    async () => {
      // A source that keeps everything as text: what it holds is checked like an API record.
      const t = 'public.regimes_text';
      await src.client.query(
        `create table ${t} as select date, market_news::text, instruments::text, country_economic_indicators::text,
           news_analysis::text, summary::text, created_at::text, updated_at::text
         from public.regimes_daily`,
      );
      await src.client.query(`alter table ${t} add column id serial`);
      await src.client.query(`update ${t} set market_news = '{"count": 3,' where date = '2024-03-06'`);
      await src.client.query(`update ${t} set created_at = '07/03/2024 23:00' where date = '2024-03-07'`);
      // A newer copy that is broken: the latest valid copy (the original) lands.
      await src.client.query(
        `insert into ${t}
           (date, market_news, instruments, country_economic_indicators, news_analysis, summary, created_at, updated_at)
         select date, market_news, instruments, country_economic_indicators, news_analysis, summary,
           'soon', '2024-12-31 00:00:00+00'
         from ${t} where date = '2024-03-08'`,
      );
      await src.client.query(`insert into ${t} (date, summary) values (null, '{}')`);
      const p = await project(kind);
      Object.assign(p.env, { DPM_REGIMES_DATABASE_URL: src.url, DPM_REGIMES_TABLE: t });
      try {
        // 3 bad rows of 11 exceed the default 1%: this test is about landing them.
        const r = keep(await p.run(['regimes', ...WINDOW, '--max-reject-share', '0.5']));
        assert.is(r.code, 0, show(r));
        const out = r.stdout + r.stderr;
        assert.equal(summary(r.stdout), { fetched: 25, loaded: 22, rejected: 3, duplicates: 0 });
        assert.match(out, /columns not read: id/);
        assert.match(out, /1 row\(s\) of public\.regimes_text have no date: they belong to no day and are not read/);
        assert.match(
          out,
          new RegExp(
            /regimes: rejected public\.regimes_text date 2024-03-06 /.source +
              /updated_at [^:]+:\d\d:\d\d\+00: market_news: not valid JSON/.source,
          ),
        );
        assert.match(
          out,
          new RegExp(
            /3 record\(s\) failed validation; see raw\.rejected_records /.source +
              /\(endpoint='regimes', window_key='2024-03-01\.\.2024-03-10'\)/.source,
          ),
        );
        const { rows, rejected, checkpoints } = await regimesTable(p);
        assertReconciled(checkpoints);
        assert.equal(
          rows,
          expected.filter((x) => x.date !== '2024-03-06' && x.date !== '2024-03-07'),
        );
        assert.equal(
          rejected
            .map((x) => [
              x.endpoint,
              x.window_key,
              String(x.record_id).split(' ')[2],
              String(x.error)
                .replace(/ \(.*$/, '')
                .split(':')
                .slice(0, 2)
                .join(':'),
            ])
            .sort(),
          [
            ['regimes', '2024-03-01..2024-03-10', '2024-03-06', 'market_news: not valid JSON'],
            [
              'regimes',
              '2024-03-01..2024-03-10',
              '2024-03-07',
              'created_at: created_at must be an ISO timestamp like 2025-02-13T09',
            ],
            [
              'regimes',
              '2024-03-01..2024-03-10',
              '2024-03-08',
              'created_at: created_at must be an ISO timestamp like 2025-02-13T09',
            ],
          ],
        );
        for (const x of rejected)
          assert.ok(Number.isInteger(x.page_skip) && typeof (x.payload as Row).summary === 'string', JSON.stringify(x));
      } finally {
        await p.dispose();
      }
    },
  );

  test(
    'a JSON Lines export with bad lines: file:line in the output and raw.rejected_records; ' +
      'a psql CSV export: the same rows',
    async () => {
      const file = join(dir, 'with-bad-lines.jsonl');
      const lines = readFileSync(jsonl, 'utf8').trimEnd().split('\n');
      assert.is(lines.length, 24);
      writeFileSync(
        file,
        [...lines, '{"date":"2024-03-05","summary":{},"created_at":"yesterday"}', '', 'not json', lines[2]].join('\n') +
          '\n',
      );
      const p = await project(kind);
      try {
        const r = keep(await p.run(['regimes', '--from-file', file, '--max-reject-share', '0.5']));
        assert.is(r.code, 0, show(r));
        const out = r.stdout + r.stderr;
        assert.match(out, new RegExp(`regimes from file ${file.replace(/[.]/g, '\\.')} \\(JSON Lines\\), every day`));
        assert.ok(out.includes(`rejected ${file}:25: created_at: created_at must be an ISO timestamp`), out);
        assert.ok(out.includes(`rejected ${file}:27: record: not valid JSON`), out);
        assert.equal(summary(r.stdout), { fetched: 27, loaded: 24, rejected: 2, duplicates: 1 });
        const { rows, rejected, checkpoints } = await regimesTable(p);
        assert.equal(rows, expected);
        assertReconciled(checkpoints);
        assert.equal(
          rejected.map((x) => [x.window_key, x.page_skip, x.record_id]),
          [
            [`file:${file}`, 25, `${file}:25`],
            [`file:${file}`, 27, `${file}:27`],
          ],
        );
        assert.is(rejected[1].payload, 'not json');

        // What psql's \copy (select * from public.regimes_daily) to 'regimes.csv' csv header writes.
        const csv = join(dir, 'regimes.csv');
        await pipeline(
          src.client.query(
            copyTo(`copy (select * from public.regimes_daily order by date desc) to stdout (format csv, header)`),
          ),
          createWriteStream(csv),
        );
        const window = keep(
          await p.run(['regimes', '--from-file', csv, '--start-date', '2024-03-11', '--end-date', '2024-03-20']),
        );
        assert.is(window.code, 0, show(window));
        assert.match(window.stdout, /\(CSV with a header row\), 2024-03-11\.\.2024-03-20/);
        assert.match(window.stdout, /14 line\(s\) dated outside 2024-03-11\.\.2024-03-20 were left out of the window/);
        assert.equal(summary(window.stdout), { fetched: 10, loaded: 10, rejected: 0, duplicates: 0 });
        const v0 = await versions(p);
        const whole = keep(await p.run(['regimes', '--from-file', csv]));
        assert.equal(summary(whole.stdout), { fetched: 24, loaded: 24, rejected: 0, duplicates: 0 });
        assert.is(await versions(p), v0, 'the CSV rows are the JSON Lines rows: nothing rewritten');
        assert.equal((await regimesTable(p)).rows, expected);
      } finally {
        await p.dispose();
      }
    },
  );

  test(
    'unreachable database, missing table, missing columns, a URL that is not postgres://: ' +
      'clear errors, no password',
    async () => {
      await src.client.query(
        `create table public.regimes_partial (date date, market_news jsonb, instruments jsonb,
           country_economic_indicators jsonb, news_analysis jsonb, created_at timestamptz)`,
      );
      const p = await project(kind);
      const unreachable = new URL(src.url);
      unreachable.port = '1';
      const run = async (env: Record<string, string>, extra: string[] = []) => {
        for (const k of ['DPM_REGIMES_DATABASE_URL', 'DPM_REGIMES_TABLE']) delete p.env[k];
        Object.assign(p.env, env);
        return keep(await p.run(['regimes', ...WINDOW, ...extra]));
      };
      try {
        const down = await run({ DPM_REGIMES_DATABASE_URL: unreachable.toString() });
        assert.is(down.code, 1, show(down));
        assert.match(
          down.stderr,
          new RegExp(
            'regimes: cannot connect to the regimes source database ' +
              `postgres://postgres@127\\.0\\.0\\.1:1/${src.name}: .*ECONNREFUSED.*Check DPM_REGIMES_DATABASE_URL`,
          ),
        );
        const noTable = await run({ DPM_REGIMES_DATABASE_URL: src.url, DPM_REGIMES_TABLE: 'public.no_such_regimes' });
        assert.is(noTable.code, 1, show(noTable));
        assert.match(
          noTable.stderr,
          new RegExp(
            /regimes: the regimes source database postgres:\/\/postgres@[^ ]+ /.source +
              /has no table public\.no_such_regimes\. Point DPM_REGIMES_TABLE/.source,
          ),
        );
        const partial = await run({ DPM_REGIMES_DATABASE_URL: src.url, DPM_REGIMES_TABLE: 'public.regimes_partial' }, [
          '--json',
        ]);
        assert.is(partial.code, 1, show(partial));
        const error = partial.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((o) => o.level === 'error');
        assert.match(
          error.msg,
          new RegExp(
            /table public\.regimes_partial of the regimes source database postgres:\/\/postgres@[^ ]+ /.source +
              /has no columns summary, updated_at\. /.source +
              /dpm reads date, market_news, instruments, country_economic_indicators, news_analysis, summary, /.source +
              /created_at, updated_at/.source,
          ),
        );
        const notPg = await run({ DPM_REGIMES_DATABASE_URL: src.url.replace(/^postgres/, 'mysql') });
        assert.is(notPg.code, 2, show(notPg));
        assert.match(notPg.stderr, /DPM_REGIMES_DATABASE_URL must be a postgres:\/\/ URL/);
        const api = await run({}, ['--regimes-from', 'database']);
        assert.is(api.code, 2, show(api));
        assert.match(api.stderr, /--regimes-from database needs the source database/);
        // Without a source the regimes are skipped in one line, never asked of the API (it has no such route).
        const none = await run({});
        assert.is(none.code, 0, show(none));
        assert.match(none.stdout + none.stderr, /regimes skipped: no source configured\. Set DPM_REGIMES_DATABASE_URL/);
        assert.not.match(none.stdout + none.stderr, /DPM_API_BASE_URL/);
      } finally {
        await p.dispose();
      }
    },
  );

  test('no line printed by any run contains the source database password', () => {
    assert.ok(printed.length >= 20);
    for (const text of printed)
      assert.not.ok(
        text.includes(PASSWORD),
        `the password was printed:\n${text.split('\n').find((l) => l.includes(PASSWORD))}`,
      );
  });

  test.run();
}
