import type { Knex } from 'knex';
import { train } from '../trainer/boosting/boosting.ts';
import type { Booster } from '../trainer/boosting/booster.ts';
import { DpmError, UsageError } from '../runner/errors.ts';
import { formatCount, type Logger } from '../runner/log.ts';
import { crossValidate, toDataset, type CvResult, type Params } from './cross-validate.ts';
import { score } from './evaluation.ts';
import { timeSeriesFolds, type Fold } from './folds.ts';
import { fitCalibration, targetDayGroup, type Calibration } from './calibration.ts';
import { readMatrix, subset, type Matrix } from './matrix.ts';
import {
  fitPointRule,
  modelledLabel,
  pointForecast,
  pointGroups,
  TARGET_SCALE,
  toMoney,
  withTargetScale,
} from './target-scale.ts';
import { newVersion, registerModel } from './registry.ts';
import { MedianPruner, TpeSampler, type Dimension, type Trial } from './tpe.ts';

/** The original pipeline's defaults (upstream-facts §7). */
export const DEFAULT_PARAMS: Params = {
  objective: 'regression_l1',
  num_leaves: 31,
  learning_rate: 0.05,
  feature_fraction: 0.9,
  bagging_fraction: 0.8,
  bagging_freq: 5,
  min_data_in_leaf: 20,
  lambda_l1: 0.1,
  lambda_l2: 0.1,
  num_iterations: 300,
  seed: 42,
};

/** The original search space; huber's alpha and fair's c are multiples of the target's robust scale (MAD). */
export const SEARCH_SPACE: Dimension[] = [
  { name: 'objective', kind: 'choice', choices: ['regression_l1', 'huber', 'fair'] },
  { name: 'num_leaves', kind: 'int', low: 10, high: 100 },
  { name: 'learning_rate', kind: 'float', low: 0.01, high: 0.3, log: true },
  { name: 'feature_fraction', kind: 'float', low: 0.5, high: 1 },
  { name: 'bagging_fraction', kind: 'float', low: 0.5, high: 1 },
  { name: 'bagging_freq', kind: 'int', low: 1, high: 10 },
  { name: 'min_data_in_leaf', kind: 'int', low: 5, high: 50 },
  { name: 'lambda_l1', kind: 'float', low: 0.001, high: 10, log: true },
  { name: 'lambda_l2', kind: 'float', low: 0.001, high: 10, log: true },
  { name: 'num_iterations', kind: 'int', low: 100, high: 500 },
  { name: 'scale_multiple', kind: 'float', low: 0.5, high: 2 },
];

export interface TrainCommandOptions {
  objective?: 'regression_l1' | 'huber' | 'fair';
  folds: number;
  validDays: number;
  earlyStopping: number;
  tune: boolean;
  trials: number;
  intervals: boolean;
  artifactsDir: string;
  seed: number;
  /** Train on feature days up to and including this date only (a backtest leaves the rest out). */
  trainEnd?: string;
}

export interface TrainResult {
  modelVersion: string;
  rows: number;
  cv: CvResult;
  holdout: { model: ReturnType<typeof score>; baselines: Record<string, ReturnType<typeof score>> };
  params: Params;
}

function robustScale(label: Float64Array): number {
  const sorted = Float64Array.from(label).sort();
  const median = sorted[Math.floor(sorted.length / 2)];
  const dev = Float64Array.from(label, (v) => Math.abs(v - median)).sort();
  return Math.max(1, dev[Math.floor(dev.length / 2)]);
}

/** Turns a search point into trainer parameters (alpha / fair_c from the scale multiple). */
function concrete(point: Params, scale: number): Params {
  const { scale_multiple, ...rest } = point;
  const multiple = Number(scale_multiple ?? 1);
  return {
    ...DEFAULT_PARAMS,
    ...rest,
    ...(rest.objective === 'huber' ? { alpha: multiple * scale } : {}),
    ...(rest.objective === 'fair' ? { fair_c: multiple * scale } : {}),
  };
}

