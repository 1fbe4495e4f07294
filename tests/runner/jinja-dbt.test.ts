// The Jinja of dbt projects that dpm once refused at load time: {% do %} with Python's list and dict methods,
// return() from macros, log(), run_query() and statement()/load_result() querying the database while a node
// compiles (replayed renders), and adapter.dispatch(). Runs on both targets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as assert from 'uvu/assert';
import { executeNodes } from '../../runner/execute/execute.ts';
import { Dag } from '../../runner/graph/dag.ts';
import { createLogger } from '../../runner/log.ts';
import { compileNode } from '../../runner/project/compile.ts';
import { loadProject } from '../../runner/project/load.ts';
import { freshTarget, TARGET_KINDS } from '../helpers/databases.ts';
import { databaseSuite, build, dpm, rowsOf, thrown } from './_helpers.ts';

const MACROS = `{% macro statuses() %}
  {% set found = [] %}
  {% for s in ['placed', 'shipped'] %}{% do found.append(s) %}{% endfor %}
  {% do found.extend(['returned']) %}
  {{ return(found) }}
{% endmacro %}

{% macro counts_by(values) %}
  {% set out = {} %}
  {% for v in values %}{% do out.update({v: loop.index}) %}{% endfor %}
  {% if values | length == 0 %}{{ return(none) }}{% endif %}
  {{ return(out) }}
  this text is never rendered
{% endmacro %}

{# Calls a macro of the same file that returns early: its caller's variables must survive. #}
{% macro described() %}
  {% set prefix = 'n=' %}
  {% set c = counts_by(statuses()) %}
  {% set parts = [c | length, c.get('shipped'), c.get('lost', 'none'), counts_by([]) is none] %}
  {{ return(prefix ~ parts | join(',')) }}
{% endmacro %}

{% macro default__money(col) %}round({{ col }}::numeric, 2){% endmacro %}
{% macro postgres__cents(col) %}({{ col }} * 100)::bigint{% endmacro %}
{% macro default__cents(col) %}never{% endmacro %}
`;

const QUERIED = `{% set r = run_query("select 'from the database' as v") %}
select {{ r.rows[0][0] if execute else '' }} as v`;

