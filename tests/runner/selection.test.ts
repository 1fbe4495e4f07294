// Selection grammar on a small project, without a database: every operator with its exact node set.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Dag } from '../../runner/graph/dag.ts';
import { parseAtom, selectNodes, type SelectionState } from '../../runner/graph/select.ts';
import { loadProject } from '../../runner/project/load.ts';
import {
  readPreviousChecksums,
  readPreviousResults,
  writeManifest,
  writeRunResults,
  targetDir,
} from '../../runner/artifacts/artifacts.ts';
import { SelectorError } from '../../runner/errors.ts';
import { removeDir, thrown, writeProject } from './_helpers.ts';

// s1 -> a -> c -> d -> e ;  b -> c ;  b -> f ;  s1 -> x
const FILES: Record<string, string> = {
  'dpm.yml': `name: sel
models:
  features:
    +materialized: table
`,
  'seeds/s1.csv': 'id,v\n1,2\n',
  'models/staging/a.sql': `select * from {{ ref('s1') }}`,
  'models/staging/b.sql': `select 1 as id`,
  'models/features/c.sql':
    "{{ config(tags=['daily']) }}\n" + `select a.id from {{ ref('a') }} a join {{ ref('b') }} b using (id)`,
  'models/features/d.sql': `{{ config(materialized='incremental') }}\nselect * from {{ ref('c') }}`,
  'models/marts/e.sql': `select * from {{ ref('d') }}`,
  'models/marts/f.sql': `{{ config(tags='daily') }}\nselect * from {{ ref('b') }}`,
  'models/other/x.sql': `select * from {{ ref('s1') }}`,
  'models/features/props.yml': `version: 2
models:
  - name: c
    columns:
      - name: id
        data_tests: [unique]
  - name: a
    columns:
      - name: id
        data_tests:
          - relationships:
              to: ref('b')
              field: id
`,
};

const dir = writeProject({ ...FILES });
const project = loadProject(dir);
const dag = new Dag(project.nodes);
const MODELS_AND_SEEDS: ('model' | 'seed')[] = ['model', 'seed'];

function names(ids: Set<string>): string[] {
  return [...ids].map((id) => project.nodes.get(id)!.name).sort();
}
function sel(
  select: string[] | undefined,
  exclude?: string[],
  state: SelectionState = {},
  types: ('model' | 'seed' | 'test')[] | null = MODELS_AND_SEEDS,
): string[] {
  return names(selectNodes(dag, { select, exclude, resourceTypes: types ?? undefined }, state));
}

const graph = suite('selection: graph operators');

graph('plain name', () => assert.equal(sel(['c']), ['c']));
graph('+name selects all ancestors', () => assert.equal(sel(['+c']), ['a', 'b', 'c', 's1']));
graph('name+ selects all descendants', () => assert.equal(sel(['c+']), ['c', 'd', 'e']));
graph('N+name limits the ancestor depth', () => {
  assert.equal(sel(['1+c']), ['a', 'b', 'c']);
  assert.equal(sel(['2+d']), ['a', 'b', 'c', 'd']);
  assert.equal(sel(['3+d']), ['a', 'b', 'c', 'd', 's1']);
});
graph('name+N limits the descendant depth', () => {
  assert.equal(sel(['c+1']), ['c', 'd']);
  assert.equal(sel(['b+1']), ['b', 'c', 'f']);
  assert.equal(sel(['1+c+1']), ['a', 'b', 'c', 'd']);
});
graph('@name adds descendants and all their ancestors', () => {
  assert.equal(sel(['@b']), ['a', 'b', 'c', 'd', 'e', 'f', 's1']);
  assert.equal(sel(['@e']), ['a', 'b', 'c', 'd', 'e', 's1']);
  // c's ancestors (a, b, s1) come along, but not b's other child f, which no descendant of c needs.
  assert.equal(sel(['@c']), ['a', 'b', 'c', 'd', 'e', 's1']);
  assert.equal(sel(['@f']), ['b', 'f']);
});
graph('no selection means everything', () => assert.equal(sel(undefined), ['a', 'b', 'c', 'd', 'e', 'f', 's1', 'x']));
graph('a folder name selects every node under it (fqn)', () => assert.equal(sel(['features']), ['c', 'd']));
graph('glob on names', () => assert.equal(sel(['*1']), ['s1']));
graph.run();