/**
 * The fold that scores tuning trials: the one before the last, so the last fold stays a holdout no choice of
 * parameters has seen (reporting a fold the trials were scored on as the holdout would flatter the model).
 */
export function tuningFold(folds: Fold[]): Fold {
  if (folds.length < 2)
    throw new UsageError(
      '--tune needs --folds 2 or more: trials are scored on the fold before the last, which stays the holdout.',
    );
  return folds[folds.length - 2];
}

async function tune(m: Matrix, options: TrainCommandOptions, scale: number, log: Logger): Promise<Params> {
  const last = [tuningFold(timeSeriesFolds(m.dates, options.folds, options.validDays))];
  const sampler = new TpeSampler(SEARCH_SPACE, options.seed);
  const pruner = new MedianPruner(5);
  const history: Trial[] = [];
  for (let t = 0; t < options.trials; t++) {
    const point = sampler.suggest(history);
    const intermediate: [number, number][] = [];
    const cv = await crossValidate(m, last, concrete(point, scale), {
      earlyStopping: options.earlyStopping,
      every: 25,
      prune: (iteration, value) => {
        intermediate.push([iteration, value]);
        return pruner.shouldPrune(iteration, value);
      },
    });
    for (const [step, v] of intermediate) pruner.report(step, v);
    const loss = cv.pruned ? Infinity : cv.meanMae;
    history.push({ params: point, loss });
    log.info(
      `trial ${t + 1}/${options.trials}: ${cv.pruned ? 'pruned' : `MAE ${loss.toFixed(2)}`} ` +
        `(${point.objective}, ${point.num_leaves} leaves, lr ${Number(point.learning_rate).toFixed(3)})`,
    );
  }
  const best = history.filter((h) => Number.isFinite(h.loss)).sort((a, b) => a.loss - b.loss)[0];
  if (!best) throw new DpmError('every tuning trial was pruned; rerun with more --trials');
  log.info(`best trial: MAE ${best.loss.toFixed(2)} with ${JSON.stringify(best.params)}`);
  return concrete(best.params, scale);
}

