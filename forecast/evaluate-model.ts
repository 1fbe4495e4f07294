import type { Knex } from 'knex';
import type { Logger } from '../runner/log.ts';
import { score, type Scores } from './evaluation.ts';
import { loadModel } from './registry.ts';

export interface Evaluation {
  featureDate: string;
  n: number;
  model: Scores;
  baselines: Record<string, Scores>;
  oracle?: Scores;
}

/** Looks up the simulator's best-achievable forecast (median net profit) per account for a day. */
export type OracleSource = (predictionDate: string) => Promise<Map<string, number> | undefined>;

/**
 * Joins stored predictions with what happened and scores them next to the naive baselines (zero,
 * yesterday's PnL, 7-day mean) and, on simulated data, the oracle; stores one row per feature date.
 */
export async function evaluatePredictions(
  knex: Knex,
  options: { date?: string; modelVersion?: string; oracle?: OracleSource },
  log: Logger,
): Promise<Evaluation[]> {
  const model = await loadModel(knex, options.modelVersion);
  const { rows } = await knex.raw(
    `select p.feature_date::text as feature_date, p.prediction_date::text as prediction_date, p.account_id,
            p.predicted_net_profit, p.lower_bound, p.upper_bound, a.net_profit as actual,
            coalesce(f.net_profit, 0) as yesterday, coalesce(f.pnl_avg_7d, 0) as mean_7d
     from dpm.model_predictions p
     join intermediate.int_account_snapshots_daily a on a.account_id = p.account_id and a.date = p.prediction_date
     left join features.feature_store_account_daily f on f.account_id = p.account_id and f.date = p.feature_date
     where p.model_version = ? ${options.date ? 'and p.feature_date = ?::date' : ''}
     order by p.feature_date, p.account_id`,
    options.date ? [model.modelVersion, options.date] : [model.modelVersion],
  );
  const byDate = new Map<string, typeof rows>();
  for (const r of rows) byDate.set(r.feature_date, [...(byDate.get(r.feature_date) ?? []), r]);
  const out: Evaluation[] = [];
  for (const [featureDate, group] of byDate) {
    const col = (k: string) => Float64Array.from(group, (r: Record<string, number>) => Number(r[k]));
    const actual = col('actual');
    const hasInterval = group.every((r: Record<string, unknown>) => r.lower_bound !== null);
    const evaluation: Evaluation = {
      featureDate,
      n: group.length,
      model: score(
        col('predicted_net_profit'),
        actual,
        hasInterval ? { lower: col('lower_bound'), upper: col('upper_bound') } : undefined,
      ),
      baselines: {
        zero: score(new Float64Array(group.length), actual),
        yesterday: score(col('yesterday'), actual),
        mean_7d: score(col('mean_7d'), actual),
      },
    };
    const oracle = await options.oracle?.(group[0].prediction_date);
    if (oracle) {
      const o = Float64Array.from(group, (r: { account_id: string }) => oracle.get(r.account_id) ?? NaN);
      const known = [...o.keys()].filter((i) => Number.isFinite(o[i]));
      evaluation.oracle = score(
        Float64Array.from(known, (i) => o[i]),
        Float64Array.from(known, (i) => actual[i]),
      );
    }
    out.push(evaluation);
    await knex('dpm.model_evaluations')
      .insert({
        model_version: model.modelVersion,
        feature_date: featureDate,
        n: group.length,
        metrics: JSON.stringify({
          ...evaluation.model,
          baselines: evaluation.baselines,
          oracle: evaluation.oracle ?? null,
        }),
      })
      .onConflict(['model_version', 'feature_date'])
      .merge();
    const { model: scores, baselines } = evaluation;
    const oracleMae = evaluation.oracle ? `, oracle ${evaluation.oracle.mae.toFixed(2)}` : '';
    const coverage =
      scores.interval_coverage !== undefined
        ? `, interval coverage ${(scores.interval_coverage * 100).toFixed(1)}%`
        : '';
    log.info(
      `evaluated ${featureDate} -> ${group[0].prediction_date}: ${group.length} accounts, ` +
        `MAE ${scores.mae.toFixed(2)} ` +
        `(zero ${baselines.zero.mae.toFixed(2)}, yesterday ${baselines.yesterday.mae.toFixed(2)}, ` +
        `7-day mean ${baselines.mean_7d.mae.toFixed(2)}` +
        `${oracleMae}), direction ${(scores.directional_accuracy * 100).toFixed(1)}%` +
        coverage,
    );
  }
  if (out.length === 0)
    log.warn(`nothing to evaluate: no stored prediction of ${model.modelVersion} has its outcome ingested yet.`);
  return out;
}