const methods = suite('selection: methods');
methods('tag: (inline tags and folder tags)', () => {
  assert.equal(sel(['tag:daily']), ['c', 'f']);
  assert.equal(sel(['tag:marts']), ['e', 'f']);
});
methods('path: by folder and by file', () => {
  assert.equal(sel(['path:models/marts']), ['e', 'f']);
  assert.equal(sel(['path:models/staging/a.sql']), ['a']);
  assert.equal(sel(['models/other']), ['x']);
  assert.equal(sel(['path:seeds']), ['s1']);
});
methods('config.materialized: (folder config, overridden inline)', () => {
  assert.equal(sel(['config.materialized:table']), ['c']);
  assert.equal(sel(['config.materialized:incremental']), ['d']);
  assert.equal(sel(['config.materialized:view']), ['a', 'b', 'e', 'f', 'x']);
});
methods('resource_type:', () => {
  assert.equal(sel(['resource_type:seed']), ['s1']);
  assert.equal(sel(['resource_type:test'], undefined, {}, null), ['relationships_a_id', 'unique_c_id']);
});
methods('union by space, in one word or several', () => {
  assert.equal(sel(['a f']), ['a', 'f']);
  assert.equal(sel(['a', 'f']), ['a', 'f']);
  assert.equal(sel(['c+1 x']), ['c', 'd', 'x']);
});
methods('intersection by comma', () => {
  assert.equal(sel(['tag:features,config.materialized:incremental']), ['d']);
  assert.equal(sel(['+e,tag:daily']), ['c']);
  assert.equal(sel(['tag:daily,tag:marts d']), ['d', 'f']);
});
methods('--exclude removes, with the same grammar', () => {
  assert.equal(sel(['c+'], ['e']), ['c', 'd']);
  assert.equal(sel(undefined, ['+c']), ['d', 'e', 'f', 'x']);
  assert.equal(sel(['@b'], ['tag:daily,marts']), ['a', 'b', 'c', 'd', 'e', 's1']);
});
methods('tests join when a parent is selected, unless excluded', () => {
  assert.equal(sel(['c'], undefined, {}, null), ['c', 'unique_c_id']);
  // relationships_a_id has parents a and b: selecting either brings it along.
  assert.equal(sel(['b'], undefined, {}, null), ['b', 'relationships_a_id']);
  assert.equal(sel(['c'], ['unique_c_id'], {}, null), ['c']);
  assert.equal(sel(['test_name:unique'], undefined, {}, null), ['unique_c_id']);
});
methods('ls-style order is topological', () => {
  const order = dag.topoOrder(selectNodes(dag, { select: ['+e'] })).map((id) => project.nodes.get(id)!.name);
  for (const [before, after] of [
    ['s1', 'a'],
    ['a', 'c'],
    ['b', 'c'],
    ['c', 'd'],
    ['d', 'e'],
    ['c', 'unique_c_id'],
  ]) {
    assert.ok(order.indexOf(before) < order.indexOf(after), `${before} before ${after} in ${order.join(',')}`);
  }
});
methods('selector errors are usage errors with a hint', () => {
  const e = thrown(() => sel(['tags:daily']));
  assert.instance(e, SelectorError);
  assert.match(e!.message, "unknown selector method 'tags'");
  assert.match(e!.message, "Did you mean 'tag'");
  assert.match(thrown(() => parseAtom('@a+'))!.message, "'@' cannot be combined with '+'");
  assert.match(thrown(() => sel(['config:table']))!.message, 'config.KEY:value');
  assert.match(thrown(() => sel(['state:modified']))!.message, 'none was found');
  assert.match(thrown(() => sel(['result:error']))!.message, 'run_results.json, but there is none');
});
methods.run();

