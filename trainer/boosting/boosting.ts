// The GBDT boosting loop (src/boosting/gbdt.cpp): init score, per-iteration gradients, bagging, tree growth,
// leaf renewal, shrinkage, score updates, validation metrics and early stopping.
import { availableParallelism } from 'node:os';
import { Bagging } from './bagging.ts';
import { Booster, type EvalRecord } from './booster.ts';
import type { Dataset } from '../io/dataset.ts';
import { DataError } from '../utils/errors.ts';
import { addTreeOutput, WalkTables } from '../treelearner/bin-walk.ts';
import { HistPool, type SharedBoosting } from '../treelearner/hist-pool.ts';
import { allocateBuffers, featureLayout, splitConfig, TreeLearner } from '../treelearner/learner.ts';
import { defaultMetric, evalMetric, type MetricName } from '../metric/metrics.ts';
import { createObjective, percentile } from '../objective/objectives.ts';
import { PARAMS, resolveParams, type ParamInput, type Params } from '../io/params.ts';
import { g6 } from '../utils/format.ts';
import type { Tree } from '../io/tree.ts';

const K_EPSILON = 1.0000000036274937e-15;

export interface IterationInfo {
  /** 1-based iteration just finished. */
  iteration: number;
  evals: EvalRecord[];
}

export interface TrainOptions {
  valid?: Dataset[];
  /** Names used in logs and evalHistory; default valid_1, valid_2, ... */
  validNames?: string[];
  /** Called after every iteration; return true to stop training (any other result, or none, goes on). */
  callbacks?: ((info: IterationInfo) => unknown)[];
  /** Receives LightGBM-style log lines ("[LightGBM] [Info] ..."); silent by default. */
  log?: (line: string) => void;
}

export async function train(params: ParamInput, dataset: Dataset, options: TrainOptions = {}): Promise<Booster> {
  const p = resolveParams(params);
  const log = options.log ?? (() => {});
  const info = (m: string): void => {
    if (p.verbosity >= 1) log(`[LightGBM] [Info] ${m}`);
  };
  const valid = options.valid ?? [];
  dataset.construct(p);
  for (const [i, v] of valid.entries()) {
    if (v.numFeatures !== dataset.numFeatures) {
      throw new DataError(
        `validation set ${i + 1} has ${v.numFeatures} features but the training set has ${dataset.numFeatures}; ` +
          'both must have the same columns in the same order',
      );
    }
    if (v.columns === null && v.mappers !== dataset.mappers) {
      throw new DataError(
        `validation set ${i + 1} was binned as it was read, with other bin mappers than the training set's; ` +
          'load it with loadValidFile(path, options, trainSet)',
      );
    }
  }
  const validNames = valid.map((_, i) => options.validNames?.[i] ?? `valid_${i + 1}`);
  const N = dataset.numData;
  const layout = featureLayout(dataset);
  const threads = Math.max(1, Math.min(p.num_threads > 0 ? p.num_threads : availableParallelism(), 4));
  const b = dataset.binned!;
  const buf = allocateBuffers(N, Math.max(1, layout.totalBins), p.num_leaves, b, dataset.numFeatures, threads);
  // Scores, the bag and the compiled tree live in shared memory: the histogram worker also computes half of the
  // gradients and walks half of the rows through each tree.
  const state: SharedBoosting = {
    params: p,
    label: dataset.label,
    score: sharedF64(N),
    oob: null,
    walk: new WalkTables(p.num_leaves),
    stride: b.stride,
    valid: [],
  };
  const validScores = valid.map((v) => sharedF64(v.numData));
  const shared = valid.map((v, i) => {
    if (v.columns !== null || v.binned!.stride !== b.stride) return false;
    state.valid.push({ rowBins: sharedCopy(v.binned!.rowBins), score: validScores[i] });
    return true;
  });
  const bagging =
    p.bagging_fraction < 1 && p.bagging_freq > 0 ? new Bagging(N, p.bagging_fraction, p.bagging_seed) : null;
  state.oob = bagging?.oob ?? null;
  const pool = await HistPool.create(
    {
      stride: b.stride,
      binPos: b.binPos,
      wide: b.wide,
      numBins: layout.numBins,
      offsets: layout.offsets,
      ...buf,
      boosting: state,
    },
    threads,
    layout.metas,
    splitConfig(p),
  );
  try {
    const run = { state, validScores, shared, bagging };
    return runBoosting(p, dataset, valid, validNames, options, layout, buf, pool, run, info);
  } finally {
    await pool.close();
  }
}

const sharedF64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(8 * n));

/** The bytes in shared memory (a copy unless they already are). */
function sharedCopy(a: Uint8Array): Uint8Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = new Uint8Array(new SharedArrayBuffer(a.length));
  out.set(a);
  return out;
}

