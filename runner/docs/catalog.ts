// What the docs site shows, in one neutral shape built either from the loaded project or from a
// manifest.json written earlier (dbt's manifest v12, see runner/artifacts/manifest.ts).
import { z } from 'zod';

export type DocKind = 'model' | 'snapshot' | 'seed' | 'source';

export interface DocColumn {
  name: string;
  description?: string;
  dataType?: string;
  tests: string[];
}

export interface DocNode {
  id: string;
  name: string;
  kind: DocKind;
  /** schema.table in the database. */
  relation: string;
  /** The folder a model lives in (staging, features, ...) or the source's name; colours the graph. */
  group: string;
  path?: string;
  description?: string;
  materialized?: string;
  tags: string[];
  columns: DocColumn[];
  /** Tests on the node as a whole (not on one column). */
  tests: string[];
  rawSql?: string;
  compiledSql?: string;
  compileError?: string;
  parents: string[];
  children: string[];
}

export interface DocsCatalog {
  projectName: string;
  generatedAt: string;
  nodes: DocNode[];
}

/** The fields of project nodes and manifest entries that the docs read; everything else is ignored. */
export interface NodeLike {
  uniqueId: string;
  resourceType: string;
  name: string;
  path?: string;
  description?: string;
  tags?: string[];
  dependsOn?: string[];
  columns?: Record<string, { name: string; description?: string; data_type?: string }>;
  config?: Record<string, unknown>;
  relation?: unknown;
  rawSql?: string;
  sources?: { source: string; table: string }[];
  testName?: string;
  kwargs?: Record<string, unknown>;
  column?: string;
  attachedTo?: string;
}

export interface SourceLike {
  uniqueId: string;
  source: string;
  table: string;
  relation: unknown;
  description?: string;
  columns?: Record<string, { name: string; description?: string; data_type?: string }>;
}

