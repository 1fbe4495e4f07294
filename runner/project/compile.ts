import { daysBetween } from '../dates.ts';
import { UsageError } from '../errors.ts';
import { readVar, type Project } from './load.ts';
import type { GraphNode, ModelNode, SeedNode, SnapshotNode, SourceTable, TestNode } from './nodes.ts';
import type { Relation, RenderHooks } from './templating.ts';
import { genericTestSql } from '../datatests/generic-sql.ts';
import type { QueryReplay, TemplateQueries } from './query-replay.ts';
import type { QueryTable } from './query-table.ts';

export interface CompileContext {
  project: Project;
  invocationId: string;
  runStartedAt: string;
  targetName: string;
  /** The run's --threads, for `target.threads`. */
  threads?: number;
  /** The database is a Citus cluster: `target.distributed`, for SQL that must differ there. */
  distributed?: boolean;
  fullRefresh: boolean;
  /** Relations (`schema.name`) that exist in the database now; is_incremental() needs this. */
  existing: Map<string, 'table' | 'view' | 'materialized_view'>;
  /** For microbatch models: the half-open [start, end) window of the batch being built. */
  batch?: { start: string; end: string };
  /** A unit test's stand-ins while its model renders (runner/unittests/); none otherwise. */
  inputs?: RenderInputs;
  /** --defer: unselected nodes missing from the database, by unique id, and the --state relation read instead. */
  deferred?: Map<string, Relation>;
  /**
   * The node's run_query() results, filled by compileNodeAsync; the compiles that follow read them. Without it a
   * template that queries fails: the command has no database.
   */
  queries?: QueryReplay;
}

/** What a unit test changes in its model's template: given rows for ref()/source()/this, vars and macros. */
export interface RenderInputs {
  ref(name: string): Relation;
  source(source: string, table: string): Relation;
  self: Relation;
  vars: Record<string, unknown>;
  /** Names the template sees instead of the project's macros and globals (`is_incremental`, `env_var`, ...). */
  globals: Record<string, unknown>;
}

export function relationKey(r: Relation): string {
  return `${r.schema}.${r.identifier}`;
}

export function isIncrementalRun(node: ModelNode, ctx: CompileContext): boolean {
  const fullRefresh = node.config.full_refresh ?? ctx.fullRefresh;
  return node.config.materialized === 'incremental' && !fullRefresh && ctx.existing.has(relationKey(node.relation));
}

/**
 * dbt's --defer: a node that is not selected and was never built in this database is read where the --state
 * manifest recorded it. A node that exists here is read here (dbt without --favor-state); ephemeral models are
 * inlined as always.
 */
export function deferredRelations(
  project: Project,
  selected: Set<string>,
  existing: CompileContext['existing'],
  state: Map<string, { database: string | null; relation: Relation }>,
  database: string | null,
): Map<string, Relation> {
  const out = new Map<string, Relation>();
  for (const [id, recorded] of state) {
    const node = project.nodes.get(id);
    if (!node || selected.has(id) || node.resourceType === 'test' || node.resourceType === 'unit_test') continue;
    if (existing.has(relationKey(node.relation))) continue;
    if (node.resourceType === 'model' && node.config.materialized === 'ephemeral') continue;
    if (recorded.database !== null && database !== null && recorded.database !== database) {
      throw new UsageError(
        `--defer: ${node.name} is missing here and the --state manifest has it in database '${recorded.database}', ` +
          `but this run is on '${database}' and PostgreSQL cannot read across databases. Build ${node.name} here ` +
          `(select it) or run on a target in database '${recorded.database}'.`,
      );
    }
    out.set(id, recorded.relation);
  }
  return out;
}

/** Nodes whose SQL is a template of their own. */
type RenderedNode = ModelNode | SnapshotNode | TestNode;

/** Renders a model, snapshot or test to SQL; ephemeral refs become CTEs injected at the top. */
export function compileNode(node: GraphNode, ctx: CompileContext): string {
  // A unit test's SQL takes its inputs' column types from the database: runner/unittests/ builds it when it runs.
  if (node.resourceType === 'seed' || node.resourceType === 'unit_test') return '';
  ctx.queries?.beginRender();
  if (node.resourceType === 'test' && node.testName !== 'singular') return compileGenericTest(node, ctx);
  const ctes = new Map<string, string>();
  const sql = renderWithCtes(node as RenderedNode, ctx, ctes);
  return injectCtes(sql, ctes);
}

/**
 * compileNode for a run with a database: renders until every query the template asks for has run (query-replay.ts)
 * and prints its log() lines once. The results stay in `ctx.queries`, so the compiles that follow (the
 * materialization's) render the same SQL.
 */
export function compileNodeAsync(
  node: GraphNode,
  ctx: CompileContext & { queries: QueryReplay },
  queries: TemplateQueries,
): Promise<string> {
  return ctx.queries.render(node.path, () => compileNode(node, ctx), queries);
}

