// target/manifest.json in dbt's published shape (manifest v12), so that tools reading dbt artifacts (lineage
// viewers, observability) read dpm's. dbt's objects forbid unknown keys except in `config`, `meta` and
// `metadata.env`: dpm's own settings live there and nowhere else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../project/load.ts';
import { listFiles } from '../project/files.ts';
import type {
  ColumnDoc,
  Fixture,
  GraphNode,
  ModelNode,
  SeedNode,
  SnapshotNode,
  SourceTable,
  TestNode,
  UnitTestNode,
} from '../project/nodes.ts';
import type { Relation } from '../project/templating.ts';

export const MANIFEST_SCHEMA = 'https://schemas.getdbt.com/dbt/manifest/v12.json';
/** The dbt-core release whose semantics dpm follows (docs/runner.md, "dbt feature | dpm"). */
const DBT_VERSION = '1.9.0';
const DPM_VERSION = '0.1.0';

export interface ManifestOptions {
  invocationId: string;
  /** The database the relations live in (`current_database()` of the target), or null when unknown. */
  database: string | null;
  /** SQL compiled by this invocation, by unique id (dbt's compiled, compiled_code, compiled_path). */
  compiled?: Map<string, { path: string; code: string }>;
}

type Json = Record<string, unknown>;

/** dbt-postgres' relation_name: every part quoted. Ephemeral models have none. */
export function relationName(relation: Relation, database: string | null): string | null {
  if (relation.cte) return null;
  return [database, relation.schema, relation.identifier]
    .filter((p): p is string => p !== null)
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');
}

/** What every dbt artifact's metadata holds; dpm's own version goes under `env`, which dbt leaves open. */
export function artifactMetadata(schema: string, invocationId: string): Json {
  return {
    dbt_schema_version: schema,
    dbt_version: DBT_VERSION,
    generated_at: new Date().toISOString(),
    invocation_id: invocationId,
    env: { dpm_version: DPM_VERSION },
  };
}

export function buildManifest(project: Project, options: ManifestOptions): Json {
  const nodes: Record<string, Json> = {};
  const unitTests: Record<string, Json> = {};
  for (const [id, node] of project.nodes) {
    if (node.resourceType === 'unit_test') unitTests[id] = unitTestJson(project, node);
    else nodes[id] = nodeJson(project, node, options);
  }
  const sources = Object.fromEntries(
    [...project.sources.values()].map((s) => [s.uniqueId, sourceJson(project, s, options.database)]),
  );
  return {
    metadata: {
      ...artifactMetadata(MANIFEST_SCHEMA, options.invocationId),
      project_name: project.config.name,
      adapter_type: 'postgres',
    },
    nodes,
    sources,
    macros: macrosJson(project),
    docs: {},
    exposures: {},
    metrics: {},
    groups: {},
    selectors: {},
    // A model with enabled=false is left out of the project when it loads, so none is known here.
    disabled: {},
    ...lineageMaps([...Object.values(nodes), ...Object.values(sources), ...Object.values(unitTests)]),
    group_map: {},
    saved_queries: {},
    semantic_models: {},
    unit_tests: unitTests,
  };
}

/** parent_map and child_map over nodes and sources, as dbt writes them: every id is a key of both. */
function lineageMaps(entries: Json[]): { parent_map: Record<string, string[]>; child_map: Record<string, string[]> } {
  const parent_map: Record<string, string[]> = {};
  const child_map: Record<string, string[]> = {};
  for (const e of entries) {
    const id = e.unique_id as string;
    parent_map[id] = [...((e.depends_on as { nodes?: string[] } | undefined)?.nodes ?? [])].sort();
    child_map[id] = [];
  }
  for (const [child, parents] of Object.entries(parent_map)) for (const p of parents) child_map[p]?.push(child);
  for (const list of Object.values(child_map)) list.sort();
  return { parent_map, child_map };
}

/** dbt's `path` is relative to the folder the file was found in (models/, seeds/, tests/). */
function pathWithin(dirs: string[], file: string): string {
  const dir = dirs.find((d) => file.startsWith(`${d}/`));
  return dir ? file.slice(dir.length + 1) : file;
}

function columnsJson(columns: Record<string, ColumnDoc>): Record<string, Json> {
  return Object.fromEntries(
    Object.values(columns).map((c) => [
      c.name,
      {
        name: c.name,
        description: c.description ?? '',
        meta: {},
        data_type: c.data_type ?? null,
        constraints: [],
        quote: null,
        tags: [],
      },
    ]),
  );
}

/** What goes under the manifest's `nodes` (unit tests have a key of their own). */
type ManifestNode = Exclude<GraphNode, UnitTestNode>;

