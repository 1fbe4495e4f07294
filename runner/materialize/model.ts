import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ModelRunError } from '../errors.ts';
import { compileNode, isIncrementalRun, relationKey, type CompileContext } from '../project/compile.ts';
import type { ModelNode } from '../project/nodes.ts';
import { quoteIdent, quoteLiteral } from '../project/templating.ts';
import { columnsOf, columnsOfRelation, qualified, type ColumnInfo } from './relations.ts';
import { swapIntoPlace } from './swap.ts';
import { runVerbatim } from '../db/pg-connection.ts';
import { batchWindows, type DateWindow } from './batches.ts';

export interface MaterializeResult {
  rows: number | null;
  message: string;
  /** Compiled SQL as it ran (for target/run/...). */
  sql: string;
}

export interface MaterializeContext extends CompileContext {
  knex: Knex;
  /** Short per-run token that makes temporary names unique, so two runs never clobber each other. */
  runToken: string;
  startDate?: string;
  endDate?: string;
}

/** Temporary and backup names stay within PostgreSQL's 63-byte identifier limit. */
export function scratchName(alias: string, kind: 'tmp' | 'old', token: string): string {
  const base =
    alias.length > 40 ? `${alias.slice(0, 32)}_${createHash('md5').update(alias).digest('hex').slice(0, 7)}` : alias;
  return `${base}__dpm_${kind}_${token}`;
}

/**
 * Index names outlive the swap, so a new build's must differ from the live table's: the run token is hashed
 * in (a prefix of the scratch name would cut the token short, and rebuilds would then collide).
 */
export function indexName(alias: string, index: unknown, token: string): string {
  return `${alias.slice(0, 40)}_${createHash('md5')
    .update(JSON.stringify(index) + token)
    .digest('hex')
    .slice(0, 12)}`;
}

export async function materializeModel(node: ModelNode, ctx: MaterializeContext): Promise<MaterializeResult> {
  await runHooks(node, ctx, 'pre_hook');
  let result: MaterializeResult;
  switch (node.config.materialized) {
    case 'ephemeral':
      result = { rows: null, message: 'ephemeral (inlined as a CTE)', sql: compileNode(node, ctx) };
      break;
    case 'view':
      result = await buildView(node, ctx);
      break;
    case 'table':
      result = await buildTable(node, ctx, compileNode(node, ctx));
      break;
    case 'incremental':
      result = await buildIncremental(node, ctx);
      break;
  }
  await runHooks(node, ctx, 'post_hook');
  return result;
}

async function runHooks(node: ModelNode, ctx: MaterializeContext, which: 'pre_hook' | 'post_hook'): Promise<void> {
  for (const [i, hook] of (node.config[which] ?? []).entries()) {
    const template = ctx.project.engine.compile(hook, `${node.path} (${which} ${i + 1})`);
    const sql = ctx.project.engine.render(template, node.path, hook, {
      ref: (name) =>
        ([...ctx.project.nodes.values()].find((n) => n.name === name && n.resourceType !== 'test') as ModelNode)
          .relation,
      source: (s, t) => ctx.project.sources.get(`${s}.${t}`)!.relation,
      config: () => undefined,
      variable: (n, fallback) => ctx.project.vars[n] ?? fallback,
      isIncremental: () => isIncrementalRun(node, ctx),
      self: () => node.relation,
      extra: { run_started_at: ctx.runStartedAt, invocation_id: ctx.invocationId, target_name: ctx.targetName },
    });
    try {
      await runVerbatim(ctx.knex, sql);
    } catch (err) {
      throw new ModelRunError(`${which} ${i + 1} of ${node.name} failed: ${(err as Error).message}\n  ${sql}`);
    }
  }
}

