import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../db/connect.ts';
import { redact } from '../db/redact.ts';
import { DpmError, describeDbError } from '../errors.ts';
import type { Dag } from '../graph/dag.ts';
import { formatCount, type Logger } from '../log.ts';
import { compileNodeAsync, deferredRelations, type CompileContext } from '../project/compile.ts';
import { QueryReplay, runTemplateQuery, type TemplateQueries } from '../project/query-replay.ts';
import type { Project } from '../project/load.ts';
import type { GraphNode, TestNode } from '../project/nodes.ts';
import { materializeModel } from '../materialize/model.ts';
import { materializeSnapshot, snapshotSqlPath } from '../materialize/snapshot.ts';
import { isCitus, listRelations } from '../materialize/relations.ts';
import { quoteIdent } from '../project/templating.ts';
import { loadSeed, parseSeed } from '../seeds/load-seed.ts';
import { runDataTest } from '../datatests/run-test.ts';
import { runUnitTest } from '../unittests/run-unit-test.ts';
import { databaseOf, writeCompiled, type NodeResult, type StateRelation } from '../artifacts/artifacts.ts';
import { dropLeftovers } from './cleanup.ts';

export interface ExecuteOptions {
  threads: number;
  failFast: boolean;
  fullRefresh: boolean;
  startDate?: string;
  endDate?: string;
  invocationId?: string;
  /** --defer: the relations of the --state manifest, read for unselected nodes that do not exist here. */
  defer?: Map<string, StateRelation>;
}

export interface ExecuteSummary {
  results: NodeResult[];
  elapsed: number;
  ok: boolean;
}

const FAILED = new Set(['error', 'fail', 'skipped']);

/**
 * Runs the selected nodes in DAG order with up to `threads` at once. A failed node (or a failing
 * error-severity test of it) skips everything downstream; independent branches go on.
 */
