// Project loading errors (each names file:line and the fix) and templating, without a database.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CycleError, ProjectError, TemplateError, UnknownRefError } from '../../runner/errors.ts';
import { compileNode, type CompileContext } from '../../runner/project/compile.ts';
import { loadProject, type Project } from '../../runner/project/load.ts';
import type { ModelNode } from '../../runner/project/nodes.ts';
import { removeDir, thrown, writeProject } from './_helpers.ts';

function loadError(files: Record<string, string>, vars?: Record<string, unknown>): Error {
  const dir = writeProject(files);
  try {
    const err = thrown(() => loadProject(dir, { vars }));
    assert.ok(err, 'expected loading to fail');
    return err!;
  } finally {
    removeDir(dir);
  }
}

const errors = suite('loading errors');

errors('unknown ref names file:line and the closest names', () => {
  const e = loadError({
    'models/stg_traders.sql': 'select 1 as id',
    'models/stg_trades.sql': 'select 2 as id',
    'models/m.sql': `-- line 1\nwith t as (\n  select * from {{ ref('stg_tradrs') }}\n)\nselect * from t`,
  });
  assert.instance(e, UnknownRefError);
  assert.match(e.message, /^models\/m\.sql:3: ref\('stg_tradrs'\) names no model or seed\./);
  assert.match(e.message, "Did you mean 'stg_traders' or 'stg_trades'?");
});

errors('unknown source names file:line', () => {
  const e = loadError({
    'models/src.yml': 'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: accounts\n',
    'models/m.sql': `select *\nfrom {{ source('raw', 'acounts') }}`,
  });
  assert.instance(e, UnknownRefError);
  assert.match(e.message, /^models\/m\.sql:2: source\('raw', 'acounts'\)/);
  assert.match(e.message, "Did you mean 'raw.accounts'?");
});

errors('a cycle prints the cycle with each file', () => {
  const e = loadError({
    'models/a.sql': `select * from {{ ref('c') }}`,
    'models/b.sql': `select * from {{ ref('a') }}`,
    'models/c.sql': `select * from {{ ref('b') }}`,
  });
  assert.instance(e, CycleError);
  assert.match(
    e.message,
    'dependency cycle: a (models/a.sql) -> c (models/c.sql) -> b (models/b.sql) -> a (models/a.sql)',
  );
});

errors('a bad config key in config() names the line of the key and the closest key', () => {
  const e = loadError({ 'models/m.sql': `{{ config(\n    schema='x',\n    materialised='table'\n) }}\nselect 1` });
  assert.instance(e, ProjectError);
  assert.match(
    e.message,
    /^models\/m\.sql:3: model 'm': unknown config key 'materialised'\. Did you mean 'materialized'\?/,
  );
});

errors('a bad config value says what was expected', () => {
  const e = loadError({ 'models/m.sql': `{{ config(materialized='tabel') }}\nselect 1` });
  assert.match(e.message, /^models\/m\.sql:1: model 'm': config 'materialized'/);
  assert.match(e.message, 'table');
});

errors('a bad config key in yml properties names the yml file and line', () => {
  const e = loadError({
    'models/m.sql': 'select 1 as id',
    'models/props.yml': `version: 2\nmodels:\n  - name: m\n    config:\n      uniq_key: id\n`,
  });
  assert.match(
    e.message,
    /^models\/props\.yml:3: model 'm': unknown config key 'uniq_key'\. Did you mean 'unique_key'\?/,
  );
});

errors('a bad folder config key in dpm.yml names dpm.yml', () => {
  const e = loadError({ 'dpm.yml': 'name: t\nmodels:\n  +materialzed: table\n', 'models/m.sql': 'select 1' });
  assert.match(e.message, /^dpm\.yml:1: model 'm': unknown config key 'materialzed'\. Did you mean 'materialized'\?/);
});

errors('an unknown key in dpm.yml names its line', () => {
  const e = loadError({ 'dpm.yml': 'name: t\nmodel-path: [models]\n' });
  assert.instance(e, ProjectError);
  assert.match(e.message, /^dpm\.yml:\d: model-path/);
});

errors('an unknown key in a properties file names file:line', () => {
  const e = loadError({
    'models/m.sql': 'select 1 as id',
    'models/p.yml': 'version: 2\nmodels:\n  - name: m\n    colums: []\n',
  });
  assert.match(e.message, /^models\/p\.yml:3: models\.0: unknown key 'colums'/);
});

