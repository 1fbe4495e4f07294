import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadProjectConfig, type ProjectConfig } from '../config/project-config.ts';
import { CycleError, ProjectError, UnknownRefError, didYouMean } from '../errors.ts';
import { sha256 as sha } from '../hash.ts';
import { listFiles } from './files.ts';
import {
  checkConfig,
  modelConfigSchema,
  normalizeConfigKeys,
  seedConfigSchema,
  snapshotConfigSchema,
  testConfigSchema,
  type TestConfig,
} from './node-config.ts';
import type {
  ColumnDoc,
  GraphNode,
  ModelNode,
  ResolvedModelConfig,
  SeedNode,
  SnapshotNode,
  SourceTable,
  TestNode,
} from './nodes.ts';
import type { ResourceSpec, TestSpec, UnitTestSpec } from './properties.ts';
import { DocBlocks } from './doc-blocks.ts';
import { PartialParse } from './partial-parse.ts';
import { extractSnapshotBlocks, resolveSnapshotConfig, ymlSnapshotBody } from './snapshot-blocks.ts';
import { Relation, TemplateEngine, type RenderHooks } from './templating.ts';
import type { GenericTestMacro } from './jinja-extensions.ts';
import type nunjucks from 'nunjucks';
import { unitTestNodes } from '../unittests/definitions.ts';

export interface Project {
  config: ProjectConfig;
  engine: TemplateEngine;
  nodes: Map<string, GraphNode>;
  sources: Map<string, SourceTable>;
  vars: Record<string, unknown>;
  macros: string[];
}

export interface LoadOptions {
  vars?: Record<string, unknown>;
  /** The target the command runs on (--target): a dbt project's schemas follow its schema. */
  target?: string;
}

/** A relation's schema from its custom `schema` config (if any) and the folder-derived default. */
type SchemaNamer = (custom: string | undefined, fallback: string) => string;

/**
 * dpm's projects name schemas by folder (`custom ?? folder`). A dbt project names them as dbt does: the
 * target's schema, or `<target schema>_<custom>`; its own generate_schema_name macro decides when it has one.
 */
function schemaNamer(config: ProjectConfig, engine: TemplateEngine, macros: string[], target?: string): SchemaNamer {
  if (config.naming !== 'dbt') return (custom, fallback) => custom ?? fallback;
  const name = target ?? (process.env.DPM_DATABASE_URL ? undefined : config.target);
  const base = (name && config.targetSchemas?.[name]) || 'public';
  if (!macros.includes('generate_schema_name')) {
    return (custom) => (custom ? `${base}_${custom.trim()}` : base);
  }
  const source = '{{ generate_schema_name(custom, none) }}';
  const template = engine.compile(source, 'generate_schema_name');
  const hooks: RenderHooks = {
    ref: () => new Relation(base, ''),
    source: (s, t) => new Relation(s, t),
    config: () => undefined,
    variable: (_, fallback) => fallback,
    isIncremental: () => false,
    self: () => undefined,
    extra: { target: { name: name ?? 'default', type: 'postgres', schema: base }, execute: false },
  };
  // dbt passes none for a model without a custom schema; the macro tests it with `is none`.
  return (custom) =>
    engine.render(template, 'macros (generate_schema_name)', source, hooks, { custom: custom ?? null }).trim();
}

