// Trainer benchmark, side by side with LightGBM: a generated 1 000 000 x 50 regression set (heavy-tailed target,
// 3% missing, one 40-level categorical column) and a 200 000-row holdout written as CSV, then `lightgbm` and
// `dpm gbdt` run on them as child processes with one config file (huber, 300 trees of 63 leaves, bagging 0.8/1,
// feature_fraction 0.8, 2 threads). Prints each one's training time, wall time, peak memory (max RSS) and holdout
// l1, and `ratio dpm/LightGBM` for each, all from this one run; then dpm's in-process prediction speed.
// LightGBM 4.x is built once from the C++ source that the npm package `lightgbm` ships (npm pack, cmake, g++ -O3)
// into ~/.cache/dpm-bench/lightgbm; without cmake or g++ the bench says so and prints dpm's figures alone.
// Never fails on time: it reports numbers.
// Usage: npx tsx bench/trainer.ts [rows=1000000] [iterations=300]
import { spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Booster } from '../trainer/boosting/booster.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ITERS = Number(process.argv[3] ?? 300);
const HOLDOUT = 200_000;
const FEATURES = 50;
const CAT = 7;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(homedir(), '.cache', 'dpm-bench', 'lightgbm');

let state = 20240601;
const uniform = (): number => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return (state + 0.5) / 4294967296;
};
const normal = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
// Student-t with 3 degrees of freedom: heavy tails like daily PnL.
const studentT = (): number => normal() / Math.sqrt((normal() ** 2 + normal() ** 2 + normal() ** 2) / 3);
const catEffect = Array.from({ length: 40 }, () => normal() * 30);

/** One row into x; returns its label. */
function nextRow(x: Float64Array): number {
  for (let f = 0; f < FEATURES; f++) x[f] = f === CAT ? Math.floor(uniform() * 40) : normal();
  const label =
    40 * x[0] +
    25 * Math.sin(2 * x[1]) +
    15 * x[2] * x[3] +
    20 * Math.max(0, x[4]) +
    catEffect[x[CAT]] +
    10 * x[5] * (x[6] > 0 ? 1 : -1) +
    60 * studentT();
  for (let f = 0; f < FEATURES; f++) if (f !== CAT && uniform() < 0.03) x[f] = NaN;
  return label;
}

/**
 * Writes n rows as CSV (label first, `nan` = missing: LightGBM's predictor miscounts the columns of a first line
 * with an empty cell); `keep` receives each row's values and label. */
