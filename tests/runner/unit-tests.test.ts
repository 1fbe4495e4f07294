// dbt 1.8+ unit tests (`unit_tests:` in yml): the model's SQL on given rows, compared with expected rows; run by
// `dpm test` and by `dpm build` before the model, which a failing one skips. Runs on both targets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import type { Database } from '../../runner/db/connect.ts';
import { executeNodes } from '../../runner/execute/execute.ts';
import { Dag } from '../../runner/graph/dag.ts';
import { selectNodes } from '../../runner/graph/select.ts';
import { createLogger } from '../../runner/log.ts';
import { loadProject } from '../../runner/project/load.ts';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { databaseSuite, removeDir, rowsOf, thrown, writeProject } from './_helpers.ts';

const STG_ORDERS = `{{ config(materialized='table') }}
select 1 as id, 10.50::numeric(10,2) as amount, 'open'::varchar(10) as status, null::text as note,
       date '2024-01-01' as day`;
const ORDER_TOTALS = `select status, sum(amount) as total, count(*) as n from {{ ref('stg_orders') }} group by status`;
const GIVEN_ORDERS = `    given:
      - input: ref('stg_orders')
        rows:
          - {id: 1, amount: 10.5, status: open}
          - {id: 2, amount: 4, status: open}
          - {id: 3, amount: 1.25, status: closed}
`;

/** A yml of unit tests of order_totals; `expectOpen` is the expected row for status open. */
const totalsYml = (name: string, expectOpen: string) => `version: 2
unit_tests:
  - name: ${name}
    model: order_totals
${GIVEN_ORDERS}    expect:
      rows:
        - {status: closed, total: 1.25, n: 1}
        - ${expectOpen}
`;

/** Loads, selects (as `dpm build`, or as `dpm test` with types ['test']) and runs; returns results and log lines. */
async function run(dir: string, db: Database, options: { select?: string[]; types?: 'test'[] } = {}) {
  const project = loadProject(dir);
  const dag = new Dag(project.nodes);
  const selected = selectNodes(dag, { select: options.select, resourceTypes: options.types });
  const lines: string[] = [];
  const stream = new Writable({
    write: (chunk, _e, cb) => {
      lines.push(...String(chunk).trim().split('\n'));
      cb();
    },
  });
  const log = createLogger({ level: 'info', json: true, stream });
  const summary = await executeNodes(
    project,
    dag,
    db,
    selected,
    { threads: 1, failFast: false, fullRefresh: false },
    log,
  );
  const byName: Record<string, { status: string; message: string }> = {};
  for (const r of summary.results) byName[project.nodes.get(r.unique_id)!.name] = r;
  const messages = lines.map((l) => String(JSON.parse(l).msg));
  return { ...summary, byName, messages };
}

