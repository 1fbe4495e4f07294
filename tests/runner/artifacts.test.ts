// target/manifest.json and target/run_results.json follow dbt's published schemas (manifest v12, run-results v6)
// so that tools reading dbt artifacts read dpm's. The zod schemas below transcribe the parts of those JSON schemas
// that matter: every required key with its type, and no key dbt's objects forbid (their additionalProperties:
// false; only config, meta, columns and metadata.env take keys of their own). Both targets, through the CLI.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { databaseOf } from '../../runner/artifacts/artifacts.ts';
import { connect } from '../../runner/db/connect.ts';
import { catalogFromManifestFile } from '../../runner/docs/docs.ts';
import { freshTarget, TARGET_KINDS, type TestTarget } from '../helpers/databases.ts';
import { dpm, removeDir, writeProject } from './_helpers.ts';

const MANIFEST_V12 = 'https://schemas.getdbt.com/dbt/manifest/v12.json';
const RUN_RESULTS_V6 = 'https://schemas.getdbt.com/dbt/run-results/v6.json';

const str = z.string();
const nullableStr = z.string().nullable();
const record = z.record(z.string(), z.unknown());
const versionLike = z.union([z.string(), z.number()]).nullable().optional();
const strList = z.array(z.string());

const checksum = z.strictObject({ name: str, checksum: str });
const docs = z.strictObject({ show: z.boolean().optional(), node_color: nullableStr.optional() });
const hook = z.strictObject({ sql: str, transaction: z.boolean().optional(), index: z.number().int().nullable() });
const column = z.looseObject({
  name: str,
  description: str.optional(),
  meta: record.optional(),
  data_type: nullableStr.optional(),
  constraints: z
    .array(z.looseObject({ type: z.enum(['check', 'not_null', 'unique', 'primary_key', 'foreign_key', 'custom']) }))
    .optional(),
  quote: z.boolean().nullable().optional(),
  tags: strList.optional(),
});

/** NodeConfig and its kin: additionalProperties true, but dbt's own keys keep their types. */
const nodeConfig = z.looseObject({
  enabled: z.boolean().optional(),
  alias: nullableStr.optional(),
  schema: nullableStr.optional(),
  database: nullableStr.optional(),
  tags: z.union([strList, str]).optional(),
  meta: record.optional(),
  group: nullableStr.optional(),
  materialized: str.optional(),
  incremental_strategy: nullableStr.optional(),
  persist_docs: record.optional(),
  'post-hook': z.array(hook).optional(),
  'pre-hook': z.array(hook).optional(),
  quoting: record.optional(),
  column_types: record.optional(),
  full_refresh: z.boolean().nullable().optional(),
  unique_key: z.union([str, strList]).nullable().optional(),
  on_schema_change: nullableStr.optional(),
  on_configuration_change: z.enum(['apply', 'continue', 'fail']).optional(),
  grants: record.optional(),
  packages: strList.optional(),
  docs: docs.optional(),
  contract: z.strictObject({ enforced: z.boolean().optional(), alias_types: z.boolean().optional() }).optional(),
});
const seedConfig = nodeConfig.extend({ delimiter: str.optional(), quote_columns: z.boolean().nullable().optional() });
const testConfig = nodeConfig.extend({
  severity: z
    .string()
    .regex(/^([Ww][Aa][Rr][Nn]|[Ee][Rr][Rr][Oo][Rr])$/)
    .optional(),
  store_failures: z.boolean().nullable().optional(),
  where: nullableStr.optional(),
  limit: z.number().int().nullable().optional(),
  fail_calc: str.optional(),
  warn_if: str.optional(),
  error_if: str.optional(),
});