/** Reads every model, seed, macro, property file and test; finds dependencies without touching a database. */
export function loadProject(root: string, options: LoadOptions = {}): Project {
  const config = loadProjectConfig(root);
  const vars = { ...config.vars, ...(options.vars ?? {}) };
  const engine = new TemplateEngine();
  const macros: string[] = [];
  // dbt reads generic tests ({% test %} blocks) from the macro paths and from a test path's generic/ folder.
  const genericDirs = unique(['tests/generic', ...config['test-paths'].map((d) => `${d}/generic`)]);
  for (const dir of [...config['macro-paths'], ...genericDirs]) {
    for (const file of listFiles(root, dir, ['.sql']))
      macros.push(...engine.addMacros(readFileSync(join(root, file), 'utf8'), file));
  }

  const modelSpecs = new Map<string, ResourceSpec>();
  const seedSpecs = new Map<string, ResourceSpec>();
  const snapshotSpecs = new Map<string, ResourceSpec>();
  const sources = new Map<string, SourceTable>();
  const sourceTests: { table: SourceTable; spec: ResourceSpec }[] = [];
  const unitTestSpecs: UnitTestSpec[] = [];
  const partialParse = new PartialParse(join(root, config['target-path']));
  const docs = new DocBlocks();
  const propertyDirs = [...config['model-paths'], ...config['seed-paths'], ...config['snapshot-paths']];
  for (const dir of propertyDirs) {
    for (const file of listFiles(root, dir, ['.md'])) docs.add(readFileSync(join(root, file), 'utf8'), file);
  }
  for (const dir of propertyDirs) {
    for (const file of listFiles(root, dir, ['.yml', '.yaml'])) {
      const parsed = partialParse.properties(readFileSync(join(root, file), 'utf8'), file);
      const props = {
        models: parsed.models.map((m) => docs.resolveSpec(m)),
        seeds: parsed.seeds.map((s) => docs.resolveSpec(s)),
        snapshots: parsed.snapshots.map((s) => docs.resolveSpec(s)),
        sources: parsed.sources.map((src) => ({ ...src, tables: src.tables.map((t) => docs.resolveSpec(t)) })),
      };
      for (const m of props.models) {
        const previous = modelSpecs.get(m.name);
        if (previous)
          throw new ProjectError(
            file,
            m.line,
            `model '${m.name}' is already described in ${previous.file}:${previous.line}`,
          );
        modelSpecs.set(m.name, m);
      }
      for (const s of props.seeds) seedSpecs.set(s.name, s);
      for (const u of parsed.unitTests)
        unitTestSpecs.push({ ...u, description: docs.resolve(u.description, u.file, u.line) });
      for (const s of props.snapshots) {
        const previous = snapshotSpecs.get(s.name);
        if (previous) {
          throw new ProjectError(
            file,
            s.line,
            `snapshot '${s.name}' is already described in ${previous.file}:${previous.line}`,
          );
        }
        snapshotSpecs.set(s.name, s);
      }
      for (const src of props.sources) {
        for (const t of src.tables) {
          const table: SourceTable = {
            uniqueId: `source.${config.name}.${src.name}.${t.name}`,
            source: src.name,
            table: t.name,
            relation: new Relation(src.schema, t.name),
            description: t.description,
            columns: columnDocs(t),
            loadedAtField: t.loadedAtField,
            freshness: t.freshness,
          };
          sources.set(`${src.name}.${t.name}`, table);
          sourceTests.push({ table, spec: t });
        }
      }
    }
  }

  const nodes = new Map<string, GraphNode>();
  const byName = new Map<string, GraphNode>();
  const register = (node: GraphNode, file: string, line: number | undefined) => {
    const clash = byName.get(node.name);
    if (clash && node.resourceType !== 'test') {
      throw new ProjectError(
        file,
        line,
        `${node.resourceType} '${node.name}' has the same name as ${clash.resourceType} ${clash.path}: ` +
          'names must be unique',
      );
    }
    if (node.resourceType !== 'test') byName.set(node.name, node);
    nodes.set(node.uniqueId, node);
  };

  const nameSchema = schemaNamer(config, engine, macros, options.target);
  for (const seed of loadSeeds(config, seedSpecs, partialParse, nameSchema)) register(seed, seed.path, undefined);
  partialParse.save();
  for (const dir of config['model-paths']) {
    for (const file of listFiles(root, dir, ['.sql'])) {
      const spec = modelSpecs.get(basename(file, '.sql'));
      const model = parseModel(config, engine, vars, file, dir, spec, nameSchema);
      if (model.config.enabled) register(model, file, undefined);
    }
  }
  for (const snap of loadSnapshots(config, engine, vars, snapshotSpecs, nameSchema)) {
    if (snap.config.enabled) register(snap, snap.path, snap.line);
  }
  for (const [name, spec] of modelSpecs) {
    if (!byName.has(name)) {
      throw new ProjectError(
        spec.file,
        spec.line,
        `properties for model '${name}', but there is no models/**/${name}.sql.${didYouMean(name, byName.keys())}`,
      );
    }
  }

  // Refs and sources are resolved only once every node is known, so file order never matters.
  for (const node of nodes.values()) {
    if (node.resourceType !== 'model' && node.resourceType !== 'snapshot') continue;
    node.dependsOn = unique([
      ...node.refs.map((r) => resolveRef(r.name, node.path, r.line, byName).uniqueId),
      ...node.sources.map((s) => resolveSource(s.source, s.table, node.path, s.line, sources).uniqueId),
    ]).filter((id) => !id.startsWith('source.'));
  }
  const unitTestProject = { name: config.name, root, testPaths: config['test-paths'] };
  for (const u of unitTestNodes(unitTestProject, unitTestSpecs, byName, sources)) nodes.set(u.uniqueId, u);

  const tests: TestNode[] = [];
  const parse: TestParse = { engine, vars, byName, sources };
  const specsByType: Partial<Record<GraphNode['resourceType'], Map<string, ResourceSpec>>> = {
    model: modelSpecs,
    seed: seedSpecs,
    snapshot: snapshotSpecs,
  };
  for (const node of [...nodes.values()]) {
    if (node.resourceType === 'test') continue;
    const spec = specsByType[node.resourceType]?.get(node.name);
    if (!spec) continue;
    for (const t of [...spec.tests, ...spec.columns.flatMap((c) => c.tests)])
      tests.push(genericTest(config, node.uniqueId, node.name, t, parse));
  }
  for (const { table, spec } of sourceTests) {
    for (const t of [...spec.tests, ...spec.columns.flatMap((c) => c.tests)])
      tests.push(genericTest(config, table.uniqueId, `${table.source}_${table.table}`, t, parse));
  }
  for (const dir of config['test-paths']) {
    for (const file of listFiles(root, dir, ['.sql'])) {
      if (!genericDirs.some((g) => file.startsWith(`${g}/`)))
        tests.push(parseSingularTest(config, engine, vars, file, byName, sources));
    }
  }
  const testNames = new Map<string, number>();
  for (const t of tests) {
    if (!t.config.enabled) continue;
    const n = testNames.get(t.name) ?? 0;
    testNames.set(t.name, n + 1);
    if (n > 0) {
      t.name = `${t.name}_${n + 1}`;
      t.uniqueId = `test.${config.name}.${t.name}`;
    }
    nodes.set(t.uniqueId, t);
  }

  assertAcyclic(nodes);
  return { config, engine, nodes, sources, vars, macros };
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function columnDocs(spec: ResourceSpec | undefined): Record<string, ColumnDoc> {
  const out: Record<string, ColumnDoc> = {};
  for (const c of spec?.columns ?? [])
    out[c.name] = { name: c.name, description: c.description, data_type: c.data_type };
  return out;
}

function resolveRef(name: string, file: string, line: number, byName: Map<string, GraphNode>): GraphNode {
  const target = byName.get(name);
  if (!target)
    throw new UnknownRefError(file, line, `ref('${name}') names no model or seed.${didYouMean(name, byName.keys())}`);
  return target;
}

function resolveSource(
  source: string,
  table: string,
  file: string,
  line: number,
  sources: Map<string, SourceTable>,
): SourceTable {
  const found = sources.get(`${source}.${table}`);
  if (!found) {
    throw new UnknownRefError(
      file,
      line,
      `source('${source}', '${table}') is not declared under sources: in a models/**/*.yml file.` +
        didYouMean(`${source}.${table}`, sources.keys()),
    );
  }
  return found;
}

const MODEL_CONFIG_KEYS: ReadonlySet<string> = new Set(Object.keys(modelConfigSchema.shape));
const SEED_CONFIG_KEYS: ReadonlySet<string> = new Set(Object.keys(seedConfigSchema.shape));
const SNAPSHOT_CONFIG_KEYS: ReadonlySet<string> = new Set(Object.keys(snapshotConfigSchema.shape));

/**
 * Folder config from dpm.yml: `models: { staging: { +materialized: view } }`, outer levels first. As in dbt, a key
 * is config when it has a `+` or is a config name (`materialized: table`); any other key is a subfolder.
 */
function folderConfig(
  tree: Record<string, unknown>,
  projectName: string,
  folders: string[],
  configKeys: ReadonlySet<string>,
): Record<string, unknown> {
  let level: Record<string, unknown> = (tree[projectName] as Record<string, unknown>) ?? tree;
  const merged: Record<string, unknown> = {};
  const take = (obj: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(obj)) {
      if (k.startsWith('+')) merged[k.slice(1)] = v;
      else if (configKeys.has(k.replace(/-/g, '_'))) merged[k] = v;
    }
  };
  take(level);
  for (const folder of folders) {
    const next = level[folder];
    if (!next || typeof next !== 'object') break;
    level = next as Record<string, unknown>;
    take(level);
  }
  return merged;
}

