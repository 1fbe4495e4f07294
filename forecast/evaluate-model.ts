import type { Knex } from 'knex';
import type { Logger } from '../runner/log.ts';
import { targetDayGroup } from './calibration.ts';
import { score, type Scores } from './evaluation.ts';
import { loadModel } from './registry.ts';
import { intervalScores, riskScores, type IntervalScores, type RiskScores } from './risk-metrics.ts';

export interface Evaluation {
  featureDate: string;
  n: number;
  /** The day predicted (feature date + 1) is a Saturday or Sunday. */
  weekend: boolean;
  /** The model's risk score is its interval's lower end (the 5% quantile), else the point forecast. */
  model: Scores & Partial<IntervalScores> & RiskScores;
  baselines: Record<string, Scores>;
  /** The naive risk score: the trailing 30-day standard deviation of daily PnL. */
  naiveRisk: RiskScores;
  oracle?: Scores & IntervalScores & RiskScores;
}

/** The simulator's true distribution of an account's net profit on a day: the best achievable forecasts. */
export interface OracleForecast {
  median: number;
  q05: number;
  q95: number;
  expectedAbs: number;
}

/** Looks up the oracle's forecasts per account for a predicted day. */
export type OracleSource = (predictionDate: string) => Promise<Map<string, OracleForecast> | undefined>;

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
            coalesce(f.net_profit, 0) as yesterday, coalesce(f.pnl_avg_7d, 0) as mean_7d,
            coalesce(f.pnl_std_30d, 0) as std_30d
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
    const predicted = col('predicted_net_profit');
    const interval = hasInterval ? { lower: col('lower_bound'), upper: col('upper_bound') } : undefined;
    const evaluation: Evaluation = {
      featureDate,
      n: group.length,
      weekend: targetDayGroup(featureDate) === 'weekend',
      model: {
        ...score(predicted, actual, interval),
        ...(interval ? intervalScores(interval.lower, interval.upper, actual) : {}),
        ...riskScores(
          (interval?.lower ?? predicted).map((v) => -v),
          actual,
        ),
      },
      baselines: {
        zero: score(new Float64Array(group.length), actual),
        yesterday: score(col('yesterday'), actual),
        mean_7d: score(col('mean_7d'), actual),
      },
      naiveRisk: riskScores(col('std_30d'), actual),
    };
    const oracle = await options.oracle?.(group[0].prediction_date);
    if (oracle) {
      const known = group.flatMap((r: { account_id: string }, i: number) => {
        const o = oracle.get(r.account_id);
        return o ? [{ o, actual: actual[i] }] : [];
      });
      const pick = (f: (k: (typeof known)[number]) => number) => Float64Array.from(known, f);
      const [q05, q95, y] = [pick((k) => k.o.q05), pick((k) => k.o.q95), pick((k) => k.actual)];
      evaluation.oracle = {
        ...score(
          pick((k) => k.o.median),
          y,
          { lower: q05, upper: q95 },
        ),
        ...intervalScores(q05, q95, y),
        ...riskScores(
          q05.map((v) => -v),
          y,
        ),
      };
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
          naive_risk: evaluation.naiveRisk,
          weekend: evaluation.weekend,
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