// The keys every node type requires (dbt's "required" list), then the ones all may have.
const nodeRequired = {
  database: nullableStr,
  schema: str,
  name: str,
  package_name: str,
  path: str,
  original_file_path: str,
  unique_id: str,
  fqn: strList,
  alias: str,
  checksum,
};
const nodeOptional = {
  tags: strList.optional(),
  description: str.optional(),
  columns: z.record(z.string(), column).optional(),
  meta: record.optional(),
  group: nullableStr.optional(),
  docs: docs.optional(),
  patch_path: nullableStr.optional(),
  build_path: nullableStr.optional(),
  unrendered_config: record.optional(),
  created_at: z.number().optional(),
  config_call_dict: record.optional(),
  unrendered_config_call_dict: record.optional(),
  relation_name: nullableStr.optional(),
  raw_code: str.optional(),
  doc_blocks: strList.optional(),
};
const compiledNode = {
  language: str.optional(),
  refs: z.array(z.strictObject({ name: str, package: nullableStr.optional(), version: versionLike })).optional(),
  sources: z.array(strList).optional(),
  metrics: z.array(strList).optional(),
  depends_on: z.strictObject({ macros: strList.optional(), nodes: strList.optional() }).optional(),
  compiled_path: nullableStr.optional(),
  compiled: z.boolean().optional(),
  compiled_code: nullableStr.optional(),
  extra_ctes_injected: z.boolean().optional(),
  extra_ctes: z.array(z.strictObject({ id: str, sql: str })).optional(),
  _pre_injected_sql: nullableStr.optional(),
  contract: z
    .strictObject({ enforced: z.boolean().optional(), alias_types: z.boolean().optional(), checksum: nullableStr })
    .optional(),
};
const seedNode = z.strictObject({
  ...nodeRequired,
  ...nodeOptional,
  resource_type: z.literal('seed'),
  config: seedConfig.optional(),
  root_path: nullableStr.optional(),
  depends_on: z.strictObject({ macros: strList.optional() }).optional(),
});
const modelNode = z.strictObject({
  ...nodeRequired,
  ...nodeOptional,
  ...compiledNode,
  resource_type: z.literal('model'),
  config: nodeConfig.optional(),
  access: z.enum(['private', 'protected', 'public']).optional(),
  constraints: z.array(record).optional(),
  version: versionLike,
  latest_version: versionLike,
  deprecation_date: nullableStr.optional(),
  primary_key: strList.optional(),
});
const testNode = z.strictObject({
  ...nodeRequired,
  ...nodeOptional,
  ...compiledNode,
  resource_type: z.literal('test'),
  config: testConfig.optional(),
  column_name: nullableStr.optional(),
  file_key_name: nullableStr.optional(),
  attached_node: nullableStr.optional(),
  test_metadata: z
    .strictObject({ name: str.optional(), kwargs: record.optional(), namespace: nullableStr.optional() })
    .optional(),
});
const snapshotNode = z.strictObject({
  ...nodeRequired,
  ...nodeOptional,
  ...compiledNode,
  resource_type: z.literal('snapshot'),
  config: nodeConfig.extend({
    strategy: nullableStr.optional(),
    target_schema: nullableStr.optional(),
    updated_at: nullableStr.optional(),
    check_cols: z.union([str, strList]).nullable().optional(),
    snapshot_meta_column_names: z
      .strictObject({
        dbt_valid_to: nullableStr.optional(),
        dbt_valid_from: nullableStr.optional(),
        dbt_scd_id: nullableStr.optional(),
        dbt_updated_at: nullableStr.optional(),
        dbt_is_deleted: nullableStr.optional(),
      })
      .optional(),
    dbt_valid_to_current: nullableStr.optional(),
  }),
});
const node = z.discriminatedUnion('resource_type', [seedNode, modelNode, testNode, snapshotNode]);

const freshnessPeriod = z
  .strictObject({
    count: z.number().int().nullable().optional(),
    period: z.enum(['minute', 'hour', 'day']).nullable().optional(),
  })
  .nullable()
  .optional();