function lineOf(source: string, needle: RegExp | string): number {
  const lines = source.split('\n');
  const idx = lines.findIndex((l) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l)));
  return idx >= 0 ? idx + 1 : 1;
}

/**
 * What a model's or snapshot's template sees while the project is parsed: ref() and source() are recorded with
 * the line that names them, config() calls are collected, and `execute` is false, as in dbt.
 */
function parseHooks(file: string, source: string, vars: Record<string, unknown>, name: string) {
  const inline: Record<string, unknown> = {};
  const refs: ModelNode['refs'] = [];
  const sources: ModelNode['sources'] = [];
  const hooks: RenderHooks = {
    ref: (target) => {
      refs.push({ name: target, line: lineOf(source, new RegExp(`ref\\(\\s*['"]${target}['"]`)) });
      return new Relation('__parse__', target);
    },
    source: (s, t) => {
      sources.push({
        source: s,
        table: t,
        line: lineOf(source, new RegExp(`source\\(\\s*['"]${s}['"]\\s*,\\s*['"]${t}['"]`)),
      });
      return new Relation(s, t);
    },
    config: (kw) => Object.assign(inline, normalizeConfigKeys(kw)),
    variable: (n, fallback, has) => readVar(vars, n, fallback, has, file, source),
    isIncremental: () => false,
    self: () => new Relation('__parse__', name),
    extra: {
      batch_start: null,
      batch_end: null,
      batch_days: null,
      run_started_at: new Date().toISOString(),
      invocation_id: 'parse',
      target_name: 'parse',
      execute: false,
    },
  };
  return { hooks, inline, refs, sources };
}

