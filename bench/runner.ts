// Runner benchmark: generates a project of 1 000 models (chains and fans, macros, yml tests) and prints
// the time of `dpm ls` and `dpm compile` (load + template + graph), in-process and as a CLI process,
// and the per-node overhead of building trivial views on PostgreSQL and PGlite. Prints numbers; never
// passes or fails on time. Usage: npm run bench [-- --models 1000 --pg-url postgres://...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Dag } from '../runner/graph/dag.ts';
import { selectNodes } from '../runner/graph/select.ts';
import { loadProject } from '../runner/project/load.ts';
import { compileNode, type CompileContext } from '../runner/project/compile.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const MODELS = Number(arg('models', '1000'));
const PG_URL = arg('pg-url', process.env.DPM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const BIN = resolve(import.meta.dirname, '../bin/dpm.js');

/** Half the models in chains of 50, half in fans: a hub that refs a chain end, with 49 children. */
function generate(dir: string, n: number): void {
  const files: Record<string, string> = {
    'dpm.yml':
      'name: bench\nvars:\n  step: 1\nmodels:\n  chains:\n    +materialized: view\n  fans:\n    +materialized: view\n',
    'macros/arith.sql':
      '{% macro plus(col, n) -%}({{ col }} + {{ n }}){%- endmacro %}\n' +
      '{% macro guarded(col) -%}coalesce({{ col }}, 0){%- endmacro %}\n',
  };
  const yml: string[] = ['version: 2', 'models:'];
  const chainLen = 50;
  const chains = Math.ceil(n / 2 / chainLen);
  const names: string[] = [];
  for (let c = 0; c < chains && names.length < n / 2; c++) {
    for (let j = 0; j < chainLen && names.length < n / 2; j++) {
      const name = `chain_${c}_${j}`;
      const from = j === 0 ? `(select 1 as x, ${c} as id) base` : `{{ ref('chain_${c}_${j - 1}') }}`;
      files[`models/chains/c${c}/${name}.sql`] =
        `-- chain ${c}, step ${j}\nselect {{ plus(guarded('x'), var('step')) }} as x, id\nfrom ${from}\n`;
      names.push(name);
      if (j % 5 === 0)
        yml.push(`  - name: ${name}`, '    columns:', '      - name: x', '        data_tests: [not_null]');
    }
  }
  let hub = 0;
  while (names.length < n) {
    const hubName = `hub_${hub}`;
    const upstream = `chain_${hub % chains}_${chainLen - 1}`;
    files[`models/fans/f${hub}/${hubName}.sql`] = `select x, id from {{ ref('${upstream}') }}\n`;
    names.push(hubName);
    yml.push(`  - name: ${hubName}`, '    columns:', '      - name: id', '        data_tests: [unique, not_null]');
    for (let k = 0; k < 49 && names.length < n; k++) {
      const name = `fan_${hub}_${k}`;
      files[`models/fans/f${hub}/${name}.sql`] =
        `{{ config(tags=['fan']) }}\nselect {{ plus('x', ${k}) }} as x, id from {{ ref('${hubName}') }}\n`;
      names.push(name);
    }
    hub++;
  }
  files['models/schema.yml'] = `${yml.join('\n')}\n`;
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cli(args: string[], env: Record<string, string> = {}): { ms: number; status: number | null; out: string } {
  const t0 = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { ms: ms(t0), status: child.status, out: child.stdout + child.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'dpm-bench-'));
generate(dir, MODELS);
console.log(`Generated ${MODELS} models in ${dir}`);

// In-process phases, best of 3 after a warm-up.
const phases: Record<string, number[]> = { load: [], graph: [], compile: [] };
let nodes = 0;
let tests = 0;
for (let i = 0; i < 4; i++) {
  let t0 = process.hrtime.bigint();
  const project = loadProject(dir);
  const load = ms(t0);
  t0 = process.hrtime.bigint();
  const dag = new Dag(project.nodes);
  const selected = selectNodes(dag, {});
  const order = dag.topoOrder(selected);
  const graph = ms(t0);
  t0 = process.hrtime.bigint();
  const ctx: CompileContext = {
    project,
    invocationId: 'bench',
    runStartedAt: new Date().toISOString(),
    targetName: 'bench',
    fullRefresh: false,
    existing: new Map(),
  };
  for (const id of order) compileNode(project.nodes.get(id)!, ctx);
  const compile = ms(t0);
  if (i > 0) {
    phases.load.push(load);
    phases.graph.push(graph);
    phases.compile.push(compile);
  }
  nodes = project.nodes.size;
  tests = [...project.nodes.values()].filter((n) => n.resourceType === 'test').length;
}
console.log(`\nIn-process (median of 3, warm): ${nodes} nodes (${MODELS} models, ${tests} tests)`);
console.log(`  load (read, parse templates, render for refs/config, yml): ${median(phases.load).toFixed(0)} ms`);
console.log(`  graph (DAG, select all, topological order):                ${median(phases.graph).toFixed(0)} ms`);
console.log(`  compile (render every model and test to SQL):              ${median(phases.compile).toFixed(0)} ms`);
const inProcess = median(phases.load) + median(phases.graph) + median(phases.compile);
console.log(`  load + graph + compile:                                    ${inProcess.toFixed(0)} ms`);

const ls = [1, 2, 3].map(() => cli(['ls', '--project-dir', dir]));
const compile = [1, 2, 3].map(() => cli(['compile', '--project-dir', dir]));
const bare = [1, 2, 3].map(() => cli(['--version']));
if (ls[0].status !== 0 || compile[0].status !== 0) throw new Error(`CLI failed:\n${ls[0].out}\n${compile[0].out}`);
console.log(
  '\nCLI processes (median of 3, includes the start-up of ' +
    `${median(bare.map((r) => r.ms)).toFixed(0)} ms for 'dpm --version'):`,
);
console.log(
  `  dpm ls      ${median(ls.map((r) => r.ms)).toFixed(0)} ms   (${ls[0].out.trim().split('\n').length} lines)`,
);
console.log(
  `  dpm compile ${median(compile.map((r) => r.ms)).toFixed(0)} ms   (writes target/compiled/ and manifest.json)`,
);

/** `dpm run` of every model as a view (no tests): per-node wall time, and with one thread. */
async function buildBench(
  label: string,
  env: Record<string, string>,
  threadsList: number[],
  reset: () => Promise<void>,
): Promise<void> {
  for (const threads of threadsList) {
    await reset();
    const first = cli(['run', '--project-dir', dir, '--threads', String(threads), '--log-level', 'warn'], env);
    if (first.status !== 0) throw new Error(`build failed on ${label}:\n${first.out.slice(-3000)}`);
    // The second run replaces every view through the swap path (rename, recreate dependents, drop old).
    const second = cli(['run', '--project-dir', dir, '--threads', String(threads), '--log-level', 'warn'], env);
    if (second.status !== 0) throw new Error(`rebuild failed on ${label}:\n${second.out.slice(-3000)}`);
    const startup = median(bare.map((r) => r.ms)) + median(phases.load) + median(phases.graph);
    const perNode = (r: { ms: number }) => ((r.ms - startup) / MODELS).toFixed(1);
    console.log(
      `  ${label}, --threads ${threads}: first build ${(first.ms / 1000).toFixed(1)} s (${perNode(first)} ms/node), ` +
        `rebuild ${(second.ms / 1000).toFixed(1)} s (${perNode(second)} ms/node)`,
    );
  }
}

console.log(`\ndpm run of ${MODELS} trivial views (wall time minus start-up and load, divided by the node count):`);
let pgOk = true;
const admin = new pg.Client({ connectionString: PG_URL });
try {
  await admin.connect();
} catch (err) {
  pgOk = false;
  console.log(`  PostgreSQL: skipped, no server at ${PG_URL} (${(err as Error).message})`);
}
if (pgOk) {
  const name = `dpm_bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const reset = async () => {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  };
  await buildBench('PostgreSQL', { DPM_DATABASE_URL: url.toString() }, [1, 4], reset);
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
await buildBench('PGlite', { DPM_DATABASE_URL: '' }, [1], async () =>
  rmSync(join(dir, '.dpm'), { recursive: true, force: true }),
);
rmSync(dir, { recursive: true, force: true });