const source = z.strictObject({
  database: nullableStr,
  schema: str,
  name: str,
  resource_type: z.literal('source'),
  package_name: str,
  path: str,
  original_file_path: str,
  unique_id: str,
  fqn: strList,
  source_name: str,
  source_description: str,
  loader: str,
  identifier: str,
  loaded_at_field: nullableStr.optional(),
  freshness: z
    .strictObject({ warn_after: freshnessPeriod, error_after: freshnessPeriod, filter: nullableStr.optional() })
    .nullable()
    .optional(),
  description: str.optional(),
  columns: z.record(z.string(), column).optional(),
  meta: record.optional(),
  source_meta: record.optional(),
  tags: strList.optional(),
  config: z.looseObject({ enabled: z.boolean().optional() }).optional(),
  patch_path: nullableStr.optional(),
  unrendered_config: record.optional(),
  relation_name: nullableStr.optional(),
  created_at: z.number().optional(),
});
const macro = z.strictObject({
  name: str,
  resource_type: z.literal('macro'),
  package_name: str,
  path: str,
  original_file_path: str,
  unique_id: str,
  macro_sql: str,
  depends_on: z.strictObject({ macros: strList.optional() }).optional(),
  description: str.optional(),
  meta: record.optional(),
  docs: docs.optional(),
  patch_path: nullableStr.optional(),
  arguments: z.array(record).optional(),
  created_at: z.number().optional(),
  supported_languages: z
    .array(z.enum(['python', 'sql']))
    .nullable()
    .optional(),
});
const fixture = z.strictObject({
  rows: z
    .union([str, z.array(record)])
    .nullable()
    .optional(),
  format: z.enum(['csv', 'dict', 'sql']).optional(),
  fixture: nullableStr.optional(),
});
const unitTest = z.strictObject({
  model: str,
  given: z.array(fixture.extend({ input: str })),
  expect: fixture,
  name: str,
  resource_type: z.literal('unit_test'),
  package_name: str,
  path: str,
  original_file_path: str,
  unique_id: str,
  fqn: strList,
  description: str.optional(),
  overrides: z.strictObject({ macros: record, vars: record, env_vars: record }).nullable().optional(),
  depends_on: z.strictObject({ macros: strList.optional(), nodes: strList.optional() }).optional(),
  config: z.looseObject({ tags: z.union([str, strList]).optional(), meta: record.optional() }).optional(),
  checksum: nullableStr.optional(),
  schema: nullableStr.optional(),
  created_at: z.number().optional(),
  version: versionLike,
});
const idMap = z.record(z.string(), strList).nullable();
const metadata = {
  dbt_version: str,
  generated_at: z.iso.datetime(),
  invocation_id: nullableStr,
  env: z.record(z.string(), z.string()),
};
const manifestV12 = z.strictObject({
  metadata: z.strictObject({
    ...metadata,
    dbt_schema_version: z.literal(MANIFEST_V12),
    invocation_started_at: nullableStr.optional(),
    project_name: nullableStr.optional(),
    project_id: nullableStr.optional(),
    user_id: nullableStr.optional(),
    send_anonymous_usage_stats: z.boolean().nullable().optional(),
    adapter_type: nullableStr.optional(),
  }),
  nodes: z.record(z.string(), node),
  sources: z.record(z.string(), source),
  macros: z.record(z.string(), macro),
  docs: z.record(z.string(), record),
  exposures: z.record(z.string(), record),
  metrics: z.record(z.string(), record),
  groups: z.record(z.string(), record),
  selectors: record,
  disabled: z.record(z.string(), z.array(record)).nullable(),
  parent_map: idMap,
  child_map: idMap,
  group_map: idMap,
  saved_queries: z.record(z.string(), record),
  semantic_models: z.record(z.string(), record),
  unit_tests: z.record(z.string(), unitTest),
});
type Manifest = z.infer<typeof manifestV12>;

const runResultsV6 = z.strictObject({
  metadata: z.strictObject({ ...metadata, dbt_schema_version: z.literal(RUN_RESULTS_V6) }),
  results: z.array(
    z.strictObject({
      status: z.enum(['success', 'error', 'skipped', 'partial success', 'pass', 'fail', 'warn', 'runtime error']),
      timing: z.array(
        z.strictObject({
          name: str,
          started_at: z.iso.datetime().nullable(),
          completed_at: z.iso.datetime().nullable(),
        }),
      ),
      thread_id: str,
      execution_time: z.number(),
      adapter_response: record,
      message: nullableStr,
      failures: z.number().int().nullable(),
      unique_id: str,
      compiled: z.boolean().nullable(),
      compiled_code: nullableStr,
      relation_name: nullableStr,
      batch_results: z
        .strictObject({ successful: z.array(strList), failed: z.array(strList) })
        .nullable()
        .optional(),
    }),
  ),
  elapsed_time: z.number(),
  args: record,
});

function parsed<S extends z.ZodType>(schema: S, file: string): z.infer<S> {
  const result = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!result.success) assert.unreachable(`${file} breaks the schema:\n${z.prettifyError(result.error)}`);
  return result.data as z.infer<S>;
}