errors('a template syntax error names file:line', () => {
  const e = loadError({ 'models/m.sql': `select 1\n{% if true %}\nfrom x\n` });
  assert.instance(e, TemplateError);
  assert.match(e.message, /^models\/m\.sql:\d/);
  assert.match(e.message, /endif|end of file|unexpected/i);
  const e2 = loadError({ 'models/m.sql': `select\n  1,\n  {{ 2 + }}\n` });
  assert.instance(e2, TemplateError);
  assert.match(e2.message, /^models\/m\.sql:3/);
});

errors('a syntax error in a macro file names the macro file', () => {
  const e = loadError({ 'macros/m.sql': `{% macro f(x) %}\n{{ x \n{% endmacro %}`, 'models/m.sql': 'select 1' });
  assert.instance(e, TemplateError);
  assert.match(e.message, /^macros\/m\.sql:\d/);
});

errors('calling an unknown macro names the line and what to do', () => {
  const e = loadError({ 'models/m.sql': `select\n  1 as a,\n  {{ safe_divde('a', 'b') }} as r` });
  assert.match(e.message, /^models\/m\.sql:3: 'safe_divde' is not a macro or function/);
});

errors('a var without default and without a value names the line and --vars', () => {
  const e = loadError({ 'models/m.sql': `select\n  {{ var('lookback_days') }} as n` });
  assert.match(e.message, /^models\/m\.sql:2: var\('lookback_days'\) is not set and has no default/);
  assert.match(e.message, '--vars');
});

errors('properties for a missing model suggest the closest model', () => {
  const e = loadError({
    'models/orders.sql': 'select 1 as id',
    'models/p.yml': 'version: 2\nmodels:\n  - name: order\n',
  });
  assert.match(
    e.message,
    new RegExp(
      /^models\/p\.yml:3: properties for model 'order', /.source +
        /but there is no models\/\*\*\/order\.sql\. Did you mean 'orders'\?/.source,
    ),
  );
});

errors('an unknown generic test names the yml line and the known tests', () => {
  const e = loadError({
    'models/m.sql': 'select 1 as id',
    'models/p.yml': 'version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        data_tests: [uniqe]\n',
  });
  assert.match(e.message, /^models\/p\.yml:6: unknown test 'uniqe'\. Did you mean 'unique'\?/);
});

errors('a relationships test to an unknown model names the yml line', () => {
  const e = loadError({
    'models/m.sql': 'select 1 as id',
    'models/p.yml':
      'version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n' +
      "          - relationships:\n              to: ref('mm')\n              field: id\n",
  });
  assert.instance(e, UnknownRefError);
  assert.match(e.message, /^models\/p\.yml:7: ref\('mm'\)/);
  assert.match(e.message, "Did you mean 'm'?");
});

errors('two nodes with one name are refused', () => {
  const e = loadError({ 'models/a/x.sql': 'select 1', 'models/b/x.sql': 'select 2' });
  assert.match(e.message, /models\/b\/x\.sql: model 'x' has the same name as model models\/a\/x\.sql/);
});

errors('a unique key or index without the distributed_by column is refused on every target', () => {
  const e = loadError({
    'models/m.sql': `{{ config(materialized='table', distributed_by='account_id', unique_key='date') }}\nselect 1`,
  });
  assert.match(
    e.message,
    /^models\/m\.sql:1: model 'm': its unique_key \(date\) does not hold distributed_by 'account_id'/,
  );
  assert.match(e.message, "Add 'account_id' to it.");
  const e2 = loadError({
    'models/m.sql': `{{ config(materialized='table', distributed_by='account_id',
      indexes=[{'columns': ['account_id']}, {'columns': ['date'], 'unique': True}]) }}\nselect 1`,
  });
  assert.match(e2.message, /its unique index \(date\) does not hold distributed_by 'account_id'/);
});