/** The relation a node builds: models, seeds and snapshots. */
export function builtRelation(node: GraphNode): Relation | undefined {
  return node.resourceType === 'test' || node.resourceType === 'unit_test' ? undefined : node.relation;
}

function sourceIdsOf(project: Project, node: ManifestNode): string[] {
  if (node.resourceType === 'model' || node.resourceType === 'snapshot')
    return node.sources.map((s) => project.sources.get(`${s.source}.${s.table}`)!.uniqueId);
  const parent = node.resourceType === 'test' ? String(node.kwargs.__parent ?? '') : '';
  return parent.startsWith('source.') ? [parent] : [];
}

function nodeJson(project: Project, node: ManifestNode, options: ManifestOptions): Json {
  const { config } = project;
  const dirs = {
    model: config['model-paths'],
    seed: config['seed-paths'],
    snapshot: config['snapshot-paths'],
    test: config['test-paths'],
  }[node.resourceType];
  // A generic test's file is the yml that declares it; dbt names its path after the test.
  const generic = node.resourceType === 'test' && node.testName !== 'singular';
  const common = {
    database: options.database,
    name: node.name,
    resource_type: node.resourceType,
    package_name: config.name,
    path: generic ? `${node.name}.sql` : pathWithin(dirs, node.path),
    original_file_path: node.path,
    unique_id: node.uniqueId,
    fqn: node.fqn,
    checksum: { name: 'sha256', checksum: node.checksum },
    tags: node.tags,
    description: node.description ?? '',
    columns: columnsJson(node.columns),
    docs: { show: true, node_color: null },
  };
  if (node.resourceType === 'seed') return { ...common, ...seedJson(node, options.database) };
  const compiled = options.compiled?.get(node.uniqueId);
  const executable = {
    language: 'sql',
    refs: [...new Set(node.dependsOn.map((id) => project.nodes.get(id)!.name))].map((name) => ({
      name,
      package: null,
      version: null,
    })),
    metrics: [],
    depends_on: { macros: [], nodes: [...new Set([...sourceIdsOf(project, node), ...node.dependsOn])] },
    compiled: compiled !== undefined,
    ...(compiled ? { compiled_code: compiled.code, compiled_path: compiled.path } : {}),
  };
  if (node.resourceType === 'test') return { ...common, ...executable, ...testJson(project, node) };
  return { ...common, ...executable, ...selectJson(node, options.database) };
}

/** dpm's pre_hook/post_hook are dbt's `pre-hook`/`post-hook` lists of {sql, transaction, index}. */
function modelConfigJson({ pre_hook, post_hook, ...rest }: ModelNode['config']): Json {
  const hooks = (sql: string[] | undefined) => (sql ?? []).map((s, index) => ({ sql: s, transaction: true, index }));
  return { ...rest, 'pre-hook': hooks(pre_hook), 'post-hook': hooks(post_hook) };
}

/** What models and snapshots (a select each) add to the common keys. */
function selectJson(node: ModelNode | SnapshotNode, database: string | null): Json {
  const config =
    node.resourceType === 'model' ? modelConfigJson(node.config) : { ...node.config, materialized: 'snapshot' };
  const meta = node.config.meta ?? {};
  return {
    schema: node.relation.schema,
    alias: node.relation.identifier,
    config: { ...config, meta },
    meta,
    raw_code: node.rawSql,
    sources: node.sources.map((s) => [s.source, s.table]),
    relation_name: relationName(node.relation, database),
    ...(node.resourceType === 'model'
      ? { access: 'protected', constraints: [], version: null, latest_version: null }
      : {}),
  };
}

function seedJson(node: SeedNode, database: string | null): Json {
  return {
    schema: node.relation.schema,
    alias: node.relation.identifier,
    config: { ...node.config, materialized: 'seed', meta: node.config.meta ?? {} },
    meta: node.config.meta ?? {},
    raw_code: '',
    relation_name: relationName(node.relation, database),
    depends_on: { macros: [] },
  };
}

function testJson(project: Project, node: TestNode): Json {
  const parent = String(node.kwargs.__parent ?? '');
  const source = parent.startsWith('source.')
    ? [...project.sources.values()].find((s) => s.uniqueId === parent)
    : undefined;
  const kwargs = Object.fromEntries(Object.entries(node.kwargs).filter(([k]) => !k.startsWith('__')));
  return {
    // dbt's schema for test failures (store_failures); dpm stores none, so no relation is ever created there.
    schema: 'dbt_test__audit',
    alias: node.name,
    config: { ...node.config, materialized: 'test', meta: {} },
    meta: {},
    raw_code: node.rawSql ?? '',
    sources: source ? [[source.source, source.table]] : [],
    relation_name: null,
    column_name: node.column ?? null,
    // dbt attaches a test to the model or seed it tests; a source's tests stay unattached.
    attached_node: node.attachedTo?.startsWith('source.') ? null : (node.attachedTo ?? null),
    ...(node.testName === 'singular'
      ? {}
      : {
          test_metadata: {
            name: node.testName,
            kwargs: node.column ? { column_name: node.column, ...kwargs } : kwargs,
            namespace: null,
          },
        }),
  };
}