/** Both graph maps name every node and source, and each edge appears in both directions. */
function assertLineage(m: Manifest): void {
  const ids = [...Object.keys(m.nodes), ...Object.keys(m.sources), ...Object.keys(m.unit_tests)].sort();
  assert.equal(Object.keys(m.parent_map!).sort(), ids);
  assert.equal(Object.keys(m.child_map!).sort(), ids);
  for (const [child, parents] of Object.entries(m.parent_map!))
    for (const p of parents) assert.ok(m.child_map![p].includes(child), `${p} -> ${child} in child_map`);
  for (const [id, n] of Object.entries(m.nodes)) {
    assert.is(n.unique_id, id);
    if (n.resource_type !== 'seed') assert.equal([...(n.depends_on?.nodes ?? [])].sort(), m.parent_map![id]);
  }
}

const FILES: Record<string, string> = {
  'dpm.yml': 'name: art\nmodels:\n  marts:\n    +materialized: table\n',
  'macros/cents.sql': '{% macro cents(col) %}round({{ col }} * 100)::bigint{% endmacro %}\n',
  'seeds/traders.csv': 'trader_id,country\n1,GB\n2,US\n3,DE\n',
  'models/staging/_props.yml': `version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: fills
        loaded_at_field: filled_at
        freshness: { warn_after: { count: 26, period: hour }, error_after: { count: 2, period: day } }
        columns:
          - name: trader_id
            data_tests: [not_null]
models:
  - name: stg_fills
    description: One row per fill.
    columns:
      - name: trader_id
        description: Who traded.
        data_type: integer
        data_tests:
          - not_null
          - relationships: { to: "ref('traders')", field: trader_id }
      - name: country
        data_tests:
          - accepted_values: { values: [GB, US], config: { severity: warn } }
`,
  'models/staging/stg_fills.sql': `select f.trader_id, t.country, {{ cents('f.price') }} as price_cents
from {{ source('raw', 'fills') }} f join {{ ref('traders') }} t using (trader_id)`,
  'models/staging/_by_country.sql': `{{ config(materialized='ephemeral') }}
select country, count(*) as fills from {{ ref('stg_fills') }} group by country`,
  'models/marts/country_fills.sql': `{{ config(pre_hook="select 1", post_hook=["select 2"], meta={'owner': 'risk'}) }}
select * from {{ ref('_by_country') }}`,
  'models/marts/fills_inc.sql': `{{ config(materialized='incremental', unique_key='trader_id') }}
select trader_id, sum(price_cents) as cents from {{ ref('stg_fills') }} group by trader_id`,
  'models/marts/ratio.sql': `select {{ var('num', 1) }} / {{ var('den', 1) }} as r from {{ ref('country_fills') }}`,
  'models/marts/after_ratio.sql': `select * from {{ ref('ratio') }}`,
  'tests/data/no_negative_prices.sql': `select * from {{ ref('stg_fills') }} where price_cents < 0`,
  'snapshots/fills_history.sql': `{% snapshot fills_history %}
{{ config(strategy='check', unique_key='trader_id', check_cols='all', target_schema='snap') }}
select trader_id, price from {{ source('raw', 'fills') }}
{% endsnapshot %}`,
  'models/marts/_unit.yml': `version: 2
unit_tests:
  - name: totals_per_trader
    model: fills_inc
    given:
      - input: ref('stg_fills')
        rows:
          - {trader_id: 1, price_cents: 5}
          - {trader_id: 1, price_cents: 7}
    expect:
      rows:
        - {trader_id: 1, cents: 12}
`,
};

