import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../db/connect.ts';
import { redact } from '../db/redact.ts';
import { DpmError, describeDbError } from '../errors.ts';
import type { Dag } from '../graph/dag.ts';
import { formatCount, type Logger } from '../log.ts';
import { compileNode, type CompileContext } from '../project/compile.ts';
import type { Project } from '../project/load.ts';
import type { GraphNode, TestNode } from '../project/nodes.ts';
import { materializeModel } from '../materialize/model.ts';
import { isCitus, listRelations } from '../materialize/relations.ts';
import { quoteIdent } from '../project/templating.ts';
import { loadSeed, parseSeed } from '../seeds/load-seed.ts';
import { runDataTest } from '../datatests/run-test.ts';
import { writeCompiled, type NodeResult } from '../artifacts/artifacts.ts';
import { dropLeftovers } from './cleanup.ts';

export interface ExecuteOptions {
  threads: number;
  failFast: boolean;
  fullRefresh: boolean;
  startDate?: string;
  endDate?: string;
  invocationId?: string;
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

  const order = dag.topoOrder(selected);
  // Schemas are created up front, one at a time: concurrent CREATE SCHEMA IF NOT EXISTS races in PostgreSQL.
  const schemas = new Set<string>();
  for (const id of order) {
    const n = project.nodes.get(id)!;
    if (n.resourceType !== 'test') schemas.add(n.relation.schema);
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
      : node.resourceType === 'seed'
        ? `seed ${node.relation.schema}.${node.relation.identifier}`
        : `test ${node.name}`;

  const runOne = async (id: string): Promise<NodeResult> => {
    const node = project.nodes.get(id)!;
    const t0 = Date.now();
    const prefix = `${number(id)} of ${total}`;
    log.debug(`${prefix} START ${describe(node)}`);
    const base = { unique_id: id, rows_affected: null, failures: null, compiled_path: null } as NodeResult;
    try {
      if (node.resourceType === 'model') {
        const res = await materializeModel(node, {
          ...ctx,
          knex: db.knex,
          runToken,
          startDate: options.startDate,
          endDate: options.endDate,
        });
        const compiled_path = writeCompiled(project, 'run', node.path, res.sql);
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
      const sql = compileNode(node, ctx);
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
      };
    } catch (err) {
      const secs = (Date.now() - t0) / 1000;
      const where = node.resourceType === 'test' ? `test defined in ${node.path}:${node.line}` : node.path;
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
        });
        log.info(`${number(id)} of ${total} SKIP ${describe(project.nodes.get(id)!)} (${why})`, {
          node: id,
          status: 'skipped',
        });
        continue;
      }
      running.set(
        id,
        runOne(id).then((r) => {
          results.set(id, r);
          running.delete(id);
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
 * test itself needs the node or something downstream of it.
 */
function runBlockers(dag: Dag, selected: Set<string>): Map<string, string[]> {
  const testsOf = new Map<string, string[]>();
  for (const id of selected) {
    const n = dag.nodes.get(id)!;
    if (n.resourceType === 'test' && n.attachedTo)
      testsOf.set(n.attachedTo, [...(testsOf.get(n.attachedTo) ?? []), id]);
  }
  const out = new Map<string, string[]>();
  for (const id of selected) {
    const parents = dag.parentsWithin(id, selected);
    const waits = new Set(parents);
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
