// A project's own generic tests, as dbt's: `{% test name(model, column_name, ...) %}` blocks in macros/ or
// tests/generic/, used from yml like the built-in ones, compiled with `model` the tested relation; a test of a
// built-in's name replaces the built-in. Runs on both targets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { assertLoadErrors, databaseSuite, build } from './_helpers.ts';

const ORDERS = `{{ config(materialized='table') }}
select * from (values (1, 'placed', 5, 1), (2, 'shipped', -3, 1), (3, 'shipped', 12, 9), (3, 'lost', -1, 2))
  as t(id, status, amount, customer_id)`;

const CUSTOMERS = `{{ config(materialized='table') }}
select * from (values (1), (2)) as t(id)`;

const GENERIC = `{% test at_least(model, column_name, min_value=0) %}
select {{ column_name }} from {{ model }} where {{ column_name }} < {{ min_value }}
{% endtest %}

{% test references(model, column_name, to, field='id') %}
select c.{{ column_name }} from {{ model }} c
left join {{ to }} p on p.{{ field }} = c.{{ column_name }}
where p.{{ field }} is null
{% endtest %}
`;

for (const kind of TARGET_KINDS) {
  const dbSuite = databaseSuite(`[${kind}] generic tests of the project ({% test %})`, kind);
  const test = dbSuite.test;
  const project = dbSuite.project;

  test('used from yml with arguments, a ref() argument, a where, config(); failures counted as built-ins', async () => {
    const dir = project({
      'macros/tests.sql': GENERIC,
      'tests/generic/no_status.sql': `{% test no_status(model, column_name, status) %}
{{ config(severity='warn') }}
select * from {{ model }} where {{ column_name }} = '{{ status }}'
{% endtest %}`,
      'models/shop/orders.sql': ORDERS,
      'models/shop/customers.sql': CUSTOMERS,
      'models/shop/orders.yml': `models:
  - name: orders
    columns:
      - name: amount
        data_tests:
          - at_least
          - at_least: { min_value: 0, name: positive_amounts_except_lost, where: "status <> 'lost'" }
          - at_least: { min_value: -10, config: { severity: warn } }
      - name: customer_id
        data_tests:
          - references: { to: "ref('customers')" }
      - name: status
        tests:
          - no_status: { status: lost }
          - no_status: { status: shipped, severity: error }
`,
    });
    const summary = await build(dir, dbSuite.db);
    const byName = Object.fromEntries(
      summary.results.map((r) => [summary.project.nodes.get(r.unique_id)!.name, { s: r.status, f: r.failures }]),
    );
    assert.equal(byName.at_least_orders_amount, { s: 'fail', f: 2 });
    assert.equal(byName.positive_amounts_except_lost, { s: 'fail', f: 1 }, 'where filters the tested relation');
    assert.equal(byName.at_least_orders_amount_2, { s: 'pass', f: 0 });
    assert.equal(byName.references_orders_customer_id, { s: 'fail', f: 1 }, 'customer 9 is not in customers');
    assert.equal(byName.no_status_orders_status, { s: 'warn', f: 1 }, "the block's config(severity='warn')");
    assert.equal(byName.no_status_orders_status_2, { s: 'fail', f: 2 }, 'the yml entry overrides the block');
    const refs = summary.project.nodes.get('test.t.references_orders_customer_id')!;
    assert.equal(refs.dependsOn.sort(), ['model.t.customers', 'model.t.orders']);
    // tests/generic/ holds generic tests, not singular ones.
    assert.not.ok([...summary.project.nodes.keys()].some((id) => id.endsWith('.no_status')));
  });

  test("the project's own test of a built-in's name replaces the built-in, as in dbt", async () => {
    const dir = project({
      // A uniqueness that ignores the rows of status 'lost', where the built-in counts every duplicate.
      'macros/unique.sql': `{% test unique(model, column_name) %}
select {{ column_name }} from {{ model }} where status <> 'lost' group by 1 having count(*) > 1
{% endtest %}`,
      'models/shop/orders.sql': ORDERS,
      'models/shop/orders.yml': 'models:\n  - name: orders\n    columns:\n      - name: id\n        tests: [unique]\n',
    });
    const summary = await build(dir, dbSuite.db);
    assert.is(summary.byName.unique_orders_id, 'pass', summary.results.map((r) => r.message).join('\n'));
  });

  test.run();
}

const load = suite('generic tests of the project: load-time errors name the yml line and the test block');

load('a missing argument, an unknown argument, a misplaced block, an unknown test', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { 'models/m/a.yml': 'models:\n  - name: a\n    columns:\n      - name: id\n        tests: [references]\n' },
      /a\.yml:5: test 'references' needs the argument 'to'\. \(\{% test references %\} in macros\/t\.sql:5\)/,
    ],
    [
      {
        'models/m/a.yml':
          'models:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - at_least: {min: 1}\n',
      },
      /models\/m\/a\.yml:6: test 'at_least' takes no argument 'min'\./,
    ],
    [
      { 'models/m/a.yml': 'models:\n  - name: a\n    tests: [at_least]\n' },
      /models\/m\/a\.yml:3: test 'at_least' needs the argument 'column_name' \(list the test under a column/,
    ],
    [
      { 'models/m/b.sql': '{% test inline(model) %}select 1{% endtest %}' },
      /models\/m\/b\.sql:1:\d+: a \{% test %\} block defines a generic test: put it in a \.sql file under macros\//,
    ],
    [
      { 'models/m/a.yml': 'models:\n  - name: a\n    columns:\n      - name: id\n        tests: [at_lest]\n' },
      /unknown test 'at_lest'\. Did you mean 'at_least'\?/,
    ],
  ];
  assertLoadErrors(cases, { 'macros/t.sql': GENERIC, 'models/m/a.sql': 'select 1 as id' });
});

load.run();