const state = suite('selection: state and results');
state('state:modified and state:new compare with the last manifest', () => {
  const d = writeProject({ ...FILES });
  try {
    const p1 = loadProject(d);
    writeManifest(p1, { invocationId: 'first', database: null });
    const unchanged = loadProject(d);
    const previous = { previousChecksums: readPreviousChecksums(targetDir(unchanged)) };
    assert.equal(selectNodes(new Dag(unchanged.nodes), { select: ['state:modified'] }, previous).size, 0);

    writeFileSync(join(d, 'models/staging/b.sql'), 'select 2 as id');
    writeFileSync(join(d, 'models/marts/y.sql'), `select * from {{ ref('e') }}`);
    writeFileSync(
      join(d, 'dpm.yml'),
      `name: sel\nmodels:\n  features:\n    +materialized: table\n  other:\n    +materialized: table\n`,
    );
    const p2 = loadProject(d);
    const dag2 = new Dag(p2.nodes);
    const st = { previousChecksums: readPreviousChecksums(targetDir(p2)) };
    const n = (s: Set<string>) => [...s].map((id) => p2.nodes.get(id)!.name).sort();
    // b's SQL changed, x's config changed (through dpm.yml), y is new.
    assert.equal(n(selectNodes(dag2, { select: ['state:modified'], resourceTypes: MODELS_AND_SEEDS }, st)), [
      'b',
      'x',
      'y',
    ]);
    assert.equal(n(selectNodes(dag2, { select: ['state:new'], resourceTypes: MODELS_AND_SEEDS }, st)), ['y']);
    assert.equal(n(selectNodes(dag2, { select: ['state:modified+'], resourceTypes: MODELS_AND_SEEDS }, st)), [
      'b',
      'c',
      'd',
      'e',
      'f',
      'x',
      'y',
    ]);
    assert.equal(n(selectNodes(dag2, { select: ['state:modified,tag:marts'], resourceTypes: MODELS_AND_SEEDS }, st)), [
      'y',
    ]);
  } finally {
    removeDir(d);
  }
});

state('result:error and result:fail rerun what failed last time', () => {
  const d = writeProject({ ...FILES });
  try {
    const p = loadProject(d);
    const id = (name: string) => [...p.nodes.values()].find((n) => n.name === name)!.uniqueId;
    const r = (name: string, status: 'success' | 'error' | 'skipped' | 'fail') => ({
      unique_id: id(name),
      status,
      execution_time: 0,
      message: '',
      rows_affected: null,
      failures: null,
      compiled_path: null,
      compiled_code: null,
      started_at: null,
      completed_at: null,
      thread_id: 'main',
    });
    writeRunResults(p, {
      invocationId: 'x',
      database: null,
      args: { which: 'build' },
      elapsed: 1,
      results: [r('a', 'success'), r('c', 'error'), r('d', 'skipped'), r('e', 'skipped'), r('unique_c_id', 'fail')],
    });
    const st = { previousResults: readPreviousResults(targetDir(p)) };
    const dg = new Dag(p.nodes);
    const n = (s: Set<string>) => [...s].map((i) => p.nodes.get(i)!.name).sort();
    assert.equal(n(selectNodes(dg, { select: ['result:error'], resourceTypes: MODELS_AND_SEEDS }, st)), ['c']);
    assert.equal(n(selectNodes(dg, { select: ['result:error+'], resourceTypes: MODELS_AND_SEEDS }, st)), [
      'c',
      'd',
      'e',
    ]);
    assert.equal(n(selectNodes(dg, { select: ['result:skipped'], resourceTypes: MODELS_AND_SEEDS }, st)), ['d', 'e']);
    assert.equal(n(selectNodes(dg, { select: ['result:fail'] }, st)), ['unique_c_id']);
  } finally {
    removeDir(d);
  }
});
state.run();
