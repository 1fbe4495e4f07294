import { Dataset } from '../trainer/io/dataset.ts';
import { train } from '../trainer/boosting/boosting.ts';
import type { Booster } from '../trainer/boosting/booster.ts';
import type { Fold } from './folds.ts';
import { subset, type Matrix } from './matrix.ts';
import { baselinePredictions, score, type Scores } from './evaluation.ts';
import { CATEGORICAL } from './features.ts';
import { modelledLabel, pointForecast } from './target-scale.ts';

export type Params = Record<string, unknown>;

export function toDataset(m: Matrix): Dataset {
  return Dataset.fromColumns({
    columns: m.columns,
    featureNames: m.features.map((f) => f.name),
    categorical: m.features.flatMap((f, i) => (CATEGORICAL.has(f.name) ? [i] : [])),
    label: modelledLabel(m),
  });
}

export interface FoldResult {
  fold: Fold;
  trainRows: number;
  validRows: number;
  bestIteration: number;
  model: Scores;
  baselines: Record<string, Scores>;
}

export interface CvResult {
  folds: FoldResult[];
  meanMae: number;
  meanBestIteration: number;
  pruned: boolean;
}

/** Reports the validation metric every `every` iterations; returning true stops the trial (pruning). */
export type PruneCheck = (iteration: number, value: number) => boolean;

/**
 * Fits one parameter set on each fold with early stopping on that fold's validation window and scores
 * it next to the naive baselines on the same rows.
 */
export interface CvOptions {
  earlyStopping: number;
  prune?: PruneCheck;
  every?: number;
  /** The trainer each fold calls; the tests pass a wrapper to see exactly which rows a fold is fed. */
  fit?: typeof train;
}

export async function crossValidate(
  m: Matrix,
  folds: Fold[],
  params: Params,
  options: CvOptions = { earlyStopping: 50 },
): Promise<CvResult> {
  const fit = options.fit ?? train;
  const results: FoldResult[] = [];
  let pruned = false;
  for (const [k, fold] of folds.entries()) {
    const trainSet = subset(m, (i) => m.dates[i] <= fold.trainEnd);
    const validSet = subset(m, (i) => m.dates[i] >= fold.validStart && m.dates[i] <= fold.validEnd);
    const every = options.every ?? 25;
    const booster: Booster = await fit(
      { ...params, early_stopping_round: options.earlyStopping, metric: 'l1', verbosity: -1 },
      toDataset(trainSet),
      {
        valid: [toDataset(validSet)],
        callbacks: [
          ({ iteration, evals }) => {
            if (!options.prune || k !== folds.length - 1 || iteration % every !== 0) return false;
            const v = evals.find((e) => e.metric === 'l1')?.value;
            if (v !== undefined && options.prune(iteration, v)) {
              pruned = true;
              return true;
            }
            return false;
          },
        ],
      },
    );
    const predicted = pointForecast(booster.predict(validSet.columns), validSet);
    const byName = new Map(validSet.features.map((f, i) => [f.name, validSet.columns[i]]));
    const base = baselinePredictions(byName, validSet.n);
    results.push({
      fold,
      trainRows: trainSet.n,
      validRows: validSet.n,
      bestIteration: booster.bestIteration || booster.numTrees,
      model: score(predicted, validSet.label),
      baselines: Object.fromEntries(Object.entries(base).map(([name, p]) => [name, score(p, validSet.label)])),
    });
    if (pruned) break;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    folds: results,
    meanMae: mean(results.map((r) => r.model.mae)),
    meanBestIteration: Math.round(mean(results.map((r) => r.bestIteration))),
    pruned,
  };
}