async function buildView(node: ModelNode, ctx: MaterializeContext): Promise<MaterializeResult> {
  const sql = compileNode(node, ctx);
  if (ctx.existing.get(relationKey(node.relation)) === 'view' && (await replaceViewInPlace(node, ctx, sql)))
    return { rows: null, message: 'view', sql };
  const tmp = scratchName(node.relation.identifier, 'tmp', ctx.runToken);
  await runVerbatim(ctx.knex, `create view ${qualified(node.relation.schema, tmp)} as\n${sql}`);
  await swapIntoPlace(
    ctx.knex,
    { schema: node.relation.schema, name: tmp },
    node.relation,
    ctx.existing.get(relationKey(node.relation)),
    scratchName(node.relation.identifier, 'old', ctx.runToken),
    (trx) => persistDocs(trx, node, 'view'),
  );
  return { rows: null, message: 'view', sql };
}

/**
 * A view replaced in place keeps the views that depend on it, so none has to be recreated (rebuilding a
 * chain of views stays linear). PostgreSQL refuses the replace when columns are renamed, removed or
 * retyped (42P16); the caller then swaps a new view in and recreates the dependents.
 */
async function replaceViewInPlace(node: ModelNode, ctx: MaterializeContext, sql: string): Promise<boolean> {
  try {
    await ctx.knex.transaction(async (trx) => {
      await runVerbatim(trx, `create or replace view ${String(node.relation)} as\n${sql}`);
      await persistDocs(trx, node, 'view');
    });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '42P16') return false;
    throw err;
  }
}

/** Builds the whole query into a scratch table, indexes it, then swaps it in atomically. */
async function buildTable(node: ModelNode, ctx: MaterializeContext, sql: string): Promise<MaterializeResult> {
  const tmp = scratchName(node.relation.identifier, 'tmp', ctx.runToken);
  const tmpRel = qualified(node.relation.schema, tmp);
  await ctx.knex.raw(`drop table if exists ${tmpRel}`);
  let rows: number;
  try {
    const created = await runVerbatim(ctx.knex, `create table ${tmpRel} as\n${sql}`);
    rows = created.rowCount ?? 0;
    await ctx.knex.raw(`analyze ${tmpRel}${analyzedColumns(node)}`);
    await distribute(ctx, node, tmpRel);
    for (const index of node.config.indexes ?? []) {
      const cols = index.columns.map(quoteIdent).join(', ');
      const name = indexName(node.relation.identifier, index, ctx.runToken);
      await ctx.knex.raw(
        `create ${index.unique ? 'unique ' : ''}index ${quoteIdent(name)} on ${tmpRel}` +
          `${index.type ? ` using ${index.type}` : ''} (${cols})`,
      );
    }
    await swapIntoPlace(
      ctx.knex,
      { schema: node.relation.schema, name: tmp },
      node.relation,
      ctx.existing.get(relationKey(node.relation)),
      scratchName(node.relation.identifier, 'old', ctx.runToken),
      (trx) => persistDocs(trx, node, 'table'),
    );
  } catch (err) {
    await ctx.knex.raw(`drop table if exists ${tmpRel}`).catch(() => undefined);
    throw err;
  }
  ctx.existing.set(relationKey(node.relation), 'table');
  return { rows, message: 'table', sql };
}

/**
 * Fresh tables have no statistics, and without them the planner picks nested loops for downstream joins.
 * Only the columns that later queries join and filter on (keys, event time, indexed columns) are analyzed
 * right away: analyzing every column of a wide feature table costs many times what its keys do. Autovacuum
 * analyzes the rest soon after. A model that declares none of them gets every column analyzed.
 */
function analyzedColumns(node: ModelNode): string {
  const { unique_key, event_time, indexes, distributed_by } = node.config;
  const cols = new Set([
    ...(unique_key ?? []),
    ...(event_time ? [event_time] : []),
    ...(indexes ?? []).flatMap((i) => i.columns),
    ...(distributed_by ? [distributed_by] : []),
  ]);
  return cols.size ? ` (${[...cols].map(quoteIdent).join(', ')})` : '';
}

async function distribute(ctx: MaterializeContext, node: ModelNode, rel: string): Promise<void> {
  const { distributed_by: column, reference } = node.config;
  // Without Citus both are only declarations; the same project runs on plain PostgreSQL.
  if ((!column && !reference) || !ctx.distributed) return;
  if (column) await ctx.knex.raw('select create_distributed_table(?, ?)', [rel, column]);
  else await ctx.knex.raw('select create_reference_table(?)', [rel]);
}