function parseModel(
  config: ProjectConfig,
  engine: TemplateEngine,
  vars: Record<string, unknown>,
  file: string,
  modelDir: string,
  spec: ResourceSpec | undefined,
  nameSchema: SchemaNamer,
): ModelNode {
  const rawSql = readFileSync(join(config.root, file), 'utf8');
  const name = basename(file, '.sql');
  const folders = dirname(file).split('/').slice(modelDir.split('/').length);
  const template = engine.compile(rawSql, file);
  const { hooks, inline, refs, sources } = parseHooks(file, rawSql, vars, name);
  engine.render(template, file, rawSql, hooks);

  const layers: [Record<string, unknown>, string, number][] = [
    [folderConfig(config.models, config.name, folders, MODEL_CONFIG_KEYS), 'dpm.yml', 1],
    [spec?.config ?? {}, spec?.file ?? file, spec?.line ?? 1],
    [inline, file, lineOf(rawSql, 'config(')],
  ];
  let merged: Record<string, unknown> = {};
  for (const [layer, where, line] of layers) {
    const checked = checkConfig(modelConfigSchema, layer);
    if (!checked.ok) {
      const keyLine = where === file ? lineOf(rawSql, new RegExp(`\\b${checked.problem.key}\\s*=`)) : line;
      throw new ProjectError(where, where === file ? keyLine : line, `model '${name}': ${checked.problem.message}`);
    }
    merged = { ...merged, ...checked.value };
  }
  const tags = unique([...folders, ...((merged.tags as string[] | undefined) ?? [])]);
  const resolved: ResolvedModelConfig = {
    ...merged,
    materialized: (merged.materialized as ResolvedModelConfig['materialized']) ?? 'view',
    schema: nameSchema(merged.schema as string | undefined, folders[0] ?? 'public'),
    alias: (merged.alias as string) ?? name,
    tags,
    enabled: (merged.enabled as boolean) ?? true,
  };
  if (
    resolved.materialized === 'incremental' &&
    resolved.incremental_strategy === 'microbatch' &&
    !resolved.event_time
  ) {
    throw new ProjectError(
      file,
      lineOf(rawSql, 'config('),
      `model '${name}': incremental_strategy 'microbatch' needs event_time (the date column to batch by).`,
    );
  }
  if (
    resolved.materialized === 'incremental' &&
    ['delete+insert', 'merge'].includes(resolved.incremental_strategy ?? '') &&
    !resolved.unique_key
  ) {
    throw new ProjectError(
      file,
      lineOf(rawSql, 'config('),
      `model '${name}': incremental_strategy '${resolved.incremental_strategy}' needs unique_key.`,
    );
  }
  const unenforceable = distributedUniqueness(resolved);
  if (unenforceable) throw new ProjectError(file, lineOf(rawSql, 'config('), `model '${name}': ${unenforceable}`);
  return {
    resourceType: 'model',
    uniqueId: `model.${config.name}.${name}`,
    name,
    path: file,
    fqn: [config.name, ...folders, name],
    tags,
    dependsOn: [],
    checksum: sha(rawSql + JSON.stringify(resolved)),
    description: (resolved.description as string | undefined) ?? spec?.description,
    columns: columnDocs(spec),
    config: resolved,
    rawSql,
    template,
    refs,
    sources,
    relation: new Relation(
      resolved.schema,
      resolved.alias,
      resolved.materialized === 'ephemeral' ? `__dpm__cte__${name}` : undefined,
    ),
  };
}

/**
 * Citus enforces uniqueness only on column sets that hold the distribution column; the same project must build
 * on plain PostgreSQL and on a cluster, so a key that could not be enforced there fails everywhere, at load.
 */