for (const kind of TARGET_KINDS) {
  const dbSuite = databaseSuite(`[${kind}] unit tests`, kind);
  const test = dbSuite.test;
  const project = dbSuite.project;

  test('a passing unit test runs in build before its model, which then builds; numerics compare by value', async () => {
    const dir = project({
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/order_totals.sql': ORDER_TOTALS,
      // 14.5 against the model's 14.50: equal numerics, whatever their scale.
      'models/marts/unit.yml': totalsYml('totals_by_status', '{status: open, total: 14.5, n: 2}'),
    });
    const r = await run(dir, dbSuite.db);
    assert.equal(
      Object.fromEntries(Object.entries(r.byName).map(([k, v]) => [k, v.status])),
      { stg_orders: 'success', totals_by_status: 'pass', order_totals: 'success' },
      r.messages.join('\n'),
    );
    const at = (text: string) => r.messages.findIndex((m) => m.includes(text));
    assert.ok(at('PASS unit test order_totals::totals_by_status') >= 0, r.messages.join('\n'));
    assert.ok(at('PASS unit test order_totals::totals_by_status') < at('OK view model marts.order_totals'));
    // The real table was not read: it holds one row.
    assert.equal(await rowsOf(dbSuite.db, 'select count(*)::int as n from marts.order_totals'), [{ n: 1 }]);
  });

  test('dpm test runs unit tests; a failure shows the differing rows and the yml file:line', async () => {
    const dir = project({
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/order_totals.sql': ORDER_TOTALS,
      'models/marts/unit.yml': totalsYml('totals_wrong', '{status: open, total: 14.5, n: 3}'),
    });
    await run(dir, dbSuite.db, { select: ['stg_orders'] });
    const r = await run(dir, dbSuite.db, { types: ['test'] });
    assert.equal(Object.keys(r.byName), ['totals_wrong']);
    const result = r.byName.totals_wrong;
    assert.is(result.status, 'fail');
    assert.is(
      result.message,
      [
        "models/marts/unit.yml:3: unit test 'totals_wrong' of model 'order_totals' failed: actual differs from " +
          'expected (+++ returned by the model but not expected, --- expected but missing):',
        '',
        '@@  | status | total | n',
        '--- | open   | 14.5  | 3',
        '+++ | open   | 14.50 | 2',
      ].join('\n'),
    );
    assert.ok(r.messages.some((m) => m.includes('FAIL unit test order_totals::totals_wrong')));
    assert.ok(r.messages.some((m) => m.includes('+++ | open   | 14.50 | 2')));
  });

  test('csv rows; a column the given rows leave out is NULL; casts follow the real column types', async () => {
    const dir = project({
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/order_flags.sql': `select id, amount is null as no_amount, note is null as no_note,
  status || '!' as shout, day + 1 as next_day from {{ ref('stg_orders') }}`,
      'models/marts/unit.yml': `unit_tests:
  - name: flags_from_csv
    model: order_flags
    given:
      - input: ref('stg_orders')
        format: csv
        rows: |
          id, status, day
          1,  open,   2024-02-28
          2,  ,       2024-12-31
    expect:
      format: csv
      rows: |
        id,no_amount,no_note,shout,next_day
        1,true,true,open!,2024-02-29
        2,true,true,,2025-01-01
`,
    });
    const r = await run(dir, dbSuite.db);
    assert.is(r.byName.flags_from_csv.status, 'pass', r.byName.flags_from_csv.message);
    assert.is(r.byName.order_flags.status, 'success');
  });

  test('overrides: is_incremental() with `input: this`, a source input, vars; false without the override', async () => {
    await dbSuite.db.knex.raw('create schema raw');
    await dbSuite.db.knex.raw(`create table raw.events (id int, kind text, at timestamptz)`);
    await dbSuite.db.knex.raw(`insert into raw.events values (1, 'real', now())`);
    const dir = project({
      'models/inc/events_inc.sql': `{{ config(materialized='incremental', unique_key='id') }}
select id, kind, '{{ var("tag", "none") }}' as tag from {{ source('raw', 'events') }}
{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}`,
      'models/inc/unit.yml': `sources:
  - name: raw
    tables: [{name: events}]
unit_tests:
  - name: only_new_rows
    model: events_inc
    overrides:
      macros: {is_incremental: true}
      vars: {tag: unit}
    given:
      - input: source('raw', 'events')
        rows: [{id: 1, kind: a}, {id: 2, kind: b}, {id: 3, kind: c}]
      - input: this
        rows: [{id: 2}]
    expect:
      rows: [{id: 3, kind: c, tag: unit}]
  - name: full_refresh_takes_all
    model: events_inc
    given:
      - input: source('raw', 'events')
        rows: [{id: 1}, {id: 2}]
    expect:
      rows: [{id: 2}, {id: 1}]
`,
    });
    // First build: events_inc does not exist yet, so `this` takes the columns of the model's own query.
    const first = await run(dir, dbSuite.db);
    assert.equal(Object.fromEntries(Object.entries(first.byName).map(([k, v]) => [k, `${v.status} ${v.message}`])), {
      only_new_rows: 'pass pass',
      full_refresh_takes_all: 'pass pass',
      events_inc: 'success incremental (full build)',
    });
    // Second build: the table exists (a real is_incremental() would be true), the unit tests still pass.
    const second = await run(dir, dbSuite.db);
    assert.is(second.byName.full_refresh_takes_all.status, 'pass', second.byName.full_refresh_takes_all.message);
    assert.is(second.byName.only_new_rows.status, 'pass', second.byName.only_new_rows.message);
  });

  test('format sql, a seed given without rows (its CSV), macro and env_var overrides', async () => {
    const dir = project({
      'seeds/codes.csv': 'code,label\nA,alpha\nB,beta\n',
      'macros/m.sql': '{% macro shout(x) %}upper({{ x }}){% endmacro %}',
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/eph.sql': `{{ config(materialized='ephemeral') }}\nselect id, status from {{ ref('stg_orders') }}`,
      'models/marts/labelled.sql': `select e.id, c.label, {{ shout('e.status') }} as s,
  '{{ env_var("DPM_UNIT_TEST_X", "unset") }}' as env, '{{ invocation_id }}' as inv
from {{ ref('eph') }} e join {{ ref('codes') }} c on c.code = case when e.id = 1 then 'A' else 'B' end`,
      'models/marts/unit.yml': `unit_tests:
  - name: labels
    model: labelled
    overrides:
      macros: {shout: "'X'", invocation_id: 42}
      env_vars: {DPM_UNIT_TEST_X: given}
    given:
      - input: ref('eph')
        format: sql
        rows: select 1 as id, 'open' as status union all select 2, 'closed'
      - input: ref('codes')
    expect:
      rows:
        - {id: 1, label: alpha, s: X, env: given, inv: 42}
        - {id: 2, label: beta, s: X, env: given, inv: 42}
`,
    });
    const r = await run(dir, dbSuite.db);
    assert.is(r.byName.labels.status, 'pass', r.byName.labels.message);
    assert.is(r.byName.labelled.status, 'success');
  });

  test('build skips a model whose unit test fails, and its children; independent branches build', async () => {
    const dir = project({
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/order_totals.sql': ORDER_TOTALS,
      'models/marts/order_report.sql': `select * from {{ ref('order_totals') }}`,
      'models/other/unrelated.sql': `{{ config(materialized='table') }}\nselect 1 as x`,
      'models/marts/unit.yml': totalsYml('totals_wrong', '{status: open, total: 99, n: 2}'),
    });
    const r = await run(dir, dbSuite.db);
    assert.equal(Object.fromEntries(Object.entries(r.byName).map(([k, v]) => [k, v.status])), {
      stg_orders: 'success',
      unrelated: 'success',
      totals_wrong: 'fail',
      order_totals: 'skipped',
      order_report: 'skipped',
    });
    assert.is(r.byName.order_totals.message, 'skipped: upstream totals_wrong failed');
    assert.ok(!r.ok);
    assert.equal(await rowsOf(dbSuite.db, "select to_regclass('marts.order_totals')::text as r"), [{ r: null }]);
  });

  test('an input whose relation does not exist yet: an error naming the unit test and what to run first', async () => {
    const dir = project({
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/order_totals.sql': ORDER_TOTALS,
      'models/marts/unit.yml': totalsYml('totals_by_status', '{status: open, total: 14.5, n: 2}'),
    });
    const r = await run(dir, dbSuite.db, { types: ['test'] });
    assert.is(r.byName.totals_by_status.status, 'error');
    assert.is(
      r.byName.totals_by_status.message,
      "models/marts/unit.yml:3: unit test 'totals_by_status': given ref('stg_orders') stands in for " +
        "stg.stg_orders, which does not exist in the database yet. Like dbt, dpm takes the given rows' column " +
        "types from the input's relation: build it first (dpm build -s +stg_orders), then run the test.",
    );
  });

  test('a given column its relation lacks, and an expected column the model lacks: errors with the names', async () => {
    const dir = project({
      'models/stg/stg_orders.sql': STG_ORDERS,
      'models/marts/order_totals.sql': ORDER_TOTALS,
      'models/marts/unit.yml': `unit_tests:
  - name: typo_in_given
    model: order_totals
    given:
      - input: ref('stg_orders')
        rows: [{id: 1, stauts: open}]
    expect:
      rows: []
  - name: typo_in_expect
    model: order_totals
${GIVEN_ORDERS}    expect:
      rows: [{status: open, totl: 14.5}]
`,
    });
    await run(dir, dbSuite.db, { select: ['stg_orders'] });
    const r = await run(dir, dbSuite.db, { types: ['test'] });
    assert.match(r.byName.typo_in_given.message, "models/marts/unit.yml:2: unit test 'typo_in_given': given");
    assert.match(r.byName.typo_in_given.message, "has a column 'stauts' that its relation does not have.");
    assert.match(r.byName.typo_in_given.message, "Did you mean 'status'?");
    assert.match(r.byName.typo_in_expect.message, "expect has a column 'totl' that the model does not return.");
    assert.match(r.byName.typo_in_expect.message, 'The model returns: status, total, n.');
  });

  test.run();
}

// Loading and selecting need no database.
const load = suite('unit tests: loading and selection');

load('selectable by name, test_type:unit and resource_type:unit_test; join when their model is selected', () => {
  const dir = writeProject({
    'models/stg/stg_orders.sql': STG_ORDERS,
    'models/marts/order_totals.sql': ORDER_TOTALS,
    'models/marts/unit.yml': totalsYml('totals_by_status', '{status: open, total: 14.5, n: 2}'),
  });
  try {
    const project = loadProject(dir);
    const node = project.nodes.get('unit_test.t.order_totals.totals_by_status');
    assert.ok(node);
    assert.is(node.resourceType, 'unit_test');
    // Its model's parents, not the model: it runs before the model is built.
    assert.equal(node.dependsOn, ['model.t.stg_orders']);
    const dag = new Dag(project.nodes);
    const pick = (select: string[], types?: 'model'[] | 'test'[]) =>
      [...selectNodes(dag, { select, resourceTypes: types })].sort();
    const id = 'unit_test.t.order_totals.totals_by_status';
    assert.equal(pick(['totals_by_status']), [id]);
    assert.equal(pick(['test_type:unit']), [id]);
    assert.equal(pick(['resource_type:unit_test']), [id]);
    assert.equal(pick(['order_totals'], ['test']), [id]);
    assert.equal(pick(['order_totals'], ['model']), ['model.t.order_totals']);
    assert.equal(pick(['stg_orders']), ['model.t.stg_orders']);
    assert.equal(pick(['test_type:data']), []);
  } finally {
    removeDir(dir);
  }
});

load('a unit test of a model that does not exist, or leaving an input out, fails the load with file:line', () => {
  const files = (yml: string) => ({
    'models/stg/stg_orders.sql': STG_ORDERS,
    'models/marts/order_totals.sql': ORDER_TOTALS,
    'models/marts/unit.yml': yml,
  });
  const cases: [string, string][] = [
    [
      totalsYml('x', '{status: open}').replace('model: order_totals', 'model: order_total'),
      "models/marts/unit.yml:3: unit test 'x': model 'order_total' is not a model of this project (or it is " +
        "disabled). Did you mean 'order_totals'?",
    ],
    [
      'unit_tests:\n  - name: x\n    model: order_totals\n    given: []\n    expect: {rows: []}\n',
      "models/marts/unit.yml:2: unit test 'x': model 'order_totals' reads ref('stg_orders'), which given: does " +
        'not stand in for. Add "- input: ref(\'stg_orders\')" with rows (rows: [] for an empty input), as dbt ' +
        'requires every input to be given.',
    ],
    [
      totalsYml('x', '{status: open}').replace("input: ref('stg_orders')", "input: ref('order_totals')"),
      "models/marts/unit.yml:6: unit test 'x': given input ref('order_totals') is not read by model " +
        "'order_totals' (it reads ref('stg_orders'))",
    ],
    [
      totalsYml('x', '{status: open}').replace(
        '    expect:\n      rows:',
        '    expect:\n      format: csv\n      rows:',
      ),
      "models/marts/unit.yml:11: unit test 'x', expect: format csv takes rows as a CSV text",
    ],
  ];
  for (const [yml, message] of cases) {
    const dir = writeProject(files(yml));
    try {
      const err = thrown(() => loadProject(dir));
      assert.ok(err, message);
      assert.match(err.message, message);
    } finally {
      removeDir(dir);
    }
  }
});

load.run();
