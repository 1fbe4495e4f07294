// Seeds (parsing without a database, loading on both targets) and build semantics: data tests with
// severity and where, downstream skipping, --fail-fast.
import { join } from 'node:path';
import { suite } from 'uvu';
import { inferType } from '../../runner/seeds/seed-values.ts';
import * as assert from 'uvu/assert';
import { connect, type Database } from '../../runner/db/connect.ts';
import { SeedError } from '../../runner/errors.ts';
import { loadProject } from '../../runner/project/load.ts';
import type { SeedNode } from '../../runner/project/nodes.ts';
import { parseSeed } from '../../runner/seeds/load-seed.ts';
import { freshTarget, TARGET_KINDS, type TestTarget } from '../helpers/databases.ts';
import { build, removeDir, resetSchemas, rowsOf, scratchRelations, thrown, writeProject } from './_helpers.ts';

const GOOD_SEED = {
  // A BOM, a quoted newline, a quoted comma and quote, None/True/False, US timestamps, camelCase headers.
  'seeds/traders.csv':
    '\uFEFFtraderId,name,isInternal,joinedAt,score\n' +
    '1,"Ada\nLovelace",False,01/15/2024 09:30:00,1.5\n' +
    '2,"Bo, ""the desk""",True,12/31/2023 23:59:59,None\n' +
    '3,Cy,None,02/01/2024 00:00:00,-2\n',
  'seeds/plans/a.csv': 'planId,price\n1,100\n2,200\n',
  'seeds/plans/b.csv': 'planId,price\n2,200\n3,300\n',
  'seeds/props.yml':
    'version: 2\nseeds:\n  - name: plans\n    config:\n      unique_key: planId\n' +
    '      column_types:\n        price: numeric(10,2)\n',
};

function seedOf(dir: string, name: string): SeedNode {
  return [...loadProject(dir).nodes.values()].find((n) => n.name === name) as SeedNode;
}

const parsing = suite('seeds: parsing');

parsing('types are inferred; BOM, quoted newlines, None/True/False and MM/DD/YYYY HH:MM:SS are read', () => {
  const dir = writeProject({ ...GOOD_SEED });
  try {
    const parsed = parseSeed(dir, seedOf(dir, 'traders'));
    assert.equal(parsed.columns, [
      { name: 'trader_id', type: 'integer' },
      { name: 'name', type: 'text' },
      { name: 'is_internal', type: 'boolean' },
      { name: 'joined_at', type: 'timestamp' },
      { name: 'score', type: 'double precision' },
    ]);
    assert.equal(parsed.rows, [
      ['1', 'Ada\nLovelace', 'f', '2024-01-15 09:30:00', '1.5'],
      ['2', 'Bo, "the desk"', 't', '2023-12-31 23:59:59', null],
      ['3', 'Cy', null, '2024-02-01 00:00:00', '-2'],
    ]);
  } finally {
    removeDir(dir);
  }
});

parsing("dbt's types: dates without a time are dates, whole numbers integers unless they need 64 bits", () => {
  assert.is(inferType(['2024-01-15', '01/31/2024'], false), 'date');
  assert.is(inferType(['2024-01-15', '2024-01-16 10:00'], false), 'timestamp');
  assert.is(inferType(['1', '-2147483648', '2147483647'], false), 'integer');
  assert.is(inferType(['1', '2147483648'], false), 'bigint');
  assert.is(inferType(['1', '2.5'], false), 'double precision');
  assert.is(inferType(['2024-01-15', 'soon'], false), 'text');
});

parsing('a multi-file seed merges identical rows', () => {
  const dir = writeProject({ ...GOOD_SEED });
  try {
    const parsed = parseSeed(dir, seedOf(dir, 'plans'));
    assert.is(parsed.duplicates, 1);
    assert.equal(parsed.rows, [
      ['1', '100'],
      ['2', '200'],
      ['3', '300'],
    ]);
    assert.equal(parsed.columns[1], { name: 'price', type: 'numeric(10,2)' });
  } finally {
    removeDir(dir);
  }
});