/** Log lines of a run, as JSON objects, at debug level. */
function capturingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const stream = new Writable({
    write: (chunk, _enc, cb) => {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', json: true, stream }), lines };
}

for (const kind of TARGET_KINDS) {
  const dbSuite = databaseSuite(`[${kind}] dbt Jinja: do, return, log, run_query, statement, adapter.dispatch`, kind);
  const test = dbSuite.test;
  const project = dbSuite.project;

  test('{% do %} with append/extend/update, return() of lists and dicts, adapter.dispatch()', async () => {
    const dir = project({
      'macros/m.sql': MACROS,
      'models/m/orders.sql': `{{ config(materialized='table') }}
{% set names = statuses() %}
select {% for s in names %}'{{ s }}' as s{{ loop.index }}, {% endfor %}
  '{{ described() | trim }}' as described,
  {{ adapter.dispatch('money', 'my_pkg')('10.456') }} as money,
  {{ adapter.dispatch('cents')('1.5') }} as cents,
  {{ names[1:] | length }} as tail`,
    });
    const summary = await build(dir, dbSuite.db);
    assert.is(summary.byName.orders, 'success', summary.results[0]?.message);
    const rows = await rowsOf(dbSuite.db, 'select * from m.orders');
    assert.equal(rows, [
      {
        s1: 'placed',
        s2: 'shipped',
        s3: 'returned',
        described: 'n=3,2,none,true',
        money: 10.46,
        cents: 150,
        tail: 2,
      },
    ]);
  });

  test('run_query() reads the database while the model compiles: rows, columns, names, length', async () => {
    await dbSuite.db.knex.raw(`create schema land;
      create table land.payments (method text, amount int);
      insert into land.payments values ('card', 10), ('cash', 5), ('card', 7), ('gift', 1);`);
    const dir = project({
      'models/m/sources.yml': 'sources:\n  - name: land\n    tables: [{ name: payments }]\n',
      // The pivot of dbt's documentation: one column per payment method found in the data.
      'models/m/pivot.sql': `{{ config(materialized='table') }}
{% set methods_query %}select distinct method from {{ source('land', 'payments') }} order by 1{% endset %}
{% set results = run_query(methods_query) %}
{% if execute %}
select
  {% for m in results.columns[0].values() %}
  sum(case when method = '{{ m }}' then amount else 0 end) as {{ m }}_amount,
  {% endfor %}
  {{ results.rows | length }} as n_methods,
  '{{ results.column_names | join(",") }}' as names,
  '{{ results.rows[1].method }}/{{ results.rows[1]["method"] }}/{{ results.rows[1][0] }}' as second,
  '{{ results.columns["method"].name }}' as column_name,
  {{ results | length }} as table_length,
  '{% for row in results %}{{ row[0] }};{% endfor %}' as iterated
from {{ source('land', 'payments') }}
{% else %}
select {{ 'parsed' if results is none }} from {{ source('land', 'payments') }}
{% endif %}`,
    });
    const summary = await build(dir, dbSuite.db);
    assert.is(summary.byName.pivot, 'success', summary.results[0]?.message);
    assert.equal(await rowsOf(dbSuite.db, 'select * from m.pivot'), [
      {
        card_amount: 17,
        cash_amount: 5,
        gift_amount: 1,
        n_methods: 3,
        names: 'method',
        second: 'cash/cash/cash',
        column_name: 'method',
        table_length: 3,
        iterated: 'card;cash;gift;',
      },
    ]);
    // Loading parses with execute false: run_query() is None there, as in dbt, and needs no database.
    const parsed = loadProject(dir);
    assert.ok(parsed.nodes.has('model.t.pivot'));
  });

  test('a query built from an earlier result runs only with the real result; log() prints once per node', async () => {
    await dbSuite.db.knex.raw(`create schema land;
      create table land.pointer (target text);
      insert into land.pointer values ('land.values_a');
      create table land.values_a (v int);
      insert into land.values_a values (4), (6);`);
    const dir = project({
      // With the first query's stand-in (no rows) the second would be "select sum(v) from " and fail if it ran.
      'models/m/chained.sql': `{% set where = run_query('select target from land.pointer') %}
{% if execute %}{% set total = run_query('select sum(v) as total from ' ~ where.rows[0].target) %}{% endif %}
{% do log('chained total ' ~ (total.rows[0].total if execute else 'at parse'), info=True) %}
{% do log('debug detail of chained') %}
select {{ total.rows[0].total if execute else 0 }} as total`,
      'models/m/stmt.sql': `{% call statement('counts', fetch_result=True) %}
  select count(*) as n, max(v) as top from land.values_a
{% endcall %}
{% set result = load_result('counts') %}
select {{ result['data'][0][0] if execute else 0 }} as n, {{ result.table.rows[0].top if execute else 0 }} as top,
  '{{ result.response.code if execute else "" }}' as code`,
    });
    const { log, lines } = capturingLogger();
    const loaded = loadProject(dir);
    const dag = new Dag(loaded.nodes);
    const summary = await executeNodes(
      loaded,
      dag,
      dbSuite.db,
      new Set(loaded.nodes.keys()),
      { threads: 1, failFast: false, fullRefresh: false },
      log,
    );
    assert.ok(summary.ok, JSON.stringify(summary.results));
    assert.equal(await rowsOf(dbSuite.db, 'select total::int from m.chained'), [{ total: 10 }]);
    assert.equal(await rowsOf(dbSuite.db, 'select n::int, top, code from m.stmt'), [{ n: 2, top: 6, code: 'SELECT' }]);
    const logged = (text: string) => lines.filter((l) => l.msg === text);
    assert.equal(
      logged('chained total 10').map((l) => l.level),
      ['info'],
      'info=True: printed once at info level, not once per render',
    );
    assert.equal(
      logged('debug detail of chained').map((l) => l.level),
      ['debug'],
    );
    assert.equal(logged('chained total at parse'), [], 'nothing is printed while the project is parsed');
  });

  test('dpm compile runs the queries of a template; without a database the template says what it needs', async () => {
    const dir = project({
      'models/m/plain.sql': 'select 1 as id',
      'models/m/queried.sql': QUERIED,
    });
    const cli = await freshTarget(kind, dir);
    try {
      const r = await dpm(['compile', '--project-dir', dir], cli.env);
      assert.is(r.code, 0, `${r.out}\n${r.err}`);
      const compiled = readFileSync(join(dir, 'target', 'compiled', 'models', 'm', 'queried.sql'), 'utf8');
      assert.match(compiled, /select from the database as v/);
      // Rendered without a database (the docs site's catalog does so), the template says what it needs.
      const err = thrown(() => {
        const p = loadProject(dir);
        compileNode(p.nodes.get('model.t.queried')!, {
          project: p,
          invocationId: 'x',
          runStartedAt: '',
          targetName: 'x',
          fullRefresh: false,
          existing: new Map(),
        });
      });
      assert.match(String(err), /models\/m\/queried\.sql:1: run_query\(\) needs a database/);
    } finally {
      await cli.dispose();
    }
  });

  test('a query text that changes on every render stops after 10 renders, naming the file', async () => {
    const dir = project({
      // The var's dict is the same object on every render, so the SQL differs each time: it never settles.
      'models/m/restless.sql': `{% set state = var('state') %}{% do state.update({'n': state.n + 1}) %}
{% set r = run_query('select ' ~ state.n) %}
select 1 as id`,
    });
    const summary = await build(dir, dbSuite.db, { vars: { state: { n: 0 } } });
    const result = summary.results.find((r) => r.unique_id === 'model.t.restless')!;
    assert.is(result.status, 'error');
    assert.match(
      result.message,
      /models\/m\/restless\.sql: run_query\(\) still asked for new queries after 10 renders/,
    );
  });

  test('a failing query names the file and the SQL; run_query() in a hook says where queries may run', async () => {
    const dir = project({
      'models/m/broken.sql': `{% set r = run_query('select * from no_such_table') %}select 1 as id`,
      'models/m/hooked.sql': `{{ config(post_hook="{% do run_query('select 1') %}") }}select 1 as id`,
    });
    const summary = await build(dir, dbSuite.db);
    const message = (name: string) => summary.results.find((r) => r.unique_id === `model.t.${name}`)!.message;
    assert.is(summary.byName.broken, 'error');
    assert.match(message('broken'), /models\/m\/broken\.sql: run_query\(\) failed: relation "no_such_table"/);
    assert.match(message('broken'), /select \* from no_such_table/);
    assert.is(summary.byName.hooked, 'error');
    assert.match(message('hooked'), /cannot query the database in a pre_hook or post_hook/);
  });

  test.run();
}