function distributedUniqueness(config: ResolvedModelConfig): string | undefined {
  const column = config.distributed_by;
  if (!column) return undefined;
  const sets = [
    ...(config.unique_key ? [{ what: 'unique_key', columns: config.unique_key }] : []),
    ...(config.indexes ?? []).filter((i) => i.unique).map((i) => ({ what: 'unique index', columns: i.columns })),
  ];
  const bad = sets.find((s) => !s.columns.includes(column));
  if (!bad) return undefined;
  return (
    `its ${bad.what} (${bad.columns.join(', ')}) does not hold distributed_by '${column}': a Citus cluster ` +
    `can only enforce uniqueness that includes the distribution column. Add '${column}' to it.`
  );
}

export function readVar(
  vars: Record<string, unknown>,
  name: string,
  fallback: unknown,
  hasFallback: boolean,
  file: string,
  source: string,
): unknown {
  if (name in vars) return vars[name];
  if (hasFallback) return fallback;
  throw new ProjectError(
    file,
    lineOf(source, new RegExp(`var\\(\\s*['"]${name}['"]`)),
    `var('${name}') is not set and has no default: define it under vars: in dpm.yml or pass --vars '{"${name}": ...}'.`,
  );
}

function loadSeeds(
  config: ProjectConfig,
  specs: Map<string, ResourceSpec>,
  partialParse: PartialParse,
  nameSchema: SchemaNamer,
): SeedNode[] {
  const groups = new Map<string, { files: string[]; folders: string[] }>();
  for (const dir of config['seed-paths']) {
    for (const file of listFiles(config.root, dir, ['.csv'])) {
      const rel = file.slice(dir.length + 1).split('/');
      // A folder of CSVs is one seed (several exports of one table); a top-level CSV is its own seed.
      const name = rel.length > 1 ? rel[0] : basename(file, '.csv');
      const g = groups.get(name) ?? { files: [], folders: rel.length > 1 ? [rel[0]] : [] };
      g.files.push(file);
      groups.set(name, g);
    }
  }
  const seeds: SeedNode[] = [];
  for (const [name, { files }] of groups) {
    const spec = specs.get(name);
    const layers: [Record<string, unknown>, string, number][] = [
      [folderConfig(config.seeds, config.name, [], SEED_CONFIG_KEYS), 'dpm.yml', 1],
      [spec?.config ?? {}, spec?.file ?? files[0], spec?.line ?? 1],
    ];
    let merged: Record<string, unknown> = {};
    for (const [layer, where, line] of layers) {
      const checked = checkConfig(seedConfigSchema, layer);
      if (!checked.ok) throw new ProjectError(where, line, `seed '${name}': ${checked.problem.message}`);
      merged = { ...merged, ...checked.value };
    }
    const schema = nameSchema(merged.schema as string | undefined, 'seeds');
    const alias = (merged.alias as string) ?? name;
    seeds.push({
      resourceType: 'seed',
      uniqueId: `seed.${config.name}.${name}`,
      name,
      path: files.length === 1 ? files[0] : dirname(files[0]),
      fqn: [config.name, name],
      tags: (merged.tags as string[]) ?? [],
      dependsOn: [],
      checksum: sha(files.map((f) => partialParse.fileHash(config.root, f)).join('\n') + JSON.stringify(merged)),
      description: spec?.description,
      columns: columnDocs(spec),
      config: {
        ...merged,
        schema,
        alias,
        tags: (merged.tags as string[]) ?? [],
        enabled: (merged.enabled as boolean) ?? true,
      },
      files,
      relation: new Relation(schema, alias),
    });
  }
  return seeds;
}

/** A snapshot's query before it compiles: a block of a .sql file, or a yml entry's `relation:`. */
interface SnapshotSource {
  name: string;
  file: string;
  line: number;
  body: string;
  folders: string[];
}

/**
 * dbt's snapshots: the `{% snapshot %}` blocks of the .sql files under snapshot-paths, and yml `snapshots:`
 * entries with `relation:` (dbt 1.9). A yml entry without `relation:` describes a block of the same name.
 */