errors('microbatch without event_time and merge without unique_key are refused', () => {
  const e = loadError({
    'models/m.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch') }}\nselect 1`,
  });
  assert.match(e.message, /^models\/m\.sql:1: model 'm': incremental_strategy 'microbatch' needs event_time/);
  const e2 = loadError({
    'models/m.sql': `\n{{ config(materialized='incremental', incremental_strategy='merge') }}\nselect 1`,
  });
  assert.match(e2.message, /^models\/m\.sql:2: model 'm': incremental_strategy 'merge' needs unique_key/);
});

errors('a bad seed config key names the properties file', () => {
  const e = loadError({
    'seeds/s.csv': 'a\n1\n',
    'seeds/p.yml': 'version: 2\nseeds:\n  - name: s\n    config:\n      column_type: {a: int}\n',
  });
  assert.match(
    e.message,
    /^seeds\/p\.yml:3: seed 's': unknown config key 'column_type'\. Did you mean 'column_types'\?/,
  );
});

errors.run();

// ---------------------------------------------------------------------------------------------

function ctxFor(
  project: Project,
  existing: CompileContext['existing'] = new Map(),
  fullRefresh = false,
): CompileContext {
  return {
    project,
    invocationId: 'inv-1',
    runStartedAt: '2024-01-01T00:00:00Z',
    targetName: 'dev',
    fullRefresh,
    existing,
  };
}
const compiled = (project: Project, name: string, ctx = ctxFor(project)) =>
  compileNode([...project.nodes.values()].find((n) => n.name === name)!, ctx);
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

const templating = suite('templating');

const TPL = writeProject({
  'dpm.yml': 'name: tpl\nvars:\n  days: 3\n  region: eu\n',
  'macros/m.sql':
    `{% macro times(x, n=2) -%}\n({{ x }} * {{ n }})\n{%- endmacro %}\n` +
    `{% macro twice_days() -%}{{ times(var('days')) }}{%- endmacro %}`,
  'models/base.sql': `select 1 as id`,
  'models/eph_inner.sql': `{{ config(materialized='ephemeral') }}\nselect id from {{ ref('base') }}`,
  'models/eph_outer.sql': `{{ config(materialized='ephemeral') }}\nselect id + 1 as id from {{ ref('eph_inner') }}`,
  'models/uses_eph.sql': `select * from {{ ref('eph_outer') }} join {{ ref('eph_inner') }} using (id)`,
  'models/uses_eph_with.sql': `-- leading comment\nwith x as (select * from {{ ref('eph_outer') }})\nselect * from x`,
  'models/macros_vars.sql':
    `select {{ times('id') }} as a, {{ times('id', n=5) }} as b, {{ twice_days() }} as c, ` +
    `'{{ var("region") }}' as r, {{ var('missing', 7) }} as d, '{{ var("nope", default="dflt") }}' as e ` +
    `from {{ ref('base') }}`,
  'models/inc.sql':
    `{{ config(materialized='incremental', schema='s') }}\nselect * from {{ ref('base') }}\n` +
    `{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n` +
    `-- {{ this.schema }}/{{ this.name }} {{ invocation_id }} {{ target_name }}`,
});

templating('macros with defaults and keyword args, calling other macros and var()', () => {
  const p = loadProject(TPL);
  assert.is(
    squash(compiled(p, 'macros_vars')),
    `select (id * 2) as a, (id * 5) as b, (3 * 2) as c, 'eu' as r, 7 as d, 'dflt' as e from public.base`,
  );
});

templating('--vars override dpm.yml vars', () => {
  const p = loadProject(TPL, { vars: { days: 10, missing: 1 } });
  assert.match(squash(compiled(p, 'macros_vars')), `(10 * 2) as c, 'eu' as r, 1 as d`);
});

templating(
  'is_incremental() and this: false on first build, true when the table exists, false on --full-refresh',
  () => {
    const p = loadProject(TPL);
    const first = compiled(p, 'inc');
    assert.not.match(first, 'where id >');
    assert.match(first, '-- s/inc inv-1 dev');
    const exists = new Map([['s.inc', 'table' as const]]);
    assert.match(compiled(p, 'inc', ctxFor(p, exists)), 'where id > (select max(id) from s.inc)');
    assert.not.match(compiled(p, 'inc', ctxFor(p, exists, true)), 'where id >');
  },
);

templating('ephemeral models become CTEs, inner ones first, each once', () => {
  const p = loadProject(TPL);
  const sql = compiled(p, 'uses_eph');
  assert.is(
    squash(sql),
    'with __dpm__cte__eph_inner as ( select id from public.base ), ' +
      '__dpm__cte__eph_outer as ( select id + 1 as id from __dpm__cte__eph_inner ) ' +
      'select * from __dpm__cte__eph_outer join __dpm__cte__eph_inner using (id)',
  );
});

templating('ephemeral CTEs merge into a model that starts with its own with (after comments)', () => {
  const p = loadProject(TPL);
  const sql = compiled(p, 'uses_eph_with');
  assert.match(sql, /^-- leading comment\nwith __dpm__cte__eph_inner as \(/);
  assert.match(squash(sql), '), x as (select * from __dpm__cte__eph_outer) select * from x');
  assert.is(sql.match(/\bwith\b/g)!.length, 1);
});

templating('an ephemeral model is a graph dependency but has no relation name', () => {
  const p = loadProject(TPL);
  const m = [...p.nodes.values()].find((n) => n.name === 'uses_eph') as ModelNode;
  assert.equal(m.dependsOn.sort(), ['model.tpl.eph_inner', 'model.tpl.eph_outer']);
});

templating('folder names become tags and default schemas', () => {
  const d = writeProject({ 'models/staging/inner/m.sql': `{{ config(tags=['x']) }}select 1` });
  try {
    const m = [...loadProject(d).nodes.values()][0] as ModelNode;
    assert.equal(m.tags, ['staging', 'inner', 'x']);
    assert.is(m.config.schema, 'staging');
    assert.is(String(m.relation), 'staging.m');
  } finally {
    removeDir(d);
  }
});

templating('the example project loads: nodes, tests and edges', () => {
  const p = loadProject(new URL('../fixtures/project', import.meta.url).pathname);
  const byType = (t: string) =>
    [...p.nodes.values()]
      .filter((n) => n.resourceType === t)
      .map((n) => n.name)
      .sort();
  assert.equal(byType('seed'), ['daily_pnl', 'traders']);
  assert.equal(byType('model'), [
    '_winning_days',
    'stg_daily_pnl',
    'stg_traders',
    'top_traders',
    'trader_rolling_pnl',
    'trader_totals',
  ]);
  assert.is(byType('test').length, 12);
  assert.equal(p.nodes.get('model.example.trader_totals')!.dependsOn.sort(), [
    'model.example._winning_days',
    'model.example.stg_daily_pnl',
  ]);
});

templating.run();

const partial = suite('partial parsing of property files');

partial(
  'a second load reads target/partial_parse.json and gives the same project; an edit or a broken cache is parsed again',
  () => {
    const yml = (desc: string) =>
      `version: 2\nmodels:\n  - name: m\n    description: ${desc}\n` +
      '    columns:\n      - name: id\n        data_tests: [unique, not_null]\n';
    const dir = writeProject({ 'models/m.sql': 'select 1 as id', 'models/m.yml': yml('First.') });
    const cacheFile = join(dir, 'target', 'partial_parse.json');
    const summary = (p: Project) =>
      [...p.nodes.values()]
        .map((n) => `${n.uniqueId}|${'description' in n ? n.description : ''}|${'line' in n ? n.line : ''}`)
        .sort();
    try {
      const first = summary(loadProject(dir));
      assert.ok(existsSync(cacheFile), 'the parsed properties are cached');
      assert.equal(summary(loadProject(dir)), first, 'the cached properties give the same nodes, lines included');
      // A cache whose entry no longer matches the file's text is not used.
      writeFileSync(join(dir, 'models/m.yml'), yml('Second.'));
      assert.is((loadProject(dir).nodes.get('model.t.m') as ModelNode).description, 'Second.');
      writeFileSync(cacheFile, '{ not json');
      assert.is(
        (loadProject(dir).nodes.get('model.t.m') as ModelNode).description,
        'Second.',
        'a broken cache is ignored',
      );
      // Errors still name file:line when the file is parsed again.
      writeFileSync(join(dir, 'models/m.yml'), 'version: 2\nmodels:\n  - name: m\n    colums: []\n');
      assert.match(thrown(() => loadProject(dir))!.message, /^models\/m\.yml:3: models.0: unknown key 'colums'/);
    } finally {
      removeDir(dir);
    }
  },
);

partial(
  'a seed keeps its checksum from the cache while its file is unchanged, and gets a new one when it is edited',
  () => {
    const dir = writeProject({ 'models/m.sql': 'select 1 as id', 'seeds/plans.csv': 'plan_id,name\n1,a\n' });
    const checksum = () => loadProject(dir).nodes.get('seed.t.plans')!.checksum;
    try {
      const first = checksum();
      const cache = JSON.parse(readFileSync(join(dir, 'target', 'partial_parse.json'), 'utf8'));
      assert.ok(cache.hashes['seeds/plans.csv'], 'the file hash is cached');
      assert.is(checksum(), first);
      writeFileSync(join(dir, 'seeds/plans.csv'), 'plan_id,name\n1,b\n2,c\n');
      assert.is.not(checksum(), first, 'an edited seed is modified for state:modified');
    } finally {
      removeDir(dir);
    }
  },
);

partial.run();
