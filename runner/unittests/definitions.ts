// Unit tests from yml become graph nodes when the project loads: every problem that needs no database (an unknown
// model, an input the model does not read, a ref left unmocked, a bad fixture) fails the load with file:line.
import { dirname } from 'node:path';
import { ProjectError, didYouMean } from '../errors.ts';
import { sha256 as sha } from '../hash.ts';
import type { GraphNode, ModelNode, SourceTable, UnitTestInput, UnitTestNode } from '../project/nodes.ts';
import type { UnitTestSpec } from '../project/properties.ts';
import { readFixture } from './fixtures.ts';

export interface UnitTestProject {
  name: string;
  root: string;
  testPaths: string[];
}

const REF = /^\s*ref\(\s*(?:['"][^'"]+['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)\s*$/;
const SOURCE = /^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$/;

/** The enabled unit tests of `specs` as nodes; models' refs and sources must be resolved already. */
export function unitTestNodes(
  project: UnitTestProject,
  specs: UnitTestSpec[],
  byName: Map<string, GraphNode>,
  sources: Map<string, SourceTable>,
): UnitTestNode[] {
  const out = new Map<string, UnitTestNode>();
  for (const spec of specs) {
    if (spec.config.enabled === false) continue;
    const node = unitTestNode(project, spec, byName, sources);
    const previous = out.get(node.uniqueId);
    if (previous) {
      throw new ProjectError(
        spec.file,
        spec.line,
        `unit test '${spec.name}' of model '${spec.model}' is already defined at ${previous.path}:${previous.line}`,
      );
    }
    out.set(node.uniqueId, node);
  }
  return [...out.values()];
}

function unitTestNode(
  project: UnitTestProject,
  spec: UnitTestSpec,
  byName: Map<string, GraphNode>,
  sources: Map<string, SourceTable>,
): UnitTestNode {
  const fail = (line: number, problem: string) =>
    new ProjectError(spec.file, line, `unit test '${spec.name}': ${problem}`);
  const model = byName.get(spec.model);
  if (model?.resourceType !== 'model') {
    const models = [...byName.values()].filter((n) => n.resourceType === 'model').map((n) => n.name);
    throw fail(
      spec.line,
      model
        ? `'${spec.model}' is a ${model.resourceType}; unit tests test models`
        : `model '${spec.model}' is not a model of this project (or it is disabled).${didYouMean(spec.model, models)}`,
    );
  }
  const reads = new Map<string, string>([
    ...model.refs.map((r): [string, string] => [byName.get(r.name)!.uniqueId, `ref('${r.name}')`]),
    ...model.sources.map((s): [string, string] => [sources.get(`${s.source}.${s.table}`)!.uniqueId, sourceCall(s)]),
  ]);
  const readList = [...reads.values()].join(', ') || 'no ref() or source()';
  const given: UnitTestInput[] = [];
  for (const g of spec.given) {
    const target = inputTarget(g.input, model, byName, sources, (problem) => fail(g.line, problem));
    if (g.input.trim() !== 'this' && !reads.has(target)) {
      throw fail(g.line, `given input ${g.input} is not read by model '${model.name}' (it reads ${readList})`);
    }
    if (given.some((x) => x.target === target)) throw fail(g.line, `input ${g.input} is given twice`);
    const what = `unit test '${spec.name}', given ${g.input}`;
    const seedWithoutRows = byName.get(g.input.match(REF)?.[1] ?? '')?.resourceType === 'seed' && !g.rows && !g.fixture;
    const fixture = seedWithoutRows
      ? { kind: 'seed' as const }
      : readFixture(g, { file: spec.file, line: g.line, what }, project.root, project.testPaths);
    given.push({ input: g.input.trim(), target, fixture, line: g.line });
  }
  const missing = [...reads].filter(([id]) => !given.some((g) => g.target === id)).map(([, call]) => call);
  if (missing.length) {
    throw fail(
      spec.line,
      `model '${model.name}' reads ${missing.join(', ')}, which given: does not stand in for. Add ` +
        `"- input: ${missing[0]}" with rows (rows: [] for an empty input), as dbt requires every input to be given.`,
    );
  }
  const expect = readFixture(
    spec.expect,
    { file: spec.file, line: spec.expect.line, what: `unit test '${spec.name}', expect` },
    project.root,
    project.testPaths,
  );
  const config = { tags: spec.config.tags, enabled: true, ...(spec.config.meta ? { meta: spec.config.meta } : {}) };
  return {
    resourceType: 'unit_test',
    uniqueId: `unit_test.${project.name}.${model.name}.${spec.name}`,
    name: spec.name,
    path: spec.file,
    line: spec.line,
    fqn: [project.name, ...dirname(spec.file).split('/').slice(1), model.name, spec.name],
    tags: spec.config.tags,
    dependsOn: [...model.dependsOn],
    checksum: sha(JSON.stringify({ model: model.name, given, expect, overrides: spec.overrides, config })),
    description: spec.description,
    columns: {},
    config,
    model: model.uniqueId,
    given,
    expect,
    overrides: spec.overrides,
  };
}

function sourceCall(s: { source: string; table: string }): string {
  return `source('${s.source}', '${s.table}')`;
}

/** The unique id an input stands for; `this` is the model itself (an incremental model's existing rows). */
function inputTarget(
  input: string,
  model: ModelNode,
  byName: Map<string, GraphNode>,
  sources: Map<string, SourceTable>,
  fail: (problem: string) => Error,
): string {
  if (input.trim() === 'this') return model.uniqueId;
  const ref = REF.exec(input);
  if (ref) {
    const node = byName.get(ref[1]);
    if (!node) throw fail(`given ${input} names no model or seed.${didYouMean(ref[1], byName.keys())}`);
    return node.uniqueId;
  }
  const source = SOURCE.exec(input);
  if (source) {
    const table = sources.get(`${source[1]}.${source[2]}`);
    if (!table) {
      throw fail(
        `given ${input} is not declared under sources: in a yml file.` +
          didYouMean(`${source[1]}.${source[2]}`, sources.keys()),
      );
    }
    return table.uniqueId;
  }
  throw fail(`input must be ref('model'), source('source', 'table') or this, got ${JSON.stringify(input)}`);
}
