import type { Knex } from 'knex';
import { addDays } from '../runner/dates.ts';
import { DpmError } from '../runner/errors.ts';
import { formatCount, type Logger } from '../runner/log.ts';
import { readMatrix } from './matrix.ts';
import { loadModel } from './registry.ts';

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
 * Scores every eligible account of day D with the active model: the point forecast, a 90% interval
 * from the quantile models and the top SHAP reasons. Re-running a date replaces its rows.
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
  const m = await readMatrix(
    knex,
    { schema: 'training', table: 'prediction_input' },
    { features: model.features, where: 'date = ?::date', bindings: [date] },
  );
  if (m.n === 0)
    throw new DpmError(
      `no eligible funded account has features on ${date}: ` +
        'pick another --date (latest days in training.prediction_input).',
    );
  const predicted = model.model.predict(m.columns);
  const lower = model.lower?.predict(m.columns);
  const upper = model.upper?.predict(m.columns);
  const contributions = model.model.contributions(m.columns);
  const cutoff = [...predicted].sort((a, b) => a - b)[Math.max(0, Math.floor(m.n / 10) - 1)];
  const rows = Array.from({ length: m.n }, (_, i) => {
    const phi = contributions[i];
    const reasons: Reason[] = m.features
      .map((f, j) => ({
        feature: f.name,
        contribution: phi[j],
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
      // Quantile models are fitted separately, so a crossing pair is ordered rather than trusted as is.
      lower_bound: lower && upper ? Math.min(lower[i], upper[i], predicted[i]) : null,
      upper_bound: lower && upper ? Math.max(lower[i], upper[i], predicted[i]) : null,
      high_risk: predicted[i] <= cutoff,
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