function loadSnapshots(
  config: ProjectConfig,
  engine: TemplateEngine,
  vars: Record<string, unknown>,
  specs: Map<string, ResourceSpec>,
  nameSchema: SchemaNamer,
): SnapshotNode[] {
  const found: SnapshotSource[] = [];
  const foldersOf = (file: string) => {
    const dir = config['snapshot-paths'].find((d) => file.startsWith(`${d}/`));
    return dir ? dirname(file).split('/').slice(dir.split('/').length) : [];
  };
  for (const dir of config['snapshot-paths']) {
    for (const file of listFiles(config.root, dir, ['.sql'])) {
      for (const block of extractSnapshotBlocks(readFileSync(join(config.root, file), 'utf8'), file))
        found.push({ ...block, file, folders: foldersOf(file) });
    }
  }
  for (const spec of specs.values()) {
    if (spec.relation === undefined) continue;
    const body = ymlSnapshotBody(spec.name, spec.relation, spec.file, spec.line);
    found.push({ name: spec.name, file: spec.file, line: spec.line, body, folders: foldersOf(spec.file) });
  }
  for (const spec of specs.values()) {
    if (spec.relation === undefined && !found.some((f) => f.name === spec.name)) {
      throw new ProjectError(
        spec.file,
        spec.line,
        `properties for snapshot '${spec.name}', but no {% snapshot ${spec.name} %} block under ` +
          `${config['snapshot-paths'].join(', ')}/: add the block, or give the entry relation: ref('...')`,
      );
    }
  }
  return found.map((source) => parseSnapshot(config, engine, vars, source, specs.get(source.name), nameSchema));
}

function parseSnapshot(
  config: ProjectConfig,
  engine: TemplateEngine,
  vars: Record<string, unknown>,
  { name, file, line, body, folders }: SnapshotSource,
  spec: ResourceSpec | undefined,
  nameSchema: SchemaNamer,
): SnapshotNode {
  const template = engine.compile(body, file);
  const { hooks, inline, refs, sources } = parseHooks(file, body, vars, name);
  engine.render(template, file, body, hooks);
  const inlineLine = lineOf(body, 'config(');
  const layers: [Record<string, unknown>, string, number][] = [
    [folderConfig(config.snapshots, config.name, folders, SNAPSHOT_CONFIG_KEYS), basename(config.file), 1],
    [spec?.config ?? {}, spec?.file ?? file, spec?.line ?? line],
    [inline, file, inlineLine],
  ];
  let merged: Record<string, unknown> = {};
  for (const [layer, where, at] of layers) {
    const checked = checkConfig(snapshotConfigSchema, layer);
    if (!checked.ok) throw new ProjectError(where, at, `snapshot '${name}': ${checked.problem.message}`);
    merged = { ...merged, ...checked.value };
  }
  // Rules across keys name the layer that configures the snapshot most closely.
  const [, where, at] = Object.keys(inline).length ? layers[2] : spec ? layers[1] : [undefined, file, line];
  const resolved = resolveSnapshotConfig(name, merged, (custom) => nameSchema(custom, 'snapshots'), where, at);
  const tags = unique([...folders, ...resolved.config.tags]);
  return {
    resourceType: 'snapshot',
    uniqueId: `snapshot.${config.name}.${name}`,
    name,
    path: file,
    line,
    fqn: [config.name, ...folders, name],
    tags,
    dependsOn: [],
    checksum: sha(body + JSON.stringify(resolved.config)),
    description: resolved.config.description ?? spec?.description,
    columns: columnDocs(spec),
    config: { ...resolved.config, tags },
    metaColumns: resolved.metaColumns,
    rawSql: body,
    template,
    refs,
    sources,
    relation: new Relation(resolved.config.schema, resolved.config.alias),
  };
}

const GENERIC_TESTS = [
  'unique',
  'not_null',
  'accepted_values',
  'relationships',
  'expression_is_true',
  'unique_combination_of_columns',
  'accepted_range',
] as const;

/** What a generic test needs of the loaded project: the project's own tests, vars, and what refs resolve to. */
interface TestParse {
  engine: TemplateEngine;
  vars: Record<string, unknown>;
  byName: Map<string, GraphNode>;
  sources: Map<string, SourceTable>;
}

