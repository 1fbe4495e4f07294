// Trainer benchmark: 1 000 000 x 50 generated regression set (heavy-tailed target, 3% missing, one 40-level
// categorical column), huber, 300 iterations, 63 leaves. Prints training time, peak memory and prediction
// throughput. Never fails on time: it reports numbers.
// Usage: npx tsx bench/trainer.ts [rows=1000000] [iterations=300]
import { train } from '../trainer/boosting/boosting.ts';
import { Dataset } from '../trainer/io/dataset.ts';
import { resolveParams } from '../trainer/io/params.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ITERS = Number(process.argv[3] ?? 300);
const FEATURES = 50;
const CAT = 7;

let state = 20240601;
const uniform = (): number => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return (state + 0.5) / 4294967296;
};
const normal = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
// Student-t with 3 degrees of freedom: heavy tails like daily PnL.
const studentT = (): number => normal() / Math.sqrt((normal() ** 2 + normal() ** 2 + normal() ** 2) / 3);

function generate(n: number): { columns: Float64Array[]; label: Float64Array } {
  const columns = Array.from({ length: FEATURES }, () => new Float64Array(n));
  const label = new Float64Array(n);
  const catEffect = Array.from({ length: 40 }, () => normal() * 30);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < FEATURES; f++) columns[f][i] = f === CAT ? Math.floor(uniform() * 40) : normal();
    const x = (f: number): number => columns[f][i];
    label[i] =
      40 * x(0) +
      25 * Math.sin(2 * x(1)) +
      15 * x(2) * x(3) +
      20 * Math.max(0, x(4)) +
      catEffect[x(CAT)] +
      10 * x(5) * (x(6) > 0 ? 1 : -1) +
      60 * studentT();
    for (let f = 0; f < FEATURES; f++) if (f !== CAT && uniform() < 0.03) columns[f][i] = NaN;
  }
  return { columns, label };
}

const g0 = performance.now();
const data = generate(ROWS);
const ds = Dataset.fromColumns({ columns: data.columns, categorical: [CAT], label: data.label });
console.log(`generated ${ROWS} x ${FEATURES} in ${((performance.now() - g0) / 1000).toFixed(1)} s`);

const params = {
  objective: 'huber',
  alpha: 60,
  num_iterations: ITERS,
  num_leaves: 63,
  learning_rate: 0.05,
  min_data_in_leaf: 100,
  feature_fraction: 0.8,
  bagging_fraction: 0.8,
  bagging_freq: 1,
  seed: 1,
  num_threads: 2,
};
// Bin finding and binning apart from the boosting, as LightGBM's log separates them ("Finished loading data in
// ... seconds", which also covers parsing its CSV, then "... seconds elapsed, finished iteration N").
const b0 = performance.now();
ds.construct(resolveParams(params));
const binSec = (performance.now() - b0) / 1000;
const t0 = performance.now();
const c0 = process.cpuUsage();
const booster = await train(params, ds);
const trainSec = (performance.now() - t0) / 1000;
const trainCpu = process.cpuUsage(c0);
const peakMb = process.resourceUsage().maxRSS / 1024;

const testRows = 200_000;
const test = generate(testRows);
const p0 = performance.now();
const pc0 = process.cpuUsage();
const pred = booster.predict(test.columns);
const predSec = (performance.now() - p0) / 1000;
const predCpu = process.cpuUsage(pc0);
let l1 = 0;
for (let i = 0; i < testRows; i++) l1 += Math.abs(pred[i] - test.label[i]);

const cpu = (u: NodeJS.CpuUsage): string => ((u.user + u.system) / 1e6).toFixed(1);
console.log(`dataset: bins found and assigned in ${binSec.toFixed(1)} s`);
console.log(
  `train: ${trainSec.toFixed(1)} s wall, ${cpu(trainCpu)} s CPU (all threads), for ${booster.numTrees} trees ` +
    `(${params.num_leaves} leaves, huber, bagging 0.8/1, feature_fraction 0.8, 2 threads); ` +
    `with the binning ${(binSec + trainSec).toFixed(1)} s`,
);
console.log(
  `peak memory (max RSS, whole process incl. the ${((ROWS * FEATURES * 8) / 1e9).toFixed(1)} GB input): ` +
    `${(peakMb / 1024).toFixed(2)} GB`,
);
console.log(
  `predict: ${testRows} rows x ${booster.numTrees} trees in ${predSec.toFixed(2)} s wall, ${cpu(predCpu)} s CPU ` +
    `(${Math.round(testRows / predSec)} rows/s); holdout l1 ${(l1 / testRows).toFixed(2)}`,
);
console.log(
  `load average during the run: ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${(await import('node:os')).availableParallelism()} cores`,
);
console.log(
  "LightGBM 4.x reference (issue #3's machine): 47 s train on 2 threads, 1.35 GB peak, ~4 s predict. " +
    'Targets: train <= 1.5x LightGBM on the same machine (70.5 s there), < 2 GB, predict < 2 s.',
);
console.log(
  'LightGBM 4.1 built from source on the 2026-12-02 machine (docs/trainer.md): ' +
    'loading + binning 9.4 s, training 79.5 s, 1.38 GB peak.',
);
