import { daysBetween } from '../dates.ts';
import { readVar, type Project } from './load.ts';
import type { GraphNode, ModelNode, SeedNode, SourceTable, TestNode } from './nodes.ts';
import type { Relation, RenderHooks } from './templating.ts';
import { genericTestSql } from '../datatests/generic-sql.ts';

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
}

export function relationKey(r: Relation): string {
  return `${r.schema}.${r.identifier}`;
}

export function isIncrementalRun(node: ModelNode, ctx: CompileContext): boolean {
  const fullRefresh = node.config.full_refresh ?? ctx.fullRefresh;
  return node.config.materialized === 'incremental' && !fullRefresh && ctx.existing.has(relationKey(node.relation));
}

/** Renders a model or test to SQL; ephemeral refs become CTEs injected at the top. */
export function compileNode(node: GraphNode, ctx: CompileContext): string {
  if (node.resourceType === 'seed') return '';
  if (node.resourceType === 'test' && node.testName !== 'singular') return compileGenericTest(node, ctx);
  const ctes = new Map<string, string>();
  const sql = renderWithCtes(node as ModelNode | TestNode, ctx, ctes);
  return injectCtes(sql, ctes);
}

function hooksFor(node: ModelNode | TestNode, ctx: CompileContext, ctes: Map<string, string>): RenderHooks {
  const { project } = ctx;
  const byName = (name: string) =>
    [...project.nodes.values()].find((n) => n.name === name && n.resourceType !== 'test')!;
  return {
    ref: (name) => {
      const target = byName(name) as ModelNode;
      if (target.resourceType === 'model' && target.config.materialized === 'ephemeral') {
        if (!ctes.has(target.relation.cte!)) {
          // Inner ephemerals are added first so the CTE list stays in dependency order.
          const body = renderWithCtes(target, ctx, ctes);
          ctes.set(target.relation.cte!, body);
        }
      }
      return target.relation;
    },
    source: (s, t) => project.sources.get(`${s}.${t}`)!.relation,
    config: () => undefined,
    variable: (n, fallback, has) => readVar(project.vars, n, fallback, has, node.path, node.rawSql ?? ''),
    isIncremental: () => node.resourceType === 'model' && isIncrementalRun(node, ctx),
    self: () => (node.resourceType === 'model' ? node.relation : undefined),
    extra: {
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
    },
  };
}

function renderWithCtes(node: ModelNode | TestNode, ctx: CompileContext, ctes: Map<string, string>): string {
  return ctx.project.engine
    .render(node.template!, node.path, node.rawSql!, hooksFor(node, ctx, ctes))
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
    return n.relation;
  };
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
