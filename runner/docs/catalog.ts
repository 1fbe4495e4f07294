// What the docs site shows, in one neutral shape built either from the loaded project or from a
// manifest.json written earlier (both carry the same node fields, see runner/artifacts/artifacts.ts).

export type DocKind = 'model' | 'seed' | 'source';

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
    else if (n.resourceType === 'model' || n.resourceType === 'seed') buildable.push(n);
  }
  for (const n of buildable) {
    const compiled = n.resourceType === 'model' ? input.compiled?.(n) : undefined;
    byId.set(n.uniqueId, {
      id: n.uniqueId,
      name: n.name,
      kind: n.resourceType as DocKind,
      relation: String(n.relation ?? n.name),
      group: n.resourceType === 'seed' ? 'seed' : groupOf(n),
      path: n.path,
      description: n.description,
      materialized: n.resourceType === 'model' ? String(n.config?.materialized ?? '') || undefined : 'seed',
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
  const kindOrder: Record<DocKind, number> = { source: 0, seed: 1, model: 2 };
  const nodes = [...byId.values()].sort(
    (a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.name.localeCompare(b.name),
  );
  for (const n of nodes) {
    n.parents.sort();
    n.children.sort();
  }
  return { projectName: input.projectName, generatedAt: input.generatedAt ?? new Date().toISOString(), nodes };
}

/** A manifest.json object (as `dpm compile`/`dpm build` write it) to the catalog. */
export function catalogFromManifest(
  manifest: unknown,
  compiled?: (node: NodeLike) => { sql?: string; error?: string } | undefined,
): DocsCatalog {
  const m = manifest as {
    metadata?: { project_name?: string };
    nodes?: Record<string, NodeLike>;
    sources?: Record<string, SourceLike>;
  };
  if (!m || typeof m !== 'object' || !m.nodes) throw new Error('not a dpm manifest: it has no "nodes" object');
  return buildCatalog({
    projectName: m.metadata?.project_name ?? 'dpm',
    nodes: Object.values(m.nodes),
    sources: Object.values(m.sources ?? {}),
    compiled,
  });
}