async function writeCsv(path: string, n: number, keep?: (row: number, x: Float64Array, y: number) => void) {
  const out = createWriteStream(path);
  const x = new Float64Array(FEATURES);
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    const label = nextRow(x);
    keep?.(i, x, label);
    let line = String(label);
    for (let f = 0; f < FEATURES; f++) line += Number.isNaN(x[f]) ? ',nan' : `,${x[f]}`;
    buf.push(line);
    if (buf.length === 10_000 || i === n - 1) {
      if (!out.write(`${buf.join('\n')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = [];
    }
  }
  await new Promise<void>((r) => out.end(() => r()));
}

/** The LightGBM CLI, built once into the cache; null (with the reason printed) when it cannot be. */
function lightgbmBinary(): string | null {
  const binary = join(CACHE, 'lightgbm');
  if (existsSync(binary)) return binary;
  for (const tool of ['cmake', 'g++', 'tar']) {
    if (spawnSync(tool, ['--version']).status !== 0) {
      console.log(`LightGBM: not built (no ${tool} on this machine); dpm's figures alone follow`);
      return null;
    }
  }
  console.log(`LightGBM: building the CLI from the npm package lightgbm's C++ source into ${CACHE} (once)`);
  mkdirSync(CACHE, { recursive: true });
  const step = (cmd: string, args: string[]): boolean => {
    const r = spawnSync(cmd, args, { cwd: CACHE, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) console.log(`LightGBM: ${cmd} ${args.join(' ')} failed; dpm's figures alone follow`);
    return r.status === 0;
  };
  if (!step('npm', ['pack', 'lightgbm', '--silent'])) return null;
  const tgz = readdirSync(CACHE).find((f) => /^lightgbm-.*\.tgz$/.test(f))!;
  mkdirSync(join(CACHE, 'src'), { recursive: true });
  const source = join(CACHE, 'src', 'package', 'dependencies', 'LightGBM');
  const built =
    step('tar', ['xzf', tgz, '-C', 'src']) &&
    step('cmake', ['-S', source, '-B', 'build', '-DCMAKE_BUILD_TYPE=Release', '-DCMAKE_CXX_FLAGS=-O3']) &&
    step('cmake', ['--build', 'build', '-j2', '--target', 'lightgbm']);
  if (!built) return null;
  // LightGBM's CMakeLists puts the CLI in the source folder.
  step('cp', [join(source, 'lightgbm'), binary]);
  return existsSync(binary) ? binary : null;
}

interface RunFigures {
  trainSec: number;
  loadSec: number;
  wallSec: number;
  cpuSec: number;
  peakGb: number;
  l1: number;
  load: string;
}

const loadText = (): string =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');

/** Runs a training CLI under /usr/bin/time -v and reads its log and resource figures. */
async function runTimed(label: string, cmd: string[], trainTime: RegExp): Promise<RunFigures> {
  const before = loadText();
  const child = spawn('/usr/bin/time', ['-v', ...cmd], { cwd: ROOT });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`${label} failed (exit ${code}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
  const num = (re: RegExp, text: string): number => Number(re.exec(text)?.[1] ?? NaN);
  const trained = [...stdout.matchAll(trainTime)];
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(stderr)!;
  const l1s = [...stdout.matchAll(/valid_1 l1 : (\S+)/g)];
  return {
    trainSec: Number(trained[trained.length - 1]?.[1] ?? NaN),
    loadSec: num(/Finished loading data in ([\d.]+) seconds/, stdout),
    wallSec: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]),
    cpuSec: num(/User time \(seconds\): ([\d.]+)/, stderr) + num(/System time \(seconds\): ([\d.]+)/, stderr),
    peakGb: num(/Maximum resident set size \(kbytes\): (\d+)/, stderr) / 1024 / 1024,
    l1: Number(l1s[l1s.length - 1]?.[1] ?? NaN),
    load: `${before} -> ${loadText()}`,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'dpm-bench-trainer-'));
try {
  const g0 = performance.now();
  const trainCsv = join(dir, 'train.csv');
  const holdoutCsv = join(dir, 'holdout.csv');
  await writeCsv(trainCsv, ROWS);
  const holdout = Array.from({ length: FEATURES }, () => new Float64Array(HOLDOUT));
  const holdoutLabel = new Float64Array(HOLDOUT);
  await writeCsv(holdoutCsv, HOLDOUT, (i, x, y) => {
    for (let f = 0; f < FEATURES; f++) holdout[f][i] = x[f];
    holdoutLabel[i] = y;
  });
  const gb = (path: string): string => `${(statSync(path).size / 1e9).toFixed(2)} GB`;
  console.log(
    `generated ${ROWS} x ${FEATURES} as CSV (${gb(trainCsv)}), + ${HOLDOUT} holdout rows (${gb(holdoutCsv)}), ` +
      `in ${((performance.now() - g0) / 1000).toFixed(1)} s`,
  );
  const conf = join(dir, 'train.conf');
  const config = [
    'task = train',
    'objective = huber',
    'alpha = 60',
    `num_iterations = ${ITERS}`,
    'num_leaves = 63',
    'learning_rate = 0.05',
    'min_data_in_leaf = 100',
    'feature_fraction = 0.8',
    'bagging_fraction = 0.8',
    'bagging_freq = 1',
    'seed = 1',
    'num_threads = 2',
    'label_column = 0',
    `categorical_feature = ${CAT}`,
    'metric = l1',
    `metric_freq = ${ITERS}`,
    `data = ${trainCsv}`,
    `valid = ${holdoutCsv}`,
  ];
  writeFileSync(conf, `${config.join('\n')}\n`);
  console.log(`config (both): ${config.slice(1, 16).join(', ')}`);

  const lgb = lightgbmBinary();
  const lgbModel = join(dir, 'lightgbm_model.txt');
  const dpmModel = join(dir, 'dpm_model.txt');
  const lgbRun = lgb
    ? await runTimed(
        'LightGBM',
        [lgb, `config=${conf}`, `output_model=${lgbModel}`],
        /([\d.]+) seconds elapsed, finished iteration/g,
      )
    : null;
  // The CLI bundle is rebuilt on the first command after a source change: not part of the timed run.
  spawnSync(process.execPath, ['bin/dpm.js', 'gbdt', '--help'], { cwd: ROOT, stdio: 'ignore' });
  const dpmRun = await runTimed(
    'dpm gbdt',
    [process.execPath, 'bin/dpm.js', 'gbdt', `config=${conf}`, `output_model=${dpmModel}`],
    /Finished training in ([\d.]+) seconds/g,
  );

  const row = (name: string, r: RunFigures): string =>
    `${name.padEnd(9)} training ${r.trainSec.toFixed(1)} s, loading ${r.loadSec.toFixed(1)} s, ` +
    `wall ${r.wallSec.toFixed(1)} s (${r.cpuSec.toFixed(1)} s CPU), peak ${r.peakGb.toFixed(2)} GB, ` +
    `holdout l1 ${r.l1.toFixed(3)}; load average ${r.load}`;
  if (lgbRun) console.log(row('LightGBM', lgbRun));
  console.log(row('dpm', dpmRun));
  if (lgbRun) {
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
    console.log(
      `ratio dpm/LightGBM: training ${ratio(dpmRun.trainSec, lgbRun.trainSec)}, ` +
        `wall ${ratio(dpmRun.wallSec, lgbRun.wallSec)}, peak memory ${ratio(dpmRun.peakGb, lgbRun.peakGb)}, ` +
        `holdout l1 ${ratio(dpmRun.l1, lgbRun.l1)} (${(100 * (dpmRun.l1 / lgbRun.l1 - 1)).toFixed(2)}%)`,
    );
    // The acceptance check: LightGBM predicts the holdout with dpm's model file.
    const lgbPred = join(dir, 'lightgbm_pred.txt');
    const pr = spawnSync(lgb!, [
      'task=predict',
      `data=${holdoutCsv}`,
      `input_model=${dpmModel}`,
      `output_result=${lgbPred}`,
    ]);
    if (pr.status !== 0) {
      console.log(`LightGBM could not predict with dpm's model (exit ${pr.status}):\n${pr.stdout}${pr.stderr}`);
    } else {
      const preds = readFileSync(lgbPred, 'utf8').trim().split('\n').map(Number);
      let l1 = 0;
      for (let i = 0; i < HOLDOUT; i++) l1 += Math.abs(preds[i] - Math.fround(holdoutLabel[i]));
      console.log(`LightGBM predicts the holdout with dpm's model: l1 ${(l1 / HOLDOUT).toFixed(3)}`);
    }
  }

  // dpm's prediction in process, on the holdout's columns: the first call compiles the model and starts workers.
  const booster = Booster.fromString(readFileSync(dpmModel, 'utf8'));
  const p0 = performance.now();
  booster.predict(holdout);
  const first = (performance.now() - p0) / 1000;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    booster.predict(holdout);
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(
    `dpm predict in process: ${HOLDOUT} rows x ${booster.numTrees} trees in ${first.toFixed(2)} s first call, ` +
      `${times[2].toFixed(2)} s median of 5 after`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
