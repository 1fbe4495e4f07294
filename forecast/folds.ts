import { addDays } from '../runner/dates.ts';

/** One expanding-window split: train on every day up to `trainEnd`, validate on [validStart, validEnd]. */
export interface Fold {
  trainEnd: string;
  validStart: string;
  validEnd: string;
}

/**
 * Time-series cross-validation over feature dates: the last `folds` blocks of `validDays` days are the
 * validation windows, each trained on all earlier days minus a `gapDays` gap. A row of day D has its
 * target on D+1, so a one-day gap keeps every training target strictly before the validation window.
 */
export function timeSeriesFolds(dates: string[], folds: number, validDays: number, gapDays = 1): Fold[] {
  const unique = [...new Set(dates)].sort();
  if (unique.length < folds * validDays + 2 * gapDays + 7) {
    throw new Error(
      `${unique.length} feature days are too few for ${folds} folds of ${validDays} days: ` +
        'ingest more history or pass --folds/--valid-days smaller.',
    );
  }
  const out: Fold[] = [];
  for (let k = folds; k >= 1; k--) {
    const validStartIdx = unique.length - k * validDays;
    const validStart = unique[validStartIdx];
    const validEnd = unique[validStartIdx + validDays - 1];
    out.push({ trainEnd: addDays(validStart, -1 - gapDays), validStart, validEnd });
  }
  return out;
}