export async function executeNodes(
  project: Project,
  dag: Dag,
  db: Database,
  selected: Set<string>,
  options: ExecuteOptions,
  log: Logger,
): Promise<ExecuteSummary> {
  const startedAt = Date.now();
  const invocationId = options.invocationId ?? randomUUID();
  const runToken = randomBytes(4).toString('hex');
  const leftovers = await dropLeftovers(db.knex);
  if (leftovers.length)
    log.info(`Dropped ${leftovers.length} scratch relation(s) left by an interrupted run: ${leftovers.join(', ')}`);
  const ctx: CompileContext = {
    project,
    invocationId,
    runStartedAt: new Date().toISOString(),
    targetName: db.target.name,
    threads: options.threads,
    distributed: await isCitus(db.knex),
    fullRefresh: options.fullRefresh,
    existing: await listRelations(db.knex),
  };
  if (options.defer) {
    ctx.deferred = deferredRelations(project, selected, ctx.existing, options.defer, databaseOf(db.target));
    for (const [id, relation] of ctx.deferred)
      log.info(`Deferring ${project.nodes.get(id)!.name} to ${relation} (from the --state manifest)`);
  }

  const order = dag.topoOrder(selected);
  // Schemas are created up front, one at a time: concurrent CREATE SCHEMA IF NOT EXISTS races in PostgreSQL.
  const schemas = new Set<string>();
  for (const id of order) {
    const n = project.nodes.get(id)!;
    if ('relation' in n) schemas.add(n.relation.schema);
  }
  for (const schema of schemas) await db.knex.raw(`create schema if not exists ${quoteIdent(schema)}`);
  // Nodes are numbered as they start, like dbt's "3 of 24" lines.
  const index = new Map<string, number>();
  let started = 0;
  const number = (id: string) => {
    if (!index.has(id)) index.set(id, ++started);
    return index.get(id)!;
  };
  const blockers = runBlockers(dag, selected);
  const results = new Map<string, NodeResult>();
  const total = order.length;
  let stop = false;

  const describe = (node: GraphNode) =>
    node.resourceType === 'model'
      ? `${node.config.materialized} model ${node.relation.schema}.${node.relation.identifier}`
      : node.resourceType === 'seed' || node.resourceType === 'snapshot'
        ? `${node.resourceType} ${node.relation.schema}.${node.relation.identifier}`
        : node.resourceType === 'unit_test'
          ? `unit test ${node.fqn[node.fqn.length - 2]}::${node.name}`
          : `test ${node.name}`;

  const runOne = async (id: string, slot: number): Promise<NodeResult> => {
    const node = project.nodes.get(id)!;
    const t0 = Date.now();
    const prefix = `${number(id)} of ${total}`;
    log.debug(`${prefix} START ${describe(node)}`);
    // Each node keeps its own run_query() results: compiled once with the database at hand, then the
    // materialization's compiles read them.
    const nodeCtx = { ...ctx, queries: new QueryReplay() };
    const queries: TemplateQueries = {
      run: (sql) => runTemplateQuery(db.knex, sql),
      log: (message, info) => (info ? log.info(message, { node: id }) : log.debug(message, { node: id })),
    };
    const base = {
      unique_id: id,
      rows_affected: null,
      failures: null,
      compiled_path: null,
      compiled_code: null,
      started_at: new Date(t0).toISOString(),
      // The scheduler stamps completed_at when the node settles.
      completed_at: null,
      thread_id: `Thread-${slot}`,
    } as NodeResult;
    try {
      if (node.resourceType === 'model' || node.resourceType === 'snapshot') {
        await compileNodeAsync(node, nodeCtx, queries);
        const mctx = { ...nodeCtx, knex: db.knex, runToken, startDate: options.startDate, endDate: options.endDate };
        const res =
          node.resourceType === 'model' ? await materializeModel(node, mctx) : await materializeSnapshot(node, mctx);
        const path = node.resourceType === 'model' ? node.path : snapshotSqlPath(node);
        const compiled_path = writeCompiled(project, 'run', path, res.sql);
        const secs = (Date.now() - t0) / 1000;
        const outcome = res.rows === null ? res.message : `${formatCount(res.rows)} rows`;
        log.info(`${prefix} OK ${describe(node)} ... ${outcome} in ${secs.toFixed(1)}s`, {
          node: id,
          status: 'success',
          rows: res.rows,
        });
        return {
          ...base,
          status: 'success',
          execution_time: secs,
          message: res.message,
          rows_affected: res.rows,
          compiled_path,
          compiled_code: res.sql,
        };
      }
      if (node.resourceType === 'seed') {
        const parsed = parseSeed(project.config.root, node);
        const rows = await loadSeed(
          db,
          node,
          parsed,
          runToken,
          ctx.existing.get(`${node.relation.schema}.${node.relation.identifier}`),
          ctx.distributed,
        );
        ctx.existing.set(`${node.relation.schema}.${node.relation.identifier}`, 'table');
        const secs = (Date.now() - t0) / 1000;
        const dup = parsed.duplicates ? ` (${formatCount(parsed.duplicates)} duplicate rows merged)` : '';
        log.info(`${prefix} OK ${describe(node)} ... ${formatCount(rows)} rows${dup} in ${secs.toFixed(1)}s`, {
          node: id,
          status: 'success',
          rows,
        });
        return {
          ...base,
          status: 'success',
          execution_time: secs,
          message: `loaded ${rows} rows${dup}`,
          rows_affected: rows,
        };
      }
      if (node.resourceType === 'unit_test') {
        const outcome = await runUnitTest(db.knex, node, ctx);
        const compiled_path = writeCompiled(
          project,
          'compiled',
          `unit_tests/${node.fqn.slice(-2).join('/')}`,
          outcome.sql,
        );
        const secs = (Date.now() - t0) / 1000;
        const line = `${prefix} ${outcome.status.toUpperCase()} ${describe(node)} in ${secs.toFixed(1)}s`;
        if (outcome.status === 'pass') log.info(line, { node: id, status: 'pass' });
        else log.error(`${line}\n  ${outcome.message.replace(/\n/g, '\n  ')}`, { node: id, status: 'fail' });
        return {
          ...base,
          status: outcome.status,
          execution_time: secs,
          message: outcome.message,
          failures: outcome.failures,
          compiled_path,
          compiled_code: outcome.sql,
        };
      }
      const sql = await compileNodeAsync(node, nodeCtx, queries);
      const compiled_path = writeCompiled(project, 'compiled', `tests/${node.name}`, sql);
      const outcome = await runDataTest(db.knex, node as TestNode, sql);
      const secs = (Date.now() - t0) / 1000;
      const word = { pass: 'PASS', fail: 'FAIL', warn: 'WARN' }[outcome.status];
      const detail = outcome.failures
        ? ` (${formatCount(outcome.failures)} failing rows; query in ${compiled_path})`
        : '';
      const line = `${prefix} ${word} ${describe(node)}${detail} in ${secs.toFixed(1)}s`;
      if (outcome.status === 'pass') log.info(line, { node: id, status: 'pass' });
      else if (outcome.status === 'warn') log.warn(line, { node: id, status: 'warn', failures: outcome.failures });
      else log.error(line, { node: id, status: 'fail', failures: outcome.failures });
      return {
        ...base,
        status: outcome.status,
        execution_time: secs,
        message: detail.trim() || 'pass',
        failures: outcome.failures,
        compiled_path,
        compiled_code: sql,
      };
    } catch (err) {
      const secs = (Date.now() - t0) / 1000;
      const where =
        node.resourceType === 'test' || node.resourceType === 'unit_test'
          ? `${node.resourceType === 'test' ? 'test' : 'unit test'} defined in ${node.path}:${node.line}`
          : node.path;
      const message = redact(
        err instanceof DpmError
          ? err.message
          : `${describeDbError(err)} (${where}; compiled SQL under ${project.config['target-path']}/)`,
      );
      log.error(`${prefix} ERROR ${describe(node)} in ${secs.toFixed(1)}s\n  ${message}`, {
        node: id,
        status: 'error',
        error: message,
      });
      return { ...base, status: 'error', execution_time: secs, message };
    }
  };

  // A simple scheduler: start every node whose blockers are done, up to `threads` at a time.
  const pending = new Set(order);
  const running = new Map<string, Promise<void>>();
  // dbt numbers its worker threads; a node runs in the lowest free one (its run_results thread_id).
  const freeSlots = Array.from({ length: Math.max(1, options.threads) }, (_, i) => i + 1);
  while (pending.size || running.size) {
    for (const id of [...pending]) {
      if (running.size >= Math.max(1, options.threads)) break;
      const waits = blockers.get(id)!;
      if (waits.some((b) => pending.has(b) || running.has(b))) continue;
      pending.delete(id);
      const failedBlocker = waits.find((b) => FAILED.has(results.get(b)?.status ?? ''));
      if (stop || failedBlocker) {
        const why = stop
          ? 'skipped: --fail-fast after an earlier failure'
          : `skipped: upstream ${project.nodes.get(failedBlocker!)!.name} ` +
            `${results.get(failedBlocker!)!.status === 'skipped' ? 'was skipped' : 'failed'}`;
        results.set(id, {
          unique_id: id,
          status: 'skipped',
          execution_time: 0,
          message: why,
          rows_affected: null,
          failures: null,
          compiled_path: null,
          compiled_code: null,
          started_at: null,
          completed_at: null,
          thread_id: 'main',
        });
        log.info(`${number(id)} of ${total} SKIP ${describe(project.nodes.get(id)!)} (${why})`, {
          node: id,
          status: 'skipped',
        });
        continue;
      }
      const slot = freeSlots.shift()!;
      running.set(
        id,
        runOne(id, slot).then((r) => {
          results.set(id, { ...r, completed_at: new Date().toISOString() });
          running.delete(id);
          freeSlots.push(slot);
          freeSlots.sort((a, b) => a - b);
          if (options.failFast && (r.status === 'error' || r.status === 'fail')) stop = true;
        }),
      );
    }
    if (running.size) await Promise.race(running.values());
  }

  const list = order.map((id) => results.get(id)!);
  const ok = list.every((r) => !['error', 'fail', 'skipped'].includes(r.status));
  return { results: list, elapsed: (Date.now() - startedAt) / 1000, ok };
}