/** dpm train: CV (optionally after a TPE search), a final fit, quantile models for intervals, registration. */
export async function trainAndRegister(knex: Knex, options: TrainCommandOptions, log: Logger): Promise<TrainResult> {
  const t0 = Date.now();
  const m = withTargetScale(
    await readMatrix(
      knex,
      { schema: 'training', table: 'model_training_input' },
      options.trainEnd ? { where: 'date <= ?::date', bindings: [options.trainEnd] } : {},
    ),
  );
  if (m.n === 0)
    throw new DpmError(
      `training.model_training_input has no rows${options.trainEnd ? ` up to ${options.trainEnd}` : ''}: ` +
        'ingest history and run dpm build first.',
    );
  log.info(
    `read ${formatCount(m.n)} rows x ${m.features.length} features from training.model_training_input ` +
      `in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  const scale = robustScale(modelledLabel(m));
  const folds = timeSeriesFolds(m.dates, options.folds, options.validDays);
  const params = options.tune
    ? await tune(m, options, scale, log)
    : concrete(
        { ...DEFAULT_PARAMS, seed: options.seed, ...(options.objective ? { objective: options.objective } : {}) },
        scale,
      );
  const cv = await crossValidate(m, folds, params, { earlyStopping: options.earlyStopping });
  for (const f of cv.folds) {
    log.info(
      `fold ${f.fold.validStart}..${f.fold.validEnd}: train ${formatCount(f.trainRows)} rows to ${f.fold.trainEnd}, ` +
        `MAE ${f.model.mae.toFixed(2)} (zero ${f.baselines.zero.mae.toFixed(2)}, ` +
        `yesterday ${f.baselines.yesterday.mae.toFixed(2)}, 7-day mean ${f.baselines.mean_7d.mae.toFixed(2)}), ` +
        `best iteration ${f.bestIteration}`,
    );
  }
  const iterations = Math.max(20, cv.meanBestIteration);
  const finalParams: Params = { ...params, num_iterations: iterations, verbosity: -1 };
  const model = await train(finalParams, toDataset(m));

  // The holdout (last fold) also measures the interval models, trained without the holdout days, and fits how
  // predictions are published: the point forecast's shrink towards 0 per group of rows, then the interval's
  // shifts that make its outcomes miss each bound 5% of the time.
  const last = folds[folds.length - 1];
  const lastTrain = subset(m, (i) => m.dates[i] <= last.trainEnd);
  const lastValid = subset(m, (i) => m.dates[i] >= last.validStart && m.dates[i] <= last.validEnd);
  const lastRaw = (await train(finalParams, toDataset(lastTrain))).predict(lastValid.columns);
  const lastGroups = pointGroups(lastValid);
  const pointRule = fitPointRule(toMoney(lastRaw, lastValid.scale), lastValid.label, lastGroups);
  const holdoutPred = pointForecast(lastRaw, lastValid, pointRule);
  log.info(
    `point forecast factors from the last fold: ${Object.entries(pointRule)
      .sort()
      .map(([g, f]) => `${g} ${f} (${lastGroups.filter((x) => x === g).length} rows)`)
      .join(', ')}`,
  );
  let lower: Booster | undefined;
  let upper: Booster | undefined;
  let calibration: Calibration | undefined;
  const quantile = (alpha: number, data: Matrix) =>
    train({ ...finalParams, objective: 'quantile', alpha }, toDataset(data));
  const lastFold = cv.folds[cv.folds.length - 1];
  let holdoutModel = score(holdoutPred, lastValid.label);
  if (options.intervals) {
    const [lo, hi] = [await quantile(0.05, lastTrain), await quantile(0.95, lastTrain)];
    const raw = { lower: lo.predict(lastValid.columns), upper: hi.predict(lastValid.columns) };
    holdoutModel = score(holdoutPred, lastValid.label, {
      lower: toMoney(raw.lower, lastValid.scale),
      upper: toMoney(raw.upper, lastValid.scale),
    });
    const scale = lastValid.scale;
    calibration = fitCalibration(
      raw,
      scale ? holdoutPred.map((v, i) => v / scale[i]) : holdoutPred,
      modelledLabel(lastValid),
      lastValid.dates.map(targetDayGroup),
    );
    lower = await quantile(0.05, m);
    upper = await quantile(0.95, m);
  }
  const gain = model.featureImportance('gain');
  const split = model.featureImportance('split');
  const importance = m.features
    .map((f, i) => ({ feature: f.name, gain: gain[i], split: split[i] }))
    .sort((a, b) => b.gain - a.gain);
  const sortedDates = [...m.dates].sort();
  const modelVersion = newVersion();
  const dir = await registerModel(
    knex,
    {
      modelVersion,
      objective: String(params.objective),
      trainStart: sortedDates[0],
      trainEnd: sortedDates[sortedDates.length - 1],
      params: finalParams,
      features: m.features,
      cvMetrics: { folds: cv.folds, mean_mae: cv.meanMae, holdout: holdoutModel },
      card: { targetScale: TARGET_SCALE, pointRule, ...(calibration ? { calibration } : {}) },
      baselineMetrics: lastFold.baselines,
      featureImportance: importance,
      model,
      lower,
      upper,
    },
    options.artifactsDir,
  );
  log.info(
    `registered ${modelVersion} (${params.objective}, ${iterations} trees) as the active model; ` +
      `artifacts in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)}s in all)`,
  );
  return {
    modelVersion,
    rows: m.n,
    cv,
    holdout: { model: holdoutModel, baselines: lastFold.baselines },
    params: finalParams,
  };
}
