import type { Knex } from 'knex';
import { addDays } from '../runner/dates.ts';
import { DpmError } from '../runner/errors.ts';
import { formatCount, type Logger } from '../runner/log.ts';
import { applyCalibration, targetDayGroup } from './calibration.ts';
import { readMatrix } from './matrix.ts';
import { loadModel } from './registry.ts';
import { pointForecast, toMoney, withTargetScale } from './target-scale.ts';

export interface PredictOptions {
  /** Feature date D; predictions are for D+1. Default: the latest day in training.prediction_input. */
  date?: string;
  modelVersion?: string;
  topReasons: number;
}

export interface Reason {
  feature: string;
  contribution: number;
  value: number | string | null;
}

/**
 * Scores every eligible account of day D with the active model: the point forecast, a calibrated 90% interval
 * from the quantile models, `high_risk` for the lowest decile of the interval's lower end (the risk score) and
 * the top SHAP reasons of that risk score. Re-running a date replaces its rows.
 */
export async function predictDay(
  knex: Knex,
  options: PredictOptions,
  log: Logger,
): Promise<{ modelVersion: string; featureDate: string; rows: number }> {
  const model = await loadModel(knex, options.modelVersion);
  const date =
    options.date ?? (await knex.raw(`select max(date)::text as d from training.prediction_input`)).rows[0]?.d;
  if (!date) throw new DpmError('training.prediction_input has no rows: run dpm build first.');
  const read = await readMatrix(
    knex,
    { schema: 'training', table: 'prediction_input' },
    { features: model.features, where: 'date = ?::date', bindings: [date] },
  );
  const m = model.card.targetScale ? withTargetScale(read) : read;
  if (m.n === 0)
    throw new DpmError(
      `no eligible funded account has features on ${date}: ` +
        'pick another --date (latest days in training.prediction_input).',
    );
  const predicted = pointForecast(model.model.predict(m.columns), m, model.card.pointRule);
  const bounds =
    model.lower && model.upper
      ? applyCalibration(
          { lower: model.lower.predict(m.columns), upper: model.upper.predict(m.columns) },
          m.dates.map(targetDayGroup),
          model.card.calibration,
        )
      : undefined;
  // Quantile models are fitted separately, so a crossing pair is ordered rather than trusted as is.
  const lower = bounds && toMoney(bounds.lower, m.scale).map((v, i) => Math.min(v, predicted[i]));
  const upper = bounds && toMoney(bounds.upper, m.scale).map((v, i) => Math.max(v, predicted[i]));
  const interval = lower && upper ? { lower: lower.map((v, i) => Math.min(v, upper[i])), upper } : undefined;
  // The risk score is the 5% quantile: the accounts most likely to lose big come first, whatever their median.
  const risk = interval?.lower ?? predicted;
  const explained = interval ? model.lower! : model.model;
  const contributions = explained.contributions(m.columns);
  const cutoff = [...risk].sort((a, b) => a - b)[Math.max(0, Math.floor(m.n / 10) - 1)];
  const rows = Array.from({ length: m.n }, (_, i) => {
    const phi = contributions[i];
    const reasons: Reason[] = m.features
      .map((f, j) => ({
        feature: f.name,
        contribution: phi[j] * (m.scale?.[i] ?? 1),
        value: f.levels
          ? (f.levels[m.columns[j][i]] ?? null)
          : Number.isFinite(m.columns[j][i])
            ? m.columns[j][i]
            : null,
      }))
      .filter((r) => r.contribution !== 0)
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
      .slice(0, options.topReasons);
    return {
      model_version: model.modelVersion,
      account_id: m.accounts[i],
      feature_date: date,
      prediction_date: addDays(date, 1),
      predicted_net_profit: predicted[i],
      lower_bound: interval ? interval.lower[i] : null,
      upper_bound: interval ? interval.upper[i] : null,
      high_risk: risk[i] <= cutoff,
      top_reasons: JSON.stringify(reasons),
    };
  });
  await knex.transaction(async (trx) => {
    await trx('dpm.model_predictions').where({ model_version: model.modelVersion, feature_date: date }).delete();
    for (let i = 0; i < rows.length; i += 1000) await trx('dpm.model_predictions').insert(rows.slice(i, i + 1000));
  });
  log.info(
    `predicted ${formatCount(m.n)} accounts for ${addDays(date, 1)} (features of ${date}) ` +
      `with ${model.modelVersion}; ${rows.filter((r) => r.high_risk).length} flagged high-risk`,
  );
  return { modelVersion: model.modelVersion, featureDate: date, rows: m.n };
}
