// Where dbt-core 1.9 on PostgreSQL and dpm must not differ silently: the default incremental strategy with a
// unique_key, folder config written without `+`, `target.*` and `execute` at run time. Each case failed before
// dpm followed dbt here. Runs on both targets.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { loadProject } from '../../runner/project/load.ts';
import { assertLoadErrors, databaseSuite, build, removeDir, rowsOf, writeProject } from './_helpers.ts';

// Rows of one day are restated on every run (a late correction): with a unique_key they must replace the old ones.
const SOURCE = `{{ config(materialized='table') }}
select g::date as day, k as id, k * {{ var('version', 1) }} as amount
from generate_series('2024-01-01'::date, '{{ var("end", "2024-01-03") }}'::date, interval '1 day') g
cross join generate_series(1, 3) k`;

for (const kind of TARGET_KINDS) {
  const dbSuite = databaseSuite(`[${kind}] dbt semantics without silent differences`, kind);
  const test = dbSuite.test;
  const project = dbSuite.project;

  test('incremental with a unique_key and no strategy replaces rows by key (dbt-postgres: delete+insert)', async () => {
    const dir = project({
      'models/src/events.sql': SOURCE,
      'models/inc/inc_keyed.sql': `{{ config(materialized='incremental', unique_key=['day', 'id']) }}
select * from {{ ref('events') }}
{% if is_incremental() %}where day >= (select max(day) from {{ this }}){% endif %}`,
    });
    await build(dir, dbSuite.db, { vars: { end: '2024-01-03' } });
    const second = await build(dir, dbSuite.db, { vars: { end: '2024-01-04', version: 2 } });
    assert.is(second.results.find((r) => r.unique_id === 'model.t.inc_keyed')?.message, 'incremental delete+insert');
    const rows = await rowsOf(
      dbSuite.db,
      'select count(*)::int as n, count(distinct (day, id))::int as keys, sum(amount)::int as total from inc.inc_keyed',
    );
    // Days 1-2 from the first run (amount 1+2+3 each), days 3-4 restated by the second (2+4+6 each): no duplicate.
    assert.equal(rows[0], { n: 12, keys: 12, total: 6 + 6 + 12 + 12 });
  });

  test('folder config without + and nested under the project name applies, as in dbt_project.yml', async () => {
    const dir = project({
      'dpm.yml': `name: shop
models:
  shop:
    marts:
      materialized: table
      tags: finance
      staging:
        materialized: view
`,
      'models/marts/orders.sql': 'select 1 as id',
      'models/marts/staging/stg_orders.sql': 'select 1 as id',
    });
    const summary = await build(dir, dbSuite.db);
    const kinds = await rowsOf(
      dbSuite.db,
      'select table_name as name, table_type as type from information_schema.tables ' +
        "where table_name in ('orders', 'stg_orders') order by 1",
    );
    assert.equal(kinds, [
      { name: 'orders', type: 'BASE TABLE' },
      { name: 'stg_orders', type: 'VIEW' },
    ]);
    assert.ok(summary.project.nodes.get('model.shop.orders')?.tags.includes('finance'), 'folder tags apply');
  });

  test('target.name, target.type and execute render at run time', async () => {
    const dir = project({
      'models/m/about_target.sql': `select '{{ target.name }}' as target_name, '{{ target.type }}' as target_type,
  '{{ target.schema }}' as target_schema,
  {% if execute %}true{% else %}false{% endif %} as executed`,
    });
    await build(dir, dbSuite.db);
    const rows = await rowsOf(dbSuite.db, 'select * from m.about_target');
    assert.equal(rows[0], {
      target_name: dbSuite.target.target.name,
      target_type: 'postgres',
      target_schema: 'public',
      executed: true,
    });
  });

  test("doc() in yml descriptions reads {% docs %} blocks; a test's name: is its name", async () => {
    const dir = project({
      'models/shop/docs.md': `{% docs order_id %}
The order's id, unique across **all** shops.
{% enddocs %}
{% docs orders %}One row per order.{% enddocs %}`,
      'models/shop/orders.sql': `{{ config(materialized='table') }}
select 1 as order_id`,
      'models/shop/orders.yml': `models:
  - name: orders
    description: "{{ doc('orders') }}"
    columns:
      - name: order_id
        description: "{{ doc('order_id') }}"
        data_tests:
          - unique:
              name: orders_have_unique_ids
`,
    });
    const summary = await build(dir, dbSuite.db);
    const tests = summary.results.filter((r) => r.unique_id.startsWith('test.'));
    assert.equal(
      tests.map((r) => [r.unique_id, r.status]),
      [['test.t.orders_have_unique_ids', 'pass']],
    );
    const comments = await rowsOf(
      dbSuite.db,
      "select obj_description('shop.orders'::regclass, 'pg_class') as model, " +
        "col_description('shop.orders'::regclass, 1) as col",
    );
    assert.equal(comments[0], { model: 'One row per order.', col: "The order's id, unique across **all** shops." });
  });

  test.run();
}

const load = suite('dbt features dpm does not support fail at load time, never silently');

load(
  'doc() of an unknown block, {% materialization %}, adapter.get_relation(): each names file:line and what to do',
  () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        {
          'models/m/a.sql': 'select 1 as id',
          'models/m/a.yml': 'models:\n  - name: a\n    description: "{{ doc(\'nope\') }}"\n',
        },
        /models\/m\/a\.yml:2: doc\('nope'\) names no doc block: add \{% docs nope %\}/,
      ],
      [
        {
          'models/m/a.sql': 'select 1 as id',
          'macros/m.sql': '{% materialization mine, default %}{% endmaterialization %}',
        },
        /macros\/m\.sql:1:\d+: dbt's \{% materialization %\} is not supported by dpm/,
      ],
      [
        { 'models/m/a.sql': "select 1 as id,\n  '{{ adapter.get_relation(this) }}' as two" },
        /a\.sql:2:\d+: dbt's adapter\.get_relation\(\) is not supported by dpm: query information_schema/,
      ],
      [
        { 'models/m/a.sql': 'select 1 as id', 'models/m/a.yml': 'models:\n  - name: a\nexposures:\n  - name: t\n' },
        /models\/m\/a\.yml:\d+: dbt's 'exposures:' is not supported by dpm/,
      ],
    ];
    assertLoadErrors(cases);
  },
);

load("a dbt project's own generate_schema_name macro names the schemas, as in dbt", () => {
  // A folder given: writeProject adds no dpm.yml, so dbt_project.yml is the project file.
  const dir = writeProject(
    {
      'dbt_project.yml': 'name: shop\nconfig-version: 2\nmodels:\n  shop:\n    reporting:\n      +schema: reporting\n',
      'macros/get_custom_schema.sql': `{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}`,
      'models/reporting/revenue.sql': 'select 1 as revenue',
      'models/orders.sql': 'select 1 as id',
    },
    mkdtempSync(join(tmpdir(), 'dpm-dbt-')),
  );
  try {
    const project = loadProject(dir);
    const schemaOf = (name: string) =>
      (project.nodes.get(`model.shop.${name}`) as { relation: { schema: string } }).relation.schema;
    assert.is(schemaOf('revenue'), 'reporting', 'the macro drops the target prefix');
    assert.is(schemaOf('orders'), 'public', 'no custom schema: the target schema');
  } finally {
    removeDir(dir);
  }
});

load.run();