function genericTest(
  config: ProjectConfig,
  parentId: string,
  parentName: string,
  spec: TestSpec,
  parse: TestParse,
): TestNode {
  // As in dbt, a project's own test of a built-in's name replaces the built-in.
  const custom = parse.engine.genericTests.get(spec.testName);
  if (!custom && !(GENERIC_TESTS as readonly string[]).includes(spec.testName)) {
    const known = [...GENERIC_TESTS, ...parse.engine.genericTests.keys()];
    throw new ProjectError(
      spec.file,
      spec.line,
      `unknown test '${spec.testName}'.${didYouMean(spec.testName, known)} ` +
        `Generic tests: ${known.join(', ')}; or define it with {% test ${spec.testName}(model, column_name) %} ` +
        'in macros/ or tests/generic/, or write a singular test in tests/data/*.sql.',
    );
  }
  const column = spec.column ?? (spec.args.column_name as string | undefined);
  const dependsOn = [parentId];
  let call: CustomTestCall | undefined;
  if (custom) call = customTestCall(spec, custom, column, parentName, parse, dependsOn);
  else checkBuiltinTest(spec, parse.byName, dependsOn);
  // A config() call in the test's block sets defaults that the yml entry overrides, as in dbt.
  const checked = checkConfig(testConfigSchema, { ...call?.config, ...spec.config });
  if (!checked.ok) throw new ProjectError(spec.file, spec.line, `test '${spec.testName}': ${checked.problem.message}`);
  const suffix =
    spec.testName === 'expression_is_true' || spec.testName === 'unique_combination_of_columns'
      ? `_${sha(JSON.stringify(spec.args.expression ?? spec.args.combination_of_columns)).slice(0, 8)}`
      : '';
  const name = spec.name ?? `${spec.testName}_${parentName}${column ? `_${column}` : ''}${suffix}`;
  return {
    resourceType: 'test',
    uniqueId: `test.${config.name}.${name}`,
    name,
    path: spec.file,
    line: spec.line,
    fqn: [config.name, name],
    tags: (checked.value.tags as string[]) ?? [],
    dependsOn: unique(parentId.startsWith('source.') ? dependsOn.filter((d) => d !== parentId) : dependsOn),
    checksum: sha(JSON.stringify(spec)),
    columns: {},
    config: testConfig(checked.value),
    testName: spec.testName,
    kwargs: { ...spec.args, __parent: parentId },
    column,
    attachedTo: parentId,
    ...(call && { rawSql: call.rawSql, template: call.template }),
  };
}

/** Checks a built-in test's arguments; a relationships test also depends on its `to` model. */
function checkBuiltinTest(spec: TestSpec, byName: Map<string, GraphNode>, dependsOn: string[]): void {
  const need = (arg: string) => {
    if (spec.args[arg] === undefined)
      throw new ProjectError(spec.file, spec.line, `test '${spec.testName}' needs the argument '${arg}'.`);
  };
  if (
    (spec.testName === 'unique' ||
      spec.testName === 'not_null' ||
      spec.testName === 'accepted_values' ||
      spec.testName === 'relationships') &&
    !spec.column &&
    !spec.args.column_name
  ) {
    throw new ProjectError(
      spec.file,
      spec.line,
      `test '${spec.testName}' belongs under a column (columns: - name: ... data_tests:) or needs column_name.`,
    );
  }
  if (spec.testName === 'accepted_values') need('values');
  if (spec.testName === 'expression_is_true') need('expression');
  if (spec.testName === 'unique_combination_of_columns') need('combination_of_columns');
  if (spec.testName === 'accepted_range' && spec.args.min_value === undefined && spec.args.max_value === undefined) {
    throw new ProjectError(spec.file, spec.line, `test 'accepted_range' needs min_value, max_value or both.`);
  }
  if (spec.testName === 'relationships') {
    need('to');
    need('field');
    const m = /^\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*$/.exec(String(spec.args.to));
    if (!m)
      throw new ProjectError(
        spec.file,
        spec.line,
        `relationships: 'to' must be "ref('model_name')", got ${JSON.stringify(spec.args.to)}.`,
      );
    dependsOn.push(resolveRef(m[1], spec.file, spec.line, byName).uniqueId);
  }
}