const seedError = (files: Record<string, string>, name: string): SeedError => {
  const dir = writeProject(files);
  try {
    const e = thrown(() => parseSeed(dir, seedOf(dir, name)));
    assert.instance(e, SeedError);
    return e as SeedError;
  } finally {
    removeDir(dir);
  }
};

parsing('a conflicting duplicate across files fails naming both files and lines', () => {
  const e = seedError({ ...GOOD_SEED, 'seeds/plans/b.csv': 'planId,price\n3,300\n2,250\n' }, 'plans');
  assert.match(
    e.message,
    new RegExp(
      /^seeds\/plans\/b\.csv:3: plan_id 2 also appears in seeds\/plans\/a\.csv:3 /.source +
        /with different content \(first difference in column 'price'\)/.source,
    ),
  );
});

parsing('a bad cell fails with file:line:column and the expected type', () => {
  const e = seedError(
    {
      'seeds/s.csv': 'id,n\n1,2\n2,"multi\nline"\n3,x\n',
      'seeds/p.yml': 'version: 2\nseeds:\n  - name: s\n    config:\n      column_types: {n: int}\n',
    },
    's',
  );
  // The third record starts on line 5 because the second one spans two lines.
  assert.match(e.message, /^seeds\/s\.csv:3:2: column 'n' expects a whole number, got "multi\\nline"/);
  const e2 = seedError(
    {
      'seeds/s.csv': 'id,at\n1,2024-01-01\n2,13/45/2024 10:00:00\n',
      'seeds/p.yml': 'version: 2\nseeds:\n  - name: s\n    config:\n      column_types: {at: timestamp}\n',
    },
    's',
  );
  assert.match(e2.message, /^seeds\/s\.csv:3:2: column 'at' expects a timestamp/);
  assert.match(e2.message, "nothing of seed 's' was loaded");
});

parsing('a row with the wrong number of fields names its line', () => {
  const e = seedError({ 'seeds/s.csv': 'a,b\n1,2\n3\n' }, 's');
  assert.match(e.message, /^seeds\/s\.csv:3: /);
  assert.match(e.message, "nothing of seed 's' was loaded");
});

