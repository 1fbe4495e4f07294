import { SelectorError, didYouMean } from '../errors.ts';
import type { GraphNode } from '../project/nodes.ts';
import type { Dag } from './dag.ts';

export interface SelectionState {
  /** uniqueId -> checksum from the previous manifest (for state:modified / state:new). */
  previousChecksums?: Map<string, string>;
  /** uniqueId -> status from the previous run_results.json (for result:<status>). */
  previousResults?: Map<string, string>;
}

export interface SelectionRequest {
  select?: string[];
  exclude?: string[];
  /** Which resource types the command runs (e.g. `run` only models). */
  resourceTypes?: GraphNode['resourceType'][];
}

interface Atom {
  raw: string;
  at: boolean;
  up: number;
  down: number;
  method: string;
  value: string;
}

const METHODS = [
  'fqn',
  'tag',
  'path',
  'config',
  'resource_type',
  'test_name',
  'test_type',
  'state',
  'result',
  'source',
];

export function parseAtom(raw: string): Atom {
  const m = /^(@)?(?:(\d*)\+)?([^+]+?)(?:\+(\d*))?$/.exec(raw);
  if (!m?.[3])
    throw new SelectorError(`cannot parse selector '${raw}': expected [@][N+]method:value[+N], e.g. '2+tag:daily+1'.`);
  const [, at, upN, body, downN] = m;
  const hasUp = raw.replace(/^@/, '').match(/^\d*\+/) !== null;
  const hasDown = /\+\d*$/.test(raw);
  if (at && (hasUp || hasDown)) throw new SelectorError(`selector '${raw}': '@' cannot be combined with '+'.`);
  const colon = body.indexOf(':');
  let method = 'fqn';
  let value = body;
  if (colon > 0) {
    method = body.slice(0, colon);
    value = body.slice(colon + 1);
    const base = method.split('.')[0];
    if (!METHODS.includes(base))
      throw new SelectorError(`unknown selector method '${method}' in '${raw}'.${didYouMean(base, METHODS)}`);
  }
  return {
    raw,
    at: Boolean(at),
    up: hasUp ? (upN ? Number(upN) : Infinity) : 0,
    down: hasDown ? (downN ? Number(downN) : Infinity) : 0,
    method,
    value,
  };
}

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

function matches(node: GraphNode, atom: Atom, state: SelectionState): boolean {
  const { method, value } = atom;
  switch (method.split('.')[0]) {
    case 'fqn': {
      if (value.includes('/') || value.endsWith('.sql') || value.endsWith('.csv')) return pathMatches(node.path, value);
      const re = glob(value);
      return (
        re.test(node.name) ||
        re.test(node.fqn.join('.')) ||
        re.test(node.fqn.slice(1).join('.')) ||
        node.fqn.slice(0, -1).includes(value)
      );
    }
    case 'tag':
      return node.tags.some((t) => glob(value).test(t));
    case 'path':
      return pathMatches(node.path, value);
    case 'resource_type':
      return node.resourceType === value;
    case 'test_name':
      return node.resourceType === 'test' && glob(value).test(node.testName);
    case 'test_type':
      if (value === 'unit') return node.resourceType === 'unit_test';
      if (node.resourceType !== 'test') return false;
      if (value === 'data') return true;
      if (value === 'singular' || value === 'generic') return (node.testName === 'singular') === (value === 'singular');
      throw new SelectorError(`test_type:${value} is not a test type: use generic, singular, data or unit.`);
    case 'source':
      return (
        (node.resourceType === 'model' || node.resourceType === 'snapshot') &&
        node.sources.some((s) => glob(value).test(s.source) || glob(value).test(`${s.source}.${s.table}`))
      );
    case 'config': {
      const key = method.slice('config.'.length);
      if (!key)
        throw new SelectorError(
          `selector '${atom.raw}': write config.KEY:value, e.g. config.materialized:incremental.`,
        );
      const v = (node.config as Record<string, unknown>)[key];
      return Array.isArray(v) ? v.map(String).includes(value) : v !== undefined && String(v) === value;
    }
    case 'state': {
      if (!state.previousChecksums) {
        throw new SelectorError(
          `'${atom.raw}' compares with a previous manifest, but none was found: run once first or pass --state DIR.`,
        );
      }
      const previous = state.previousChecksums.get(node.uniqueId);
      if (value === 'new') return previous === undefined;
      if (value === 'modified') return previous !== node.checksum;
      throw new SelectorError(`state:${value} is not a state selector: use state:modified or state:new.`);
    }
    case 'result': {
      if (!state.previousResults) {
        throw new SelectorError(
          `'${atom.raw}' reads the previous run_results.json, but there is none in the target folder.`,
        );
      }
      return state.previousResults.get(node.uniqueId) === value;
    }
    default:
      return false;
  }
}

function pathMatches(path: string, value: string): boolean {
  const v = value.replace(/^\.\//, '').replace(/\/$/, '');
  return path === v || path.startsWith(`${v}/`) || glob(v).test(path);
}

function selectAtom(dag: Dag, atom: Atom, state: SelectionState): Set<string> {
  const out = new Set<string>();
  for (const [id, node] of dag.nodes) {
    if (!matches(node, atom, state)) continue;
    out.add(id);
    if (atom.up) for (const p of dag.walk(id, 'parents', atom.up)) out.add(p);
    // dbt's @: the node and its descendants, each with all its ancestors (the node's own included).
    if (atom.at) for (const p of dag.walk(id, 'parents')) out.add(p);
    if (atom.down || atom.at) {
      for (const c of dag.walk(id, 'children', atom.at ? Infinity : atom.down)) {
        out.add(c);
        if (atom.at) for (const p of dag.walk(c, 'parents')) out.add(p);
      }
    }
  }
  return out;
}

/** Union of space-separated terms, each the intersection of its comma-separated atoms. */
function selectExpression(dag: Dag, words: string[], state: SelectionState): Set<string> {
  const result = new Set<string>();
  for (const word of words.flatMap((w) => w.split(/\s+/)).filter(Boolean)) {
    const parts = word
      .split(',')
      .filter(Boolean)
      .map((p) => selectAtom(dag, parseAtom(p), state));
    const [first, ...rest] = parts;
    for (const id of first ?? []) if (rest.every((s) => s.has(id))) result.add(id);
  }
  return result;
}

/**
 * dbt semantics: select (default everything), minus exclude, then tests join when one of their
 * parents is selected ("eager" indirect selection), and unit tests when their model is, unless excluded
 * themselves. A request for tests (`dpm test`) takes unit tests too, as `dbt test` runs both.
 */
export function selectNodes(dag: Dag, request: SelectionRequest, state: SelectionState = {}): Set<string> {
  const chosen = request.select?.length ? selectExpression(dag, request.select, state) : new Set(dag.nodes.keys());
  const excluded = request.exclude?.length ? selectExpression(dag, request.exclude, state) : new Set<string>();
  const result = new Set([...chosen].filter((id) => !excluded.has(id)));
  for (const [id, node] of dag.nodes) {
    if (node.resourceType === 'unit_test' && result.has(node.model) && !excluded.has(id)) result.add(id);
    if (node.resourceType !== 'test' || result.has(id) || excluded.has(id)) continue;
    if (node.dependsOn.some((p) => result.has(p) && dag.nodes.get(p)!.resourceType !== 'test')) result.add(id);
  }
  const types = request.resourceTypes;
  const wanted = (type: GraphNode['resourceType']) =>
    types!.includes(type) || (type === 'unit_test' && types!.includes('test'));
  return types ? new Set([...result].filter((id) => wanted(dag.nodes.get(id)!.resourceType))) : result;
}