for (const kind of TARGET_KINDS) {
  const s = suite(`[${kind}] dbt artifacts: manifest v12, run-results v6`);
  let t: TestTarget;
  let dir: string;
  let database: string | null;
  s.before(async () => {
    dir = writeProject({ ...FILES });
    t = await freshTarget(kind, dir);
    database = databaseOf(t.target);
    const db = await connect(t.target);
    try {
      await db.knex.raw(`create schema raw;
        create table raw.fills (trader_id int, price numeric, filled_at timestamptz default now());
        insert into raw.fills (trader_id, price) values (1, 1.5), (2, 2.25), (3, 0.5)`);
    } finally {
      await db.close();
    }
  });
  s.after(async () => {
    await t.dispose();
    removeDir(dir);
  });
  const manifest = () => parsed(manifestV12, join(dir, 'target/manifest.json'));
  const runResults = () => parsed(runResultsV6, join(dir, 'target/run_results.json'));

  s('build: every node, source and macro in the manifest is of dbt v12 shape, with dbt values', async () => {
    const r = await dpm(['build', '--project-dir', dir], t.env);
    assert.is(r.code, 0, r.out + r.err);
    const m = manifest();
    assertLineage(m);
    assert.is(m.metadata.project_name, 'art');
    assert.is(m.metadata.env.dpm_version, '0.1.0');
    const mart = m.nodes['model.art.country_fills'];
    assert.ok(mart.resource_type === 'model');
    assert.is(mart.relation_name, [database, 'marts', 'country_fills'].map((p) => `"${p}"`).join('.'));
    assert.is(mart.database, database);
    assert.is(mart.path, 'marts/country_fills.sql');
    assert.is(mart.original_file_path, 'models/marts/country_fills.sql');
    assert.equal(mart.config?.['pre-hook'], [{ sql: 'select 1', transaction: true, index: 0 }]);
    assert.equal(mart.config?.['post-hook'], [{ sql: 'select 2', transaction: true, index: 0 }]);
    assert.equal(mart.meta, { owner: 'risk' });
    assert.is(mart.checksum.name, 'sha256');
    assert.ok(mart.compiled && mart.compiled_code?.includes('__dpm__cte___by_country'), 'compiled by the run');
    const ephemeral = m.nodes['model.art._by_country'];
    assert.is(ephemeral.relation_name, null);
    const stg = m.nodes['model.art.stg_fills'];
    assert.ok(stg.resource_type === 'model');
    assert.equal(stg.refs, [{ name: 'traders', package: null, version: null }]);
    assert.equal(stg.sources, [['raw', 'fills']]);
    assert.equal(stg.depends_on?.nodes, ['source.art.raw.fills', 'seed.art.traders']);
    assert.is(stg.columns?.trader_id.data_type, 'integer');
    assert.is(stg.description, 'One row per fill.');
    const rel = m.nodes['test.art.relationships_stg_fills_trader_id'];
    assert.ok(rel.resource_type === 'test');
    assert.is(rel.attached_node, 'model.art.stg_fills');
    assert.is(rel.column_name, 'trader_id');
    assert.equal(rel.test_metadata, {
      name: 'relationships',
      kwargs: { column_name: 'trader_id', to: "ref('traders')", field: 'trader_id' },
      namespace: null,
    });
    const onSource = m.nodes['test.art.not_null_raw_fills_trader_id'];
    assert.ok(onSource.resource_type === 'test');
    assert.equal(onSource.depends_on?.nodes, ['source.art.raw.fills']);
    assert.is(onSource.attached_node, null, 'a source test is unattached, as in dbt');
    const fills = m.sources['source.art.raw.fills'];
    assert.equal(fills.freshness, {
      warn_after: { count: 26, period: 'hour' },
      error_after: { count: 2, period: 'day' },
      filter: null,
    });
    assert.equal(m.child_map!['source.art.raw.fills'], [
      'model.art.stg_fills',
      'snapshot.art.fills_history',
      'test.art.not_null_raw_fills_trader_id',
    ]);
    const snapshot = m.nodes['snapshot.art.fills_history'];
    assert.ok(snapshot.resource_type === 'snapshot');
    assert.equal([snapshot.config.materialized, snapshot.config.strategy], ['snapshot', 'check']);
    assert.is(snapshot.relation_name, [database, 'snap', 'fills_history'].map((p) => `"${p}"`).join('.'));
    const [unit] = Object.values(m.unit_tests);
    assert.equal([unit.model, unit.depends_on?.nodes], ['fills_inc', ['model.art.fills_inc']]);
    assert.equal(unit.given, [
      {
        input: "ref('stg_fills')",
        rows: [
          { trader_id: '1', price_cents: '5' },
          { trader_id: '1', price_cents: '7' },
        ],
        format: 'dict',
        fixture: null,
      },
    ]);
    assert.equal(m.child_map!['model.art.fills_inc'], [unit.unique_id]);
    assert.match(m.macros['macro.art.cents'].macro_sql, /^\{% macro cents\(col\) %\}[\s\S]*\{% endmacro %\}$/);
    assert.is(m.macros['macro.art.cents'].original_file_path, 'macros/cents.sql');
  });

  s(
    'build: run_results.json is dbt run-results v6, with timings, threads and rows under adapter_response',
    async () => {
      const results = runResults();
      assert.is(results.args.which, 'build');
      const byId = new Map(results.results.map((x) => [x.unique_id, x]));
      const table = byId.get('model.art.country_fills')!;
      assert.is(table.status, 'success');
      assert.is(table.thread_id, 'Thread-1');
      assert.equal(table.adapter_response, { _message: 'table', rows_affected: 3 });
      assert.is(table.timing[0].name, 'execute');
      assert.ok(Date.parse(table.timing[0].completed_at!) >= Date.parse(table.timing[0].started_at!));
      assert.is(table.relation_name, [database, 'marts', 'country_fills'].map((p) => `"${p}"`).join('.'));
      assert.ok(table.compiled && table.compiled_code?.startsWith('with __dpm__cte___by_country as ('));
      const warn = byId.get('test.art.accepted_values_stg_fills_country')!;
      assert.equal([warn.status, warn.failures, warn.relation_name], ['warn', 1, null]);
      const seed = byId.get('seed.art.traders')!;
      assert.equal([seed.compiled, seed.compiled_code, seed.adapter_response.rows_affected], [false, null, 3]);
    },
  );

  s('a failed model and its skipped child are written in dbt shape too', async () => {
    const r = await dpm(['run', '--project-dir', dir, '-s', 'ratio+', '--vars', '{den: 0}'], t.env);
    assert.is(r.code, 1, r.out + r.err);
    const results = runResults();
    const byId = new Map(results.results.map((x) => [x.unique_id, x]));
    assert.equal(byId.get('model.art.ratio')?.status, 'error');
    assert.match(byId.get('model.art.ratio')!.message!, 'division by zero');
    const skipped = byId.get('model.art.after_ratio')!;
    assert.equal([skipped.status, skipped.timing, skipped.thread_id, skipped.compiled], ['skipped', [], 'main', false]);
    assert.equal(results.args, {
      which: 'run',
      select: ['ratio+'],
      threads: t.target.threads,
      vars: { den: 0 },
      full_refresh: false,
      fail_fast: false,
      project_dir: dir,
    });
    assertLineage(manifest());
  });

  s('compile writes compiled_code into the manifest, which dpm docs --manifest reads back', async () => {
    const r = await dpm(['compile', '--project-dir', dir, '-s', 'stg_fills'], t.env);
    assert.is(r.code, 0, r.out + r.err);
    const m = manifest();
    const stg = m.nodes['model.art.stg_fills'];
    assert.ok(stg.resource_type === 'model' && stg.compiled_code?.includes('round(f.price * 100)::bigint'));
    assert.is(stg.compiled_path, 'target/compiled/models/staging/stg_fills.sql');
    const unselected = m.nodes['model.art.ratio'];
    assert.ok(unselected.resource_type === 'model' && !unselected.compiled && unselected.compiled_code === undefined);
    const catalog = catalogFromManifestFile(join(dir, 'target/manifest.json'));
    const doc = catalog.nodes.find((n) => n.id === 'model.art.stg_fills')!;
    assert.ok(doc.compiledSql?.includes('round(f.price * 100)::bigint'));
    assert.equal(doc.parents, ['seed.art.traders', 'source.art.raw.fills']);
    assert.equal(doc.columns.find((c) => c.name === 'trader_id')?.tests.sort(), [
      'not_null',
      "relationships(to: ref('traders'), field: trader_id)",
    ]);
  });
  s.run();
}