/** dbt's fixture: rows as {column: value} objects (format dict), or the SQL that selects them. */
function fixtureJson(fixture: Fixture): Json {
  if (fixture.kind === 'sql') return { rows: fixture.sql, format: 'sql', fixture: null };
  if (fixture.kind === 'seed') return { rows: null, format: 'csv', fixture: null };
  const rows = fixture.rows.map((row) => Object.fromEntries(fixture.columns.map((c, i) => [c, row[i]])));
  return { rows, format: 'dict', fixture: null };
}

/** dbt's UnitTestDefinition (the manifest's unit_tests): depends on the model it tests. */
function unitTestJson(project: Project, node: UnitTestNode): Json {
  const model = project.nodes.get(node.model) as ModelNode;
  return {
    model: model.name,
    given: node.given.map((g) => ({ input: g.input, ...fixtureJson(g.fixture) })),
    expect: fixtureJson(node.expect),
    name: node.name,
    resource_type: 'unit_test',
    package_name: project.config.name,
    path: pathWithin(project.config['model-paths'], node.path),
    original_file_path: node.path,
    unique_id: node.uniqueId,
    fqn: node.fqn,
    description: node.description ?? '',
    overrides: { macros: node.overrides.macros, vars: node.overrides.vars, env_vars: node.overrides.envVars },
    depends_on: { macros: [], nodes: [node.model] },
    config: { tags: node.config.tags, meta: node.config.meta ?? {}, enabled: node.config.enabled },
    checksum: node.checksum,
    schema: model.relation.schema,
  };
}

/** dbt's freshness period: the largest unit that divides the rule exactly. */
function period(seconds: number | undefined): Json | null {
  if (seconds === undefined) return null;
  if (seconds % 86400 === 0) return { count: seconds / 86400, period: 'day' };
  if (seconds % 3600 === 0) return { count: seconds / 3600, period: 'hour' };
  return { count: Math.round(seconds / 60), period: 'minute' };
}

function sourceJson(project: Project, s: SourceTable, database: string | null): Json {
  return {
    database,
    schema: s.relation.schema,
    name: s.table,
    resource_type: 'source',
    package_name: project.config.name,
    // The properties file a source came from is not kept once the project is loaded.
    path: '',
    original_file_path: '',
    unique_id: s.uniqueId,
    fqn: [project.config.name, s.source, s.table],
    source_name: s.source,
    source_description: '',
    loader: '',
    identifier: s.relation.identifier,
    loaded_at_field: s.loadedAtField ?? null,
    freshness: s.freshness
      ? {
          warn_after: period(s.freshness.warnAfterSeconds),
          error_after: period(s.freshness.errorAfterSeconds),
          filter: s.freshness.filter ?? null,
        }
      : null,
    description: s.description ?? '',
    columns: columnsJson(s.columns),
    meta: {},
    source_meta: {},
    tags: [],
    config: { enabled: true },
    relation_name: relationName(s.relation, database),
  };
}

const MACRO = /\{%-?\s*macro\s+(\w+)\s*\([\s\S]*?\{%-?\s*endmacro\s*-?%\}/g;

/** Each macro of the project with its file and text, read back from the macro folders. */
function macrosJson(project: Project): Record<string, Json> {
  const { config } = project;
  const known = new Set(project.macros);
  const out: Record<string, Json> = {};
  for (const file of config['macro-paths'].flatMap((dir) => listFiles(config.root, dir, ['.sql']))) {
    for (const [sql, name] of readFileSync(join(config.root, file), 'utf8').matchAll(MACRO)) {
      if (!known.has(name)) continue;
      const uniqueId = `macro.${config.name}.${name}`;
      out[uniqueId] = {
        name,
        resource_type: 'macro',
        package_name: config.name,
        path: pathWithin(config['macro-paths'], file),
        original_file_path: file,
        unique_id: uniqueId,
        macro_sql: sql,
        depends_on: { macros: [] },
        description: '',
        meta: {},
        docs: { show: true, node_color: null },
        patch_path: null,
        arguments: [],
      };
    }
  }
  return out;
}