function runBoosting(
  p: Params,
  ds: Dataset,
  valid: Dataset[],
  validNames: string[],
  options: TrainOptions,
  layout: ReturnType<typeof featureLayout>,
  buf: ReturnType<typeof allocateBuffers>,
  pool: HistPool,
  run: { state: SharedBoosting; validScores: Float64Array[]; shared: boolean[]; bagging: Bagging | null },
  info: (m: string) => void,
): Booster {
  const N = ds.numData;
  const usedFeatures = layout.metas.filter((m) => m !== null).length;
  info(`Total Bins ${layout.totalBins}`);
  info(`Number of data points in the train set: ${N}, number of used features: ${usedFeatures}`);
  const objective = createObjective(p, ds.label);
  const learner = new TreeLearner(ds, p, buf, pool, layout.metas);
  const metrics: MetricName[] = (p.metric.length > 0 ? p.metric : [defaultMetric(p.objective)]) as MetricName[];
  const { score, walk } = run.state;
  const { validScores, shared, bagging } = run;
  const trees: Tree[] = [];
  const history: EvalRecord[] = [];

  let init = 0;
  if (p.boost_from_average) {
    const s = objective.boostFromScore();
    if (Math.abs(s) > K_EPSILON) {
      init = s;
      score.fill(s);
      for (const vs of validScores) vs.fill(s);
      info(`Start training from score ${g6(s)}`);
    }
  }

  const es = p.early_stopping_round;
  const bestScore = valid.map(() => metrics.map(() => -Infinity));
  const bestIter = valid.map(() => metrics.map(() => 0));
  let bestIteration = 0;

  for (let iter = 0; iter < p.num_iterations; iter++) {
    pool.gradients(objective, buf.grad, buf.hess);
    if (bagging && iter % p.bagging_freq === 0) bagging.next();
    const tree = learner.train(objective.constHessian, bagging?.bag ?? null, bagging?.bagCnt ?? N);
    if (tree.numLeaves <= 1) {
      if (trees.length === 0) {
        tree.asConstant(init);
        trees.push(tree);
      }
      info('Stopped training because there are no more leaves that meet the split requirements');
      break;
    }
    if (objective.renewAlpha !== null) {
      const label = ds.label;
      for (let l = 0; l < tree.numLeaves; l++) {
        const begin = learner.leafBegin[l],
          cnt = learner.leafCnt[l];
        if (cnt === 0) continue;
        const res = new Float64Array(cnt);
        for (let i = 0; i < cnt; i++) {
          const row = buf.idx[begin + i];
          res[i] = label[row] - score[row];
        }
        tree.leafValue[l] = percentile(res, objective.renewAlpha);
      }
    }
    tree.shrink(p.learning_rate);
    learner.addInBag(tree, score);
    const oobCnt = bagging?.oobCnt ?? 0;
    const walked = walk.compile(tree, layout.metas, ds.binned!.binPos);
    if (walked) pool.walkTree(buf.rowBins, oobCnt);
    else if (oobCnt > 0) learner.addOutOfBag(tree, bagging!.oob, oobCnt, score);
    for (let i = 0; i < valid.length; i++) {
      const v = valid[i];
      if (walked && shared[i]) continue;
      if (v.columns !== null) tree.addPrediction(v.columns, v.numData, validScores[i]);
      else addTreeOutput(tree, layout.metas, v.binned!, null, v.numData, validScores[i]);
    }
    if (iter === 0 && init !== 0) tree.addBias(init);
    trees.push(tree);

    // OutputMetric / EvalAndCheckEarlyStopping
    const it = iter + 1;
    const needOutput = it % p.metric_freq === 0;
    const evals: EvalRecord[] = [];
    let stop = false;
    let esStop = false;
    if (valid.length > 0 && (needOutput || es > 0 || options.callbacks?.length)) {
      for (let i = 0; i < valid.length; i++) {
        for (let j = 0; j < metrics.length; j++) {
          const value = evalMetric(metrics[j], validScores[i], valid[i].label, p);
          evals.push({ iteration: it, dataset: validNames[i], metric: metrics[j], value });
          if (needOutput) info(`Iteration:${it}, ${validNames[i]} ${metrics[j]} : ${g6(value)}`);
          if (es > 0 && !esStop && !(p.first_metric_only && j > 0)) {
            const cur = -value;
            if (cur > bestScore[i][j]) {
              bestScore[i][j] = cur;
              bestIter[i][j] = it;
            } else if (it - bestIter[i][j] >= es) {
              esStop = true;
            }
          }
        }
      }
    }
    history.push(...evals);
    for (const cb of options.callbacks ?? []) if (cb({ iteration: it, evals }) === true) stop = true;
    if (esStop) {
      bestIteration = it - es;
      info(`Early stopping at iteration ${it}, the best iteration round is ${bestIteration}`);
      trees.length = Math.max(1, bestIteration);
      break;
    }
    if (stop) break;
  }

  const booster = new Booster({
    trees,
    featureNames: ds.featureNames.map((n) => n.replace(/ /g, '_')),
    featureInfos: ds.mappers!.map((m) => m.info()),
    objective: objective.modelName,
    parameters: modelParameters(p),
  });
  booster.bestIteration = bestIteration;
  booster.evalHistory = history;
  return booster;
}

/** The `parameters:` block, in LightGBM's `[key: value]` form (CLI-only keys left out). */
function modelParameters(p: Params): [string, string][] {
  const out: [string, string][] = [];
  for (const spec of PARAMS) {
    if (spec.cli) continue;
    const v = (p as unknown as Record<string, unknown>)[spec.name];
    const s = typeof v === 'boolean' ? (v ? '1' : '0') : Array.isArray(v) ? v.join(',') : v === null ? '' : String(v);
    out.push([spec.name, s]);
  }
  return out;
}