const offline = suite('dbt artifacts: reading them back');
offline('state:modified names the file and the fix when the manifest is not dbt-shaped; other runs go on', async () => {
  const dir = writeProject({ 'models/a/m.sql': 'select 1 as x' });
  try {
    // What dpm wrote before it followed dbt's schema: a checksum string.
    mkdirSync(join(dir, 'target'));
    writeFileSync(
      join(dir, 'target/manifest.json'),
      JSON.stringify({ metadata: { dpm_version: '0.1.0' }, nodes: { 'model.t.m': { checksum: 'abc' } } }),
    );
    let r = await dpm(['ls', '--project-dir', dir]);
    assert.is(r.code, 0, r.err);
    r = await dpm(['ls', '--project-dir', dir, '-s', 'state:modified']);
    assert.is(r.code, 2);
    assert.match(r.err, `${join(dir, 'target/manifest.json')} is not a dbt manifest (v12) that dpm can read`);
    assert.match(r.err, 'metadata');
    assert.match(r.err, 'Rewrite it with dpm compile');
    r = await dpm(['compile', '--project-dir', dir]);
    assert.is(r.code, 0, r.err);
    r = await dpm(['ls', '--project-dir', dir, '-s', 'state:modified']);
    assert.is(r.code, 0, r.err);
    assert.is(r.out, '');
  } finally {
    removeDir(dir);
  }
});
offline.run();