function hooksFor(node: RenderedNode, ctx: CompileContext, ctes: Map<string, string>): RenderHooks {
  const { project } = ctx;
  const byName = (name: string) =>
    [...project.nodes.values()].find((n) => n.name === name && n.resourceType !== 'test')!;
  return {
    ref: (name) => {
      if (ctx.inputs) return ctx.inputs.ref(name);
      const target = byName(name) as ModelNode;
      if (target.resourceType === 'model' && target.config.materialized === 'ephemeral') {
        if (!ctes.has(target.relation.cte!)) {
          // Inner ephemerals are added first so the CTE list stays in dependency order.
          const body = renderWithCtes(target, ctx, ctes);
          ctes.set(target.relation.cte!, body);
        }
      }
      return ctx.deferred?.get(target.uniqueId) ?? target.relation;
    },
    source: (s, t) => ctx.inputs?.source(s, t) ?? project.sources.get(`${s}.${t}`)!.relation,
    config: () => undefined,
    variable: (n, fallback, has) => {
      const vars = ctx.inputs ? { ...project.vars, ...ctx.inputs.vars } : project.vars;
      return readVar(vars, n, fallback, has, node.path, node.rawSql ?? '');
    },
    isIncremental: () => node.resourceType === 'model' && isIncrementalRun(node, ctx),
    self: () => ctx.inputs?.self ?? (node.resourceType === 'test' ? undefined : node.relation),
    runQuery: (sql) => queryOf(ctx, sql),
    log: (message, info) => ctx.queries?.log(message, info),
    extra: runGlobals(ctx),
  };
}

/** run_query() for a run: the node's replayed result; a command without a database cannot answer it. */
export function queryOf(ctx: CompileContext, sql: string): QueryTable {
  if (!ctx.queries) {
    throw new Error(
      'run_query() needs a database, and this command renders the project without one: ' +
        'dpm compile, run, build and run-operation give it one',
    );
  }
  return ctx.queries.lookup(sql);
}

/** The globals a template sees when it runs rather than while it is parsed: target, execute, batch window. */
export function runGlobals(ctx: CompileContext): Record<string, unknown> {
  return {
    batch_start: ctx.batch?.start ?? null,
    batch_end: ctx.batch?.end ?? null,
    batch_days: ctx.batch ? daysBetween(ctx.batch.start, ctx.batch.end) : null,
    run_started_at: ctx.runStartedAt,
    invocation_id: ctx.invocationId,
    target_name: ctx.targetName,
    // dbt's target object; PGlite speaks PostgreSQL, so both targets are of type postgres.
    target: {
      name: ctx.targetName,
      type: 'postgres',
      schema: 'public',
      threads: ctx.threads ?? 1,
      distributed: ctx.distributed ?? false,
    },
    // dbt renders with execute false while parsing and true when it runs the node.
    execute: true,
  };
}

function renderWithCtes(node: RenderedNode, ctx: CompileContext, ctes: Map<string, string>): string {
  return ctx.project.engine
    .render(node.template!, node.path, node.rawSql!, hooksFor(node, ctx, ctes), ctx.inputs?.globals)
    .trim()
    .replace(/;\s*$/, '');
}

function injectCtes(sql: string, ctes: Map<string, string>): string {
  if (ctes.size === 0) return sql;
  const list = [...ctes].map(([name, body]) => `${name} as (\n${body}\n)`).join(',\n');
  const leading = /^((?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*)with\s+(recursive\s+)?/i.exec(sql);
  if (leading) return `${leading[1]}with ${leading[2] ?? ''}${list},\n${sql.slice(leading[0].length)}`;
  return `with ${list}\n${sql}`;
}

function compileGenericTest(node: TestNode, ctx: CompileContext): string {
  const { project } = ctx;
  const parentId = node.kwargs.__parent as string;
  const parent =
    (project.nodes.get(parentId) as ModelNode | SeedNode | undefined) ??
    [...project.sources.values()].find((s) => s.uniqueId === parentId);
  if (!parent) throw new Error(`test ${node.name}: parent ${parentId} vanished`);
  const ctes = new Map<string, string>();
  const relationOf = (n: ModelNode | SeedNode | SourceTable): Relation => {
    if ('resourceType' in n && n.resourceType === 'model' && n.config.materialized === 'ephemeral') {
      ctes.set(n.relation.cte!, renderWithCtes(n, ctx, ctes));
    }
    return ctx.deferred?.get(n.uniqueId) ?? n.relation;
  };
  if (node.template) {
    // The project's own generic test ({% test %}): its macro renders the query, called as dbt calls it.
    const model = relationOf(parent);
    const { __parent: _parent, ...args } = node.kwargs;
    const sql = project.engine.render(node.template, node.path, node.rawSql!, hooksFor(node, ctx, ctes), {
      __dpm_model: node.config.where ? `(select * from ${model} where ${node.config.where}) as dpm_subject` : model,
      __dpm_column_name: node.column ?? null,
      __dpm_args: args,
    });
    return injectCtes(sql.trim().replace(/;\s*$/, ''), ctes);
  }
  let toRelation: Relation | undefined;
  if (node.testName === 'relationships') {
    const m = /ref\(\s*['"]([^'"]+)['"]/.exec(String(node.kwargs.to))!;
    toRelation = relationOf(
      [...project.nodes.values()].find((n) => n.name === m[1] && n.resourceType !== 'test') as ModelNode | SeedNode,
    );
  }
  const sql = genericTestSql(node, String(relationOf(parent)), toRelation ? String(toRelation) : undefined);
  return injectCtes(sql, ctes);
}