/**
 * Writes the model's description and its columns' as comments: only those that differ from the relation's,
 * in one round trip. A view replaced in place keeps its comments, so a nightly run writes none (a statement
 * per comment would put a round trip per column of a wide view on the run's critical path).
 */
async function persistDocs(trx: Knex.Transaction, node: ModelNode, kind: 'table' | 'view'): Promise<void> {
  const rel = String(node.relation);
  const { rows } = await trx.raw(
    `select null as name, obj_description(?::regclass, 'pg_class') as comment
     union all
     select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a
     where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped`,
    [rel, rel],
  );
  const current = new Map((rows as { name: string | null; comment: string | null }[]).map((r) => [r.name, r.comment]));
  const statements: string[] = [];
  if (node.description && current.get(null) !== node.description)
    statements.push(`comment on ${kind} ${rel} is ${quoteLiteral(node.description)}`);
  for (const col of Object.values(node.columns)) {
    if (col.description && current.has(col.name) && current.get(col.name) !== col.description) {
      statements.push(`comment on column ${rel}.${quoteIdent(col.name)} is ${quoteLiteral(col.description)}`);
    }
  }
  if (statements.length) await runVerbatim(trx, statements.join(';\n'));
}

async function buildIncremental(node: ModelNode, ctx: MaterializeContext): Promise<MaterializeResult> {
  const microbatch = node.config.incremental_strategy === 'microbatch';
  if (!isIncrementalRun(node, ctx)) {
    // First build and --full-refresh: the whole range at once, swapped in like a table.
    const window = microbatch ? fullWindow(node, ctx) : undefined;
    const sql = compileNode(node, { ...ctx, batch: window });
    const result = await buildTable(node, ctx, sql);
    return {
      ...result,
      message: microbatch ? `incremental (full build ${window!.start}..${window!.end})` : 'incremental (full build)',
    };
  }
  if (microbatch) {
    const result = await runBatches(node, ctx);
    await analyzeIfChanged(ctx, node, result.rows ?? 0);
    return result;
  }
  const sql = compileNode(node, ctx);
  const rows = await ctx.knex.transaction((trx) => applyDelta(trx, node, sql, ctx));
  await analyzeIfChanged(ctx, node, rows);
  return { rows, message: `incremental ${strategyOf(node)}`, sql };
}

/** dbt-postgres's default: delete+insert when the model has a unique_key (append would duplicate rows), else append. */
function strategyOf(node: ModelNode): string {
  return node.config.incremental_strategy ?? (node.config.unique_key?.length ? 'delete+insert' : 'append');
}

/**
 * Refreshes the statistics after an increment that changed a tenth of the table or more (autovacuum's
 * default threshold). A nightly day is a fraction of a percent of a feature table, whose ANALYZE alone
 * takes longer than building the day; the planner finds new dates through the index.
 */
async function analyzeIfChanged(ctx: MaterializeContext, node: ModelNode, rowsWritten: number): Promise<void> {
  const { rows } = await ctx.knex.raw(`select reltuples from pg_class where oid = ?::regclass`, [
    String(node.relation),
  ]);
  const known = Number(rows[0]?.reltuples ?? -1);
  if (known < 0 || rowsWritten >= 0.1 * known)
    await ctx.knex.raw(`analyze ${String(node.relation)}${analyzedColumns(node)}`);
}

function fullWindow(node: ModelNode, ctx: MaterializeContext): DateWindow {
  const start = ctx.startDate ?? node.config.begin;
  if (!start) {
    throw new ModelRunError(
      `${node.name} is a microbatch model without config begin=: give it begin='YYYY-MM-DD' or pass --start-date.`,
    );
  }
  return { start, end: ctx.endDate ?? tomorrow() };
}

function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
}