/**
 * What each node waits for: its nearest selected ancestors (Dag.parentsWithin), plus the selected
 * tests of those (dbt build: a failing test of a model keeps its children from running) unless that
 * test itself needs the node or something downstream of it. A model also waits for its selected unit tests (dbt
 * build runs them first and skips the model when one fails).
 */
function runBlockers(dag: Dag, selected: Set<string>): Map<string, string[]> {
  const testsOf = new Map<string, string[]>();
  const unitTestsOf = new Map<string, string[]>();
  for (const id of selected) {
    const n = dag.nodes.get(id)!;
    if (n.resourceType === 'test' && n.attachedTo)
      testsOf.set(n.attachedTo, [...(testsOf.get(n.attachedTo) ?? []), id]);
    if (n.resourceType === 'unit_test') unitTestsOf.set(n.model, [...(unitTestsOf.get(n.model) ?? []), id]);
  }
  const out = new Map<string, string[]>();
  for (const id of selected) {
    const parents = dag.parentsWithin(id, selected);
    const waits = new Set([...parents, ...(unitTestsOf.get(id) ?? [])]);
    if (dag.nodes.get(id)!.resourceType !== 'test') {
      let downstream: Set<string> | undefined;
      for (const p of parents) {
        for (const t of testsOf.get(p) ?? []) {
          downstream ??= new Set([id, ...dag.walk(id, 'children')]);
          if (!dag.nodes.get(t)!.dependsOn.some((d) => downstream!.has(d))) waits.add(t);
        }
      }
    }
    out.set(id, [...waits]);
  }
  return out;
}