parsing('files of one seed with different headers are refused', () => {
  const e = seedError({ 'seeds/p/a.csv': 'x,y\n1,2\n', 'seeds/p/b.csv': 'x,z\n1,2\n' }, 'p');
  assert.match(e.message, /^seeds\/p\/b\.csv:1: its header differs from seeds\/p\/a\.csv \(missing: y; extra: z/);
});
parsing.run();

for (const kind of TARGET_KINDS) {
  let t: TestTarget;
  let db: Database;
  const dirs: string[] = [];
  const project = (files: Record<string, string>) => {
    const d = writeProject({ ...files });
    dirs.push(d);
    return d;
  };

  const s = suite(`[${kind}] seeds and build semantics`);
  s.before(async () => {
    t = await freshTarget(kind);
    db = await connect(t.target);
  });
  s.after(async () => {
    await db.close();
    await t.dispose();
    for (const d of dirs) removeDir(d);
  });
  s.before.each(async () => resetSchemas(db));

  s('seeds load with their types and values', async () => {
    const dir = project(GOOD_SEED);
    const r = await build(dir, db);
    assert.ok(r.ok, JSON.stringify(r.results));
    assert.match(
      r.results.find((x) => x.unique_id.endsWith('plans'))!.message,
      'loaded 3 rows (1 duplicate rows merged)',
    );
    const rows = await rowsOf(
      db,
      `select trader_id, name, is_internal, joined_at::text as joined_at, score from seeds.traders order by trader_id`,
    );
    assert.equal(rows, [
      { trader_id: 1, name: 'Ada\nLovelace', is_internal: false, joined_at: '2024-01-15 09:30:00', score: 1.5 },
      { trader_id: 2, name: 'Bo, "the desk"', is_internal: true, joined_at: '2023-12-31 23:59:59', score: null },
      { trader_id: 3, name: 'Cy', is_internal: null, joined_at: '2024-02-01 00:00:00', score: -2 },
    ]);
    const types = await rowsOf(
      db,
      `select column_name, data_type from information_schema.columns
       where table_schema = 'seeds' and table_name = 'plans' order by ordinal_position`,
    );
    assert.equal(types, [
      { column_name: 'plan_id', data_type: 'integer' },
      { column_name: 'price', data_type: 'numeric' },
    ]);
    assert.equal(await rowsOf(db, 'select plan_id, price from seeds.plans order by 1'), [
      { plan_id: 1, price: 100 },
      { plan_id: 2, price: 200 },
      { plan_id: 3, price: 300 },
    ]);
  });

  s('a bad row fails the seed, loads nothing of it, keeps the previous load, and other seeds still load', async () => {
    const dir = project(GOOD_SEED);
    assert.ok((await build(dir, db)).ok);
    writeProject(
      { 'seeds/plans/b.csv': 'planId,price\n3,300\n4,lots\n', 'seeds/traders.csv': 'traderId,name\n9,Zed\n' },
      dir,
    );
    const r = await build(dir, db);
    assert.is(r.byName.plans, 'error');
    assert.is(r.byName.traders, 'success');
    assert.match(
      r.results.find((x) => x.unique_id.endsWith('plans'))!.message,
      /^seeds\/plans\/b\.csv:3:2: column 'price' expects a number, got "lots"/,
    );
    assert.equal(await rowsOf(db, 'select count(*) as n from seeds.plans'), [{ n: 3 }]);
    assert.equal(await rowsOf(db, 'select trader_id, name from seeds.traders'), [{ trader_id: 9, name: 'Zed' }]);
    assert.equal(await scratchRelations(db), []);
  });

  s('a bad seed on first load creates no table', async () => {
    const dir = project({
      'seeds/s.csv': 'id,n\n1,2\n2,3.5\n',
      'seeds/p.yml': 'version: 2\nseeds:\n  - name: s\n    config:\n      column_types: {n: integer}\n',
    });
    const r = await build(dir, db);
    assert.is(r.byName.s, 'error');
    assert.match(r.results[0].message, /^seeds\/s\.csv:3:2: column 'n' expects a whole number/);
    assert.equal(await rowsOf(db, `select to_regclass('seeds.s') as r`), [{ r: null }]);
  });

  const BUILD = {
    'models/b/bad.sql': `{{ config(materialized='table') }}\nselect 1 / 0 as x`,
    'models/b/after_bad.sql': `select * from {{ ref('bad') }}`,
    'models/b/after_after_bad.sql': `select * from {{ ref('after_bad') }}`,
    'models/b/ok1.sql': `select 1 as id`,
    'models/b/ok2.sql': `select * from {{ ref('ok1') }}`,
    'models/b/tested.sql':
      "{{ config(materialized='table') }}\n" + 'select 1 as id union all select 1 union all select null',
    'models/b/child_of_tested.sql': `select * from {{ ref('tested') }}`,
    'models/b/warned.sql': `{{ config(materialized='table') }}\nselect 1 as id union all select 1`,
    'models/b/child_of_warned.sql': `select * from {{ ref('warned') }}`,
    'models/b/props.yml': `version: 2
models:
  - name: tested
    columns:
      - name: id
        data_tests:
          - unique
          - not_null:
              config:
                where: "id is not null or false"
  - name: warned
    columns:
      - name: id
        data_tests:
          - unique:
              config:
                severity: warn
          - not_null:
              where: "id > 1"
  - name: ok1
    data_tests:
      - expression_is_true:
          expression: "id = 1"
`,
    'tests/data/assert_ok2_small.sql': `select * from {{ ref('ok2') }} where id > 5`,
  };

  s('a failure skips everything downstream while independent branches go on; tests pass, fail and warn', async () => {
    const dir = project(BUILD);
    const r = await build(dir, db);
    assert.not.ok(r.ok);
    const statuses = Object.fromEntries(
      Object.entries(r.byName).map(([k, v]) => [k.replace(/^(expression_is_true_ok1)_[0-9a-f]{8}$/, '$1'), v]),
    );
    assert.equal(statuses, {
      bad: 'error',
      after_bad: 'skipped',
      after_after_bad: 'skipped',
      ok1: 'success',
      ok2: 'success',
      expression_is_true_ok1: 'pass',
      assert_ok2_small: 'pass',
      tested: 'success',
      unique_tested_id: 'fail',
      not_null_tested_id: 'pass',
      child_of_tested: 'skipped',
      warned: 'success',
      unique_warned_id: 'warn',
      not_null_warned_id: 'pass',
      child_of_warned: 'success',
    });
    const msg = (name: string) => r.results.find((x) => r.project.nodes.get(x.unique_id)!.name === name)!;
    assert.is(msg('after_bad').message, 'skipped: upstream bad failed');
    assert.is(msg('after_after_bad').message, 'skipped: upstream after_bad was skipped');
    assert.is(msg('child_of_tested').message, 'skipped: upstream unique_tested_id failed');
    assert.is(msg('unique_tested_id').failures, 1);
    assert.is(msg('unique_warned_id').failures, 1);
    assert.match(msg('bad').message, 'division by zero');
    assert.match(msg('bad').message, 'models/b/bad.sql');
  });

  s('--fail-fast stops scheduling after the first failure', async () => {
    const dir = project(BUILD);
    const r = await build(dir, db, { failFast: true, threads: 1 });
    assert.is(r.byName.bad, 'error');
    const ff = r.results.filter((x) => x.message === 'skipped: --fail-fast after an earlier failure');
    assert.ok(ff.length >= 5, JSON.stringify(r.byName));
    assert.is(r.byName.warned, 'skipped');
  });

  s('data tests on a seed and on a source; a source is not built, its tests still run', async () => {
    await db.knex.raw('create schema raw');
    await db.knex.raw('create table raw.accounts as select * from (values (1), (2), (3)) v(id)');
    const dir = project({
      'seeds/s.csv': 'id\n1\n1\n',
      'seeds/p.yml': 'version: 2\nseeds:\n  - name: s\n    columns:\n      - name: id\n        data_tests: [unique]\n',
      'models/src.yml':
        'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: accounts\n        columns:\n' +
        '          - name: id\n            data_tests:\n' +
        '              - accepted_values:\n                  values: [1, 2]\n',
      'models/m.sql': `select * from {{ source('raw', 'accounts') }}`,
      'models/n.sql': `select * from {{ ref('s') }}`,
    });
    const r = await build(dir, db);
    assert.equal(r.byName, {
      s: 'success',
      unique_s_id: 'fail',
      m: 'success',
      n: 'skipped',
      accepted_values_raw_accounts_id: 'fail',
    });
    assert.is(r.results.find((x) => x.unique_id.endsWith('accepted_values_raw_accounts_id'))!.failures, 1);
  });
  s.run();
}

// A sanity check that the example fixture still builds and tests green in-process on every target.
for (const kind of TARGET_KINDS) {
  const fx = suite(`[${kind}] example project`);
  fx('builds, tests green, and a second (incremental) build is green too', async () => {
    const t = await freshTarget(kind);
    const db = await connect(t.target);
    try {
      const dir = join(new URL('../fixtures/project', import.meta.url).pathname);
      let r = await build(dir, db, { endDate: '2024-05-08' });
      assert.ok(r.ok, JSON.stringify(r.results.filter((x) => x.status !== 'success' && x.status !== 'pass')));
      assert.is(r.results.length, 20);
      assert.equal(await rowsOf(db, 'select trader_name, total_pnl from marts.top_traders'), [
        { trader_name: 'Ada', total_pnl: 300.25 },
        { trader_name: 'Dee, "the desk"', total_pnl: 55 },
        { trader_name: 'Bo', total_pnl: 35 },
      ]);
      r = await build(dir, db, { endDate: '2024-05-08' });
      assert.ok(r.ok);
      assert.equal(await rowsOf(db, 'select count(*) as n from features.trader_rolling_pnl'), [{ n: 11 }]);
    } finally {
      await db.close();
      await t.dispose();
    }
  });
  fx.run();
}