/** A yml test argument that is a ref() or source() call, which the test's macro receives as the relation. */
const RELATION_ARG = /^\s*(ref|source)\(\s*(['"])[\w.-]+\2(\s*,\s*(['"])[\w.-]+\4)?\s*\)\s*$/;

interface CustomTestCall {
  rawSql: string;
  template: nunjucks.Template;
  config: Record<string, unknown>;
}

/**
 * A project's own generic test: the call of its macro as dbt makes it (`model`, `column_name` when the macro takes
 * it, the yml arguments), compiled now; rendered once as at parse time to find the models its arguments and
 * body ref().
 */
function customTestCall(
  spec: TestSpec,
  macro: GenericTestMacro,
  column: string | undefined,
  parentName: string,
  parse: TestParse,
  dependsOn: string[],
): CustomTestCall {
  const where = `({% test ${macro.name} %} in ${macro.file}:${macro.line})`;
  const params = new Set(macro.params.map((p) => p.name));
  const { column_name: _column, ...args } = spec.args;
  for (const key of Object.keys(args)) {
    if (key === 'model') {
      throw new ProjectError(
        spec.file,
        spec.line,
        `test '${spec.testName}': 'model' is reserved for the tested relation.`,
      );
    }
    if (!params.has(key)) {
      throw new ProjectError(
        spec.file,
        spec.line,
        `test '${spec.testName}' takes no argument '${key}'.${didYouMean(key, params)} ${where}`,
      );
    }
  }
  for (const p of macro.params) {
    const given = p.name === 'model' || (p.name === 'column_name' ? column !== undefined : args[p.name] !== undefined);
    if (p.required && !given) {
      const how = p.name === 'column_name' ? ' (list the test under a column, or give column_name)' : '';
      throw new ProjectError(
        spec.file,
        spec.line,
        `test '${spec.testName}' needs the argument '${p.name}'${how}. ${where}`,
      );
    }
  }
  const kwargs = [
    'model=__dpm_model',
    ...(params.has('column_name') ? ['column_name=__dpm_column_name'] : []),
    ...Object.entries(args).map(([k, v]) =>
      typeof v === 'string' && RELATION_ARG.test(v) ? `${k}=${v.trim()}` : `${k}=__dpm_args["${k}"]`,
    ),
  ];
  const rawSql = `{{ test_${macro.name}(${kwargs.join(', ')}) }}`;
  const template = parse.engine.compile(rawSql, spec.file);
  const config: Record<string, unknown> = {};
  parse.engine.render(
    template,
    spec.file,
    rawSql,
    {
      ref: (name) => {
        dependsOn.push(resolveRef(name, spec.file, spec.line, parse.byName).uniqueId);
        return new Relation('__parse__', name);
      },
      source: (s, t) => resolveSource(s, t, spec.file, spec.line, parse.sources).relation,
      config: (kw) => Object.assign(config, normalizeConfigKeys(kw)),
      variable: (n, fallback, has) => readVar(parse.vars, n, fallback, has, spec.file, rawSql),
      isIncremental: () => false,
      self: () => undefined,
      extra: { execute: false },
    },
    { __dpm_model: new Relation('__parse__', parentName), __dpm_column_name: column ?? null, __dpm_args: args },
  );
  return { rawSql, template, config };
}

function parseSingularTest(
  config: ProjectConfig,
  engine: TemplateEngine,
  vars: Record<string, unknown>,
  file: string,
  byName: Map<string, GraphNode>,
  sources: Map<string, SourceTable>,
): TestNode {
  const rawSql = readFileSync(join(config.root, file), 'utf8');
  const name = basename(file, '.sql');
  const template = engine.compile(rawSql, file);
  const deps: string[] = [];
  const inline: Record<string, unknown> = {};
  engine.render(template, file, rawSql, {
    ref: (t) => {
      deps.push(resolveRef(t, file, lineOf(rawSql, new RegExp(`ref\\(\\s*['"]${t}['"]`)), byName).uniqueId);
      return new Relation('__parse__', t);
    },
    source: (s, t) => {
      resolveSource(s, t, file, lineOf(rawSql, `source(`), sources);
      return new Relation(s, t);
    },
    config: (kw) => Object.assign(inline, normalizeConfigKeys(kw)),
    variable: (n, fallback, has) => readVar(vars, n, fallback, has, file, rawSql),
    isIncremental: () => false,
    self: () => undefined,
    extra: { execute: false },
  });
  const checked = checkConfig(testConfigSchema, inline);
  if (!checked.ok)
    throw new ProjectError(file, lineOf(rawSql, 'config('), `test '${name}': ${checked.problem.message}`);
  return {
    resourceType: 'test',
    uniqueId: `test.${config.name}.${name}`,
    name,
    path: file,
    line: 1,
    fqn: [config.name, name],
    tags: (checked.value.tags as string[]) ?? [],
    dependsOn: unique(deps),
    checksum: sha(rawSql),
    columns: {},
    config: testConfig(checked.value),
    testName: 'singular',
    kwargs: {},
    rawSql,
    template,
  };
}

/** Throws a CycleError that prints the cycle as a -> b -> a with each node's file. */
/** A data test's resolved config, generic or singular. */
function testConfig(value: TestConfig): TestNode['config'] {
  return {
    severity: value.severity ?? 'error',
    where: value.where,
    tags: (value.tags as string[]) ?? [],
    enabled: value.enabled ?? true,
  };
}

function assertAcyclic(nodes: Map<string, GraphNode>): void {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string) => {
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) {
      const cycle = [...stack.slice(stack.indexOf(id)), id].map((n) => {
        const node = nodes.get(n)!;
        return `${node.name} (${node.path})`;
      });
      throw new CycleError(`dependency cycle: ${cycle.join(' -> ')}. Break it by removing one of these ref() calls.`);
    }
    state.set(id, 1);
    stack.push(id);
    for (const dep of nodes.get(id)?.dependsOn ?? []) if (nodes.has(dep)) visit(dep);
    stack.pop();
    state.set(id, 2);
  };
  for (const id of nodes.keys()) visit(id);
}