function argText(v: unknown): string {
  if (typeof v === 'string') return /^[A-Za-z_][\w.()' ]*$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** `unique`, `accepted_values(values: ["a","b"])`, with `(warn)` when it only warns. */
export function describeTest(test: NodeLike): string {
  const args = Object.entries(test.kwargs ?? {}).filter(
    ([k]) => !k.startsWith('__') && k !== 'column_name' && k !== 'model',
  );
  const name = test.testName === 'singular' || !test.testName ? test.name : test.testName;
  const severity = test.config?.severity === 'warn' ? ' (warn)' : '';
  return `${name}${args.length ? `(${args.map(([k, v]) => `${k}: ${argText(v)}`).join(', ')})` : ''}${severity}`;
}

const groupOf = (n: NodeLike) => {
  const parts = (n.path ?? '').split('/');
  return parts.length > 2 ? parts[1] : String(n.config?.schema ?? n.resourceType);
};

/**
 * Joins models, seeds, sources and tests into one graph. Sources are parents of the models that
 * select from them (the runner's DAG leaves them out because they are never built).
 */
export function buildCatalog(input: {
  projectName: string;
  nodes: Iterable<NodeLike>;
  sources: Iterable<SourceLike>;
  compiled?: (node: NodeLike) => { sql?: string; error?: string } | undefined;
  generatedAt?: string;
}): DocsCatalog {
  const byId = new Map<string, DocNode>();
  const sourceIds = new Map<string, string>();
  for (const s of input.sources) {
    sourceIds.set(`${s.source}.${s.table}`, s.uniqueId);
    byId.set(s.uniqueId, {
      id: s.uniqueId,
      name: `${s.source}.${s.table}`,
      kind: 'source',
      relation: String(s.relation),
      group: 'source',
      description: s.description,
      tags: [],
      columns: Object.values(s.columns ?? {}).map((c) => ({
        name: c.name,
        description: c.description,
        dataType: c.data_type,
        tests: [],
      })),
      tests: [],
      parents: [],
      children: [],
    });
  }
  const tests: NodeLike[] = [];
  const buildable: NodeLike[] = [];
  for (const n of input.nodes) {
    if (n.resourceType === 'test') tests.push(n);
    else if (['model', 'snapshot', 'seed'].includes(n.resourceType)) buildable.push(n);
  }
  for (const n of buildable) {
    const compiled = n.resourceType === 'model' || n.resourceType === 'snapshot' ? input.compiled?.(n) : undefined;
    byId.set(n.uniqueId, {
      id: n.uniqueId,
      name: n.name,
      kind: n.resourceType as DocKind,
      relation: String(n.relation ?? n.name),
      group: n.resourceType === 'model' ? groupOf(n) : n.resourceType,
      path: n.path,
      description: n.description,
      materialized: n.resourceType === 'model' ? String(n.config?.materialized ?? '') || undefined : n.resourceType,
      tags: n.tags ?? [],
      columns: Object.values(n.columns ?? {}).map((c) => ({
        name: c.name,
        description: c.description,
        dataType: c.data_type,
        tests: [],
      })),
      tests: [],
      rawSql: n.rawSql,
      compiledSql: compiled?.sql,
      compileError: compiled?.error,
      parents: [],
      children: [],
    });
  }
  const link = (parent: string, child: string) => {
    const p = byId.get(parent);
    const c = byId.get(child);
    if (!p || !c || c.parents.includes(parent)) return;
    c.parents.push(parent);
    p.children.push(child);
  };
  for (const n of buildable) {
    for (const dep of n.dependsOn ?? []) link(dep, n.uniqueId);
    for (const s of n.sources ?? []) {
      const id = sourceIds.get(`${s.source}.${s.table}`);
      if (id) link(id, n.uniqueId);
    }
  }
  for (const t of tests) {
    const owner =
      byId.get(t.attachedTo ?? t.dependsOn?.[0] ?? '') ??
      (t.kwargs?.__parent ? byId.get(String(t.kwargs.__parent)) : undefined);
    if (!owner) continue;
    const text = describeTest(t);
    if (t.column) {
      let col = owner.columns.find((c) => c.name === t.column);
      if (!col) {
        col = { name: t.column, tests: [] };
        owner.columns.push(col);
      }
      col.tests.push(text);
    } else owner.tests.push(text);
  }
  const kindOrder: Record<DocKind, number> = { source: 0, seed: 1, snapshot: 2, model: 3 };
  const nodes = [...byId.values()].sort(
    (a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.name.localeCompare(b.name),
  );
  for (const n of nodes) {
    n.parents.sort();
    n.children.sort();
  }
  return { projectName: input.projectName, generatedAt: input.generatedAt ?? new Date().toISOString(), nodes };
}

const manifestColumns = z
  .record(
    z.string(),
    z.looseObject({ name: z.string(), description: z.string().optional(), data_type: z.string().nullish() }),
  )
  .optional();

// The keys the docs read from dbt's manifest v12, which dpm writes and dbt itself too.
const manifestShape = z.looseObject({
  metadata: z.looseObject({ project_name: z.string().nullish() }),
  nodes: z.record(
    z.string(),
    z.looseObject({
      unique_id: z.string(),
      resource_type: z.string(),
      name: z.string(),
      original_file_path: z.string(),
      schema: z.string().nullable(),
      alias: z.string(),
      relation_name: z.string().nullish(),
      description: z.string().optional(),
      tags: z.array(z.string()).optional(),
      columns: manifestColumns,
      config: z.record(z.string(), z.unknown()).optional(),
      depends_on: z.looseObject({ nodes: z.array(z.string()).optional() }).optional(),
      raw_code: z.string().optional(),
      compiled_code: z.string().nullish(),
      sources: z.array(z.array(z.string())).optional(),
      column_name: z.string().nullish(),
      attached_node: z.string().nullish(),
      test_metadata: z
        .looseObject({ name: z.string().optional(), kwargs: z.record(z.string(), z.unknown()).optional() })
        .nullish(),
    }),
  ),
  sources: z.record(
    z.string(),
    z.looseObject({
      unique_id: z.string(),
      source_name: z.string(),
      name: z.string(),
      schema: z.string().nullable(),
      identifier: z.string(),
      description: z.string().optional(),
      columns: manifestColumns,
    }),
  ),
});
type ManifestShape = z.infer<typeof manifestShape>;

function columnsOf(columns: z.infer<typeof manifestColumns>): NodeLike['columns'] {
  return Object.fromEntries(
    Object.entries(columns ?? {}).map(([k, c]) => [
      k,
      { name: c.name, description: c.description || undefined, data_type: c.data_type ?? undefined },
    ]),
  );
}

const qualified = (schema: string | null, name: string) => [schema, name].filter((p) => p !== null).join('.');

function nodeOf(n: ManifestShape['nodes'][string]): NodeLike {
  return {
    uniqueId: n.unique_id,
    resourceType: n.resource_type,
    name: n.name,
    path: n.original_file_path,
    description: n.description || undefined,
    tags: n.tags,
    dependsOn: n.depends_on?.nodes ?? [],
    columns: columnsOf(n.columns),
    config: n.config,
    // An ephemeral model has no relation (relation_name null); the catalog then shows its name.
    relation: n.relation_name === null ? undefined : qualified(n.schema, n.alias),
    rawSql: n.raw_code || undefined,
    sources: (n.sources ?? []).map(([source, table]) => ({ source, table })),
    testName: n.test_metadata?.name ?? (n.resource_type === 'test' ? 'singular' : undefined),
    kwargs: n.test_metadata?.kwargs,
    column: n.column_name ?? undefined,
    attachedTo: n.attached_node ?? undefined,
  };
}

/** A manifest.json object (dbt's manifest v12, as `dpm compile`/`dpm build` or dbt write it) to the catalog. */
export function catalogFromManifest(
  manifest: unknown,
  compiled?: (node: NodeLike) => { sql?: string; error?: string } | undefined,
): DocsCatalog {
  const parsed = manifestShape.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not a dbt manifest: ${issue.path.join('.')}: ${issue.message}`);
  }
  const m = parsed.data;
  return buildCatalog({
    projectName: m.metadata.project_name ?? 'dpm',
    nodes: Object.values(m.nodes).map(nodeOf),
    sources: Object.values(m.sources).map((s) => ({
      uniqueId: s.unique_id,
      source: s.source_name,
      table: s.name,
      relation: qualified(s.schema, s.identifier),
      description: s.description || undefined,
      columns: columnsOf(s.columns),
    })),
    // The SQL this manifest's run compiled, where it kept it; otherwise what `compiled` finds.
    compiled: (node) => {
      const code = m.nodes[node.uniqueId]?.compiled_code;
      return code ? { sql: code } : compiled?.(node);
    },
  });
}
