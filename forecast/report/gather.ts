// Reads everything the report shows: the model from dpm.model_registry, its evaluations, the marts views
// of outcomes, and the latest predictions' watch list. Missing pieces become notes, not failures: a report
// right after the first `dpm train` has no outcomes yet and should still open.
import type { Knex } from 'knex';
import { DpmError } from '../../runner/errors.ts';
import { isoDate } from './format.ts';
import type {
  BaselineName,
  DailyError,
  DecileRow,
  Evaluation,
  Headline,
  OutcomePoint,
  Reason,
  ReportData,
  ReportModel,
  RiskHeadline,
  RiskSummary,
  ScoreSummary,
  WatchRow,
} from './types.ts';

export interface GatherOptions {
  /** Default: the active model (else the most recently registered one). */
  modelVersion?: string;
  /** Most recent evaluated predictions drawn in the scatter plot; more only slows the page. */
  scatterLimit?: number;
  watchListSize?: number;
}

export const BASELINES: BaselineName[] = ['zero', 'yesterday', 'mean_7d'];

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
const num = (v: unknown): number | null =>
  v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function nextDay(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Keeps the numeric fields of a stored metrics object; drops NaN (stored as null by JSON). */
export function toScores(v: unknown): ScoreSummary {
  const o = obj(v);
  const out: ScoreSummary = {};
  for (const k of [
    'n',
    'mae',
    'rmse',
    'directional_accuracy',
    'interval_coverage',
    'mean_interval_width',
    'bottom_decile_capture',
    'downside_hits',
    'downside_losses',
    'spearman_loss',
    'pinball_05',
    'pinball_95',
  ] as const) {
    const x = num(o[k]);
    if (x !== null) out[k] = x;
  }
  return out;
}

function baselinesOf(v: unknown): Partial<Record<BaselineName, ScoreSummary>> {
  const o = obj(v);
  const out: Partial<Record<BaselineName, ScoreSummary>> = {};
  for (const b of BASELINES) if (o[b] && typeof o[b] === 'object') out[b] = toScores(o[b]);
  return out;
}

async function exists(knex: Knex, relation: string): Promise<boolean> {
  const { rows } = await knex.raw('select to_regclass(?)::text as r', [relation]);
  return Boolean(rows[0]?.r);
}

async function readModel(knex: Knex, version: string | undefined): Promise<ReportModel | null> {
  const q = knex('dpm.model_registry').select(
    'model_version',
    'created_at',
    'is_active',
    'objective',
    knex.raw('train_start::text as train_start'),
    knex.raw('train_end::text as train_end'),
    'params',
    'cv_metrics',
    'baseline_metrics',
    'feature_importance',
  );
  const row = version
    ? await q.clone().where({ model_version: version }).first()
    : ((await q.clone().where({ is_active: true }).first()) ?? (await q.clone().orderBy('created_at', 'desc').first()));
  if (!row) {
    if (version)
      throw new DpmError(
        `model version ${version} is not in dpm.model_registry: ` +
          'dpm report --model-version takes a registered version (omit it for the active model).',
      );
    return null;
  }
  const cv = obj(json(row.cv_metrics));
  const importance = json(row.feature_importance);
  return {
    version: row.model_version,
    createdAt: row.created_at ? new Date(row.created_at).toISOString() : null,
    isActive: Boolean(row.is_active),
    objective: String(row.objective),
    trainStart: isoDate(row.train_start),
    trainEnd: isoDate(row.train_end),
    params: obj(json(row.params)),
    featureImportance: (Array.isArray(importance) ? importance : [])
      .map((f) => ({
        feature: String(obj(f).feature ?? ''),
        gain: num(obj(f).gain) ?? 0,
        split: num(obj(f).split) ?? 0,
      }))
      .filter((f) => f.feature)
      .sort((a, b) => b.gain - a.gain || b.split - a.split),
    holdout: cv.holdout ? toScores(cv.holdout) : null,
    cvMeanMae: num(cv.mean_mae),
    holdoutBaselines: baselinesOf(json(row.baseline_metrics)),
  };
}

async function readEvaluations(knex: Knex, version: string): Promise<Evaluation[]> {
  const rows = await knex('dpm.model_evaluations')
    .select(knex.raw('feature_date::text as feature_date'), 'n', 'metrics')
    .where({ model_version: version })
    .orderBy('feature_date');
  return rows.map((r: { feature_date: string; n: number; metrics: unknown }) => {
    const m = obj(json(r.metrics));
    return {
      featureDate: r.feature_date,
      predictionDate: nextDay(r.feature_date),
      n: Number(r.n),
      model: toScores(m),
      baselines: baselinesOf(m.baselines),
      oracle: m.oracle && typeof m.oracle === 'object' ? toScores(m.oracle) : null,
      weekend: typeof m.weekend === 'boolean' ? m.weekend : null,
      naiveRisk: m.naive_risk && typeof m.naive_risk === 'object' ? toScores(m.naive_risk) : null,
    };
  });
}

/** Pools a risk score's daily figures; null when no day has them (evaluations stored before risk scores). */
export function poolRisk(parts: { n: number; s: ScoreSummary | null | undefined }[]): RiskSummary | null {
  const known = parts.filter((p) => p.s?.downside_losses !== undefined);
  if (!known.length) return null;
  const weighted = (k: keyof ScoreSummary) => {
    const has = known.filter((p) => p.s?.[k] !== undefined);
    const w = has.reduce((a, p) => a + p.n, 0);
    return w ? has.reduce((a, p) => a + p.n * p.s![k]!, 0) / w : null;
  };
  const losses = known.reduce((a, p) => a + p.s!.downside_losses!, 0);
  return {
    downsideCapture: losses ? known.reduce((a, p) => a + (p.s!.downside_hits ?? 0), 0) / losses : null,
    spearmanLoss: weighted('spearman_loss'),
    pinball05: weighted('pinball_05'),
    pinball95: weighted('pinball_95'),
  };
}

function riskHeadlineOf(evaluations: Evaluation[]): RiskHeadline | null {
  const model = poolRisk(evaluations.map((e) => ({ n: e.n, s: e.model })));
  if (!model) return null;
  const coverage = (weekend: boolean) =>
    poolScores(evaluations.filter((e) => e.weekend === weekend).map((e) => ({ n: e.n, s: e.model })))
      .interval_coverage ?? null;
  return {
    model,
    oracle: poolRisk(evaluations.map((e) => ({ n: e.n, s: e.oracle }))),
    naive: poolRisk(evaluations.map((e) => ({ n: e.n, s: e.naiveRisk }))),
    coverage: { weekday: coverage(false), weekend: coverage(true) },
  };
}

/** n-weighted pooling of per-day scores (RMSE through its squares), as if all days were one sample. */
export function poolScores(parts: { n: number; s: ScoreSummary | null | undefined }[]): ScoreSummary {
  const out: ScoreSummary = {};
  let total = 0;
  for (const p of parts) if (p.s && p.s.mae !== undefined) total += p.s.n ?? p.n;
  if (total === 0) return out;
  out.n = total;
  const pooled = (k: keyof ScoreSummary, square = false) => {
    let w = 0;
    let sum = 0;
    for (const p of parts) {
      const v = p.s?.[k];
      if (v === undefined || !p.s) continue;
      const n = p.s.n ?? p.n;
      w += n;
      sum += n * (square ? v * v : v);
    }
    if (w > 0) out[k] = square ? Math.sqrt(sum / w) : sum / w;
  };
  pooled('mae');
  pooled('rmse', true);
  pooled('directional_accuracy');
  pooled('interval_coverage');
  pooled('mean_interval_width');
  pooled('bottom_decile_capture');
  return out;
}

export function headlineOf(model: ReportModel | null, evaluations: Evaluation[]): Headline {
  if (evaluations.length) {
    const baselines: Headline['baselines'] = {};
    for (const b of BASELINES) {
      const pooled = poolScores(evaluations.map((e) => ({ n: e.n, s: e.baselines[b] })));
      if (pooled.mae !== undefined) baselines[b] = pooled;
    }
    const oracle = poolScores(evaluations.map((e) => ({ n: e.n, s: e.oracle })));
    return {
      source: 'evaluations',
      days: evaluations.length,
      n: evaluations.reduce((a, e) => a + e.n, 0),
      firstDate: evaluations[0].predictionDate,
      lastDate: evaluations[evaluations.length - 1].predictionDate,
      model: poolScores(evaluations.map((e) => ({ n: e.n, s: e.model }))),
      baselines,
      oracle: oracle.mae !== undefined ? oracle : null,
      latest: evaluations[evaluations.length - 1],
      risk: riskHeadlineOf(evaluations),
    };
  }
  if (model?.holdout && model.holdout.mae !== undefined) {
    return {
      source: 'holdout',
      days: 0,
      n: model.holdout.n ?? 0,
      firstDate: null,
      lastDate: model.trainEnd,
      model: model.holdout,
      baselines: model.holdoutBaselines,
      oracle: null,
      latest: null,
      risk: null,
    };
  }
  return {
    source: 'none',
    days: 0,
    n: 0,
    firstDate: null,
    lastDate: null,
    model: {},
    baselines: {},
    oracle: null,
    latest: null,
    risk: null,
  };
}

function reasonsOf(v: unknown): Reason[] {
  const list = json(v);
  if (!Array.isArray(list)) return [];
  return list.map((r) => {
    const o = obj(r);
    const value = o.value;
    return {
      feature: String(o.feature ?? ''),
      contribution: num(o.contribution) ?? 0,
      value: typeof value === 'number' || typeof value === 'string' ? value : null,
    };
  });
}

export async function gatherReport(knex: Knex, options: GatherOptions = {}): Promise<ReportData> {
  const notes: string[] = [];
  const data: ReportData = {
    generatedAt: new Date().toISOString(),
    model: null,
    headline: headlineOf(null, []),
    evaluations: [],
    outcomes: [],
    outcomesTotal: 0,
    daily: [],
    deciles: [],
    watchList: [],
    watchDate: null,
    notes,
  };
  if (!(await exists(knex, 'dpm.model_registry'))) {
    notes.push(
      'The model registry (dpm.model_registry) does not exist in this database: run dpm migrate, then dpm train.',
    );
    return data;
  }
  const model = await readModel(knex, options.modelVersion);
  data.model = model;
  if (!model) {
    notes.push('No model is registered yet: run dpm train, then dpm predict.');
    return data;
  }
  const version = model.version;
  data.evaluations = await readEvaluations(knex, version);
  data.headline = headlineOf(model, data.evaluations);

  const [outcomesView, dailyView, decileView] = await Promise.all(
    ['marts.prediction_outcomes', 'marts.prediction_error_by_day', 'marts.prediction_error_by_decile'].map((r) =>
      exists(knex, r),
    ),
  );
  if (outcomesView) {
    const limit = options.scatterLimit ?? 2000;
    const count = await knex('marts.prediction_outcomes')
      .where({ model_version: version })
      .whereNotNull('actual_net_profit')
      .count({ n: '*' })
      .first();
    data.outcomesTotal = Number(count?.n ?? 0);
    const rows = await knex('marts.prediction_outcomes')
      .select(
        'account_id',
        knex.raw('prediction_date::text as prediction_date'),
        'predicted_net_profit',
        'actual_net_profit',
      )
      .where({ model_version: version })
      .whereNotNull('actual_net_profit')
      .orderBy([{ column: 'prediction_date', order: 'desc' }, { column: 'account_id' }])
      .limit(limit);
    data.outcomes = rows.map(
      (r: Record<string, unknown>): OutcomePoint => ({
        accountId: String(r.account_id),
        predictionDate: String(r.prediction_date),
        predicted: Number(r.predicted_net_profit),
        actual: Number(r.actual_net_profit),
      }),
    );
  } else {
    notes.push(
      'marts.prediction_outcomes is not built: run dpm build --select marts to see predicted against actual PnL.',
    );
  }
  if (dailyView) {
    const rows = await knex('marts.prediction_error_by_day')
      .select(
        knex.raw('prediction_date::text as prediction_date'),
        'accounts',
        'mae',
        'rmse',
        'directional_accuracy',
        'interval_coverage',
        'predicted_total',
        'actual_total',
      )
      .where({ model_version: version })
      .orderBy('prediction_date');
    data.daily = rows.map(
      (r: Record<string, unknown>): DailyError => ({
        predictionDate: String(r.prediction_date),
        accounts: Number(r.accounts),
        mae: Number(r.mae),
        rmse: num(r.rmse),
        directionalAccuracy: num(r.directional_accuracy),
        intervalCoverage: num(r.interval_coverage),
        predictedTotal: num(r.predicted_total),
        actualTotal: num(r.actual_total),
      }),
    );
  } else {
    notes.push('marts.prediction_error_by_day is not built: run dpm build --select marts for daily errors.');
  }
  if (decileView) {
    const rows = await knex('marts.prediction_error_by_decile')
      .select('predicted_decile', 'predictions', 'mean_predicted', 'mean_actual', 'mae', 'interval_coverage')
      .where({ model_version: version })
      .orderBy('predicted_decile');
    data.deciles = rows.map(
      (r: Record<string, unknown>): DecileRow => ({
        decile: Number(r.predicted_decile),
        predictions: Number(r.predictions),
        meanPredicted: Number(r.mean_predicted),
        meanActual: Number(r.mean_actual),
        mae: num(r.mae),
        intervalCoverage: num(r.interval_coverage),
      }),
    );
  } else {
    notes.push(
      'marts.prediction_error_by_decile is not built: run dpm build --select marts for the calibration by decile.',
    );
  }

  const latest = await knex('dpm.model_predictions')
    .where({ model_version: version })
    .max({ d: 'feature_date' })
    .first();
  const watchDate = latest?.d ? isoDate(latest.d) : null;
  if (watchDate) {
    const rows = await knex('dpm.model_predictions')
      .select(
        'account_id',
        knex.raw('feature_date::text as feature_date'),
        knex.raw('prediction_date::text as prediction_date'),
        'predicted_net_profit',
        'lower_bound',
        'upper_bound',
        'high_risk',
        'top_reasons',
      )
      .where({ model_version: version })
      .andWhere('feature_date', watchDate)
      // the risk score (the 5% quantile) first; the forecast for models without intervals
      .orderByRaw('coalesce(lower_bound, predicted_net_profit), account_id')
      .limit(options.watchListSize ?? 20);
    data.watchDate = rows[0]?.prediction_date ?? nextDay(watchDate);
    data.watchList = rows.map(
      (r: Record<string, unknown>): WatchRow => ({
        accountId: String(r.account_id),
        featureDate: String(r.feature_date),
        predictionDate: String(r.prediction_date),
        predicted: Number(r.predicted_net_profit),
        lower: num(r.lower_bound),
        upper: num(r.upper_bound),
        highRisk: Boolean(r.high_risk),
        reasons: reasonsOf(r.top_reasons),
      }),
    );
  }
  return data;
}