async function runBatches(node: ModelNode, ctx: MaterializeContext): Promise<MaterializeResult> {
  const col = quoteIdent(node.config.event_time!);
  let start = ctx.startDate;
  if (!start) {
    const { rows } = await ctx.knex.raw(`select max(${col})::date::text as last from ${String(node.relation)}`);
    start = rows[0].last ?? node.config.begin;
    if (!start) throw new ModelRunError(`${node.name} is empty and has no begin= config: pass --start-date.`);
  }
  const windows = batchWindows(
    start!,
    ctx.endDate ?? tomorrow(),
    node.config.batch_size ?? 'day',
    ctx.startDate ? 0 : (node.config.lookback ?? 1),
  );
  let rows = 0;
  let lastSql = '';
  for (const window of windows) {
    const sql = compileNode(node, { ...ctx, batch: window });
    lastSql = sql;
    // Each batch replaces its window atomically: a failed batch leaves earlier ones done and itself untouched.
    rows += await ctx.knex.transaction(async (trx) => {
      await trx.raw(`delete from ${String(node.relation)} where ${col} >= ?::date and ${col} < ?::date`, [
        window.start,
        window.end,
      ]);
      return applyDelta(trx, node, sql, ctx, 'append');
    });
  }
  return {
    rows,
    message:
      `incremental microbatch, ${windows.length} batch${windows.length === 1 ? '' : 'es'} ` +
      `${windows[0]?.start ?? ''}..${windows.at(-1)?.end ?? ''}`,
    sql: lastSql,
  };
}

/** Inserts/merges the new rows of an incremental model inside the caller's transaction. */
async function applyDelta(
  trx: Knex.Transaction,
  node: ModelNode,
  sql: string,
  ctx: MaterializeContext,
  strategy = strategyOf(node),
): Promise<number> {
  const target = String(node.relation);
  const staged = quoteIdent(`dpm_delta_${ctx.runToken}`);
  await runVerbatim(trx, `create temporary table ${staged} on commit drop as\n${sql}`);
  const newCols = await columnsOfRelation(trx, staged);
  const oldCols = await columnsOf(trx, node.relation.schema, node.relation.identifier);
  const cols = await reconcileColumns(trx, node, oldCols, newCols);
  const list = cols.map(quoteIdent).join(', ');
  const keys = node.config.unique_key ?? [];
  if (strategy === 'delete+insert') {
    const on = keys.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' and ');
    await trx.raw(
      `delete from ${target} t using (select distinct ${keys.map(quoteIdent).join(', ')} from ${staged}) s where ${on}`,
    );
  }
  if (strategy === 'merge') {
    const on = keys.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' and ');
    const updates = cols.filter((c) => !keys.includes(c)).map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`);
    const res = await trx.raw(
      `merge into ${target} t using ${staged} s on ${on}
       ${updates.length ? `when matched then update set ${updates.join(', ')}` : ''}
       when not matched then insert (${list}) values (${cols.map((c) => `s.${quoteIdent(c)}`).join(', ')})`,
    );
    return res.rowCount ?? 0;
  }
  const res = await trx.raw(`insert into ${target} (${list}) select ${list} from ${staged}`);
  return res.rowCount ?? 0;
}

async function reconcileColumns(
  trx: Knex.Transaction,
  node: ModelNode,
  oldCols: ColumnInfo[],
  newCols: ColumnInfo[],
): Promise<string[]> {
  const oldNames = new Set(oldCols.map((c) => c.name));
  const added = newCols.filter((c) => !oldNames.has(c.name));
  const removed = oldCols.filter((c) => !newCols.some((n) => n.name === c.name));
  const mode = node.config.on_schema_change ?? 'ignore';
  if ((added.length || removed.length) && mode === 'fail') {
    throw new ModelRunError(
      `${node.name}: the query's columns changed (added: ${added.map((c) => c.name).join(', ') || 'none'}; ` +
        `removed: ${removed.map((c) => c.name).join(', ') || 'none'}) ` +
        `and on_schema_change is 'fail'. Run with --full-refresh --select ${node.name}, ` +
        "or set on_schema_change='append_new_columns'.",
    );
  }
  if (mode === 'append_new_columns') {
    for (const c of added)
      await trx.raw(`alter table ${String(node.relation)} add column ${quoteIdent(c.name)} ${c.type}`);
    return newCols.map((c) => c.name);
  }
  return newCols.filter((c) => oldNames.has(c.name)).map((c) => c.name);
}
