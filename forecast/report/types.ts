// The report's data, gathered once from the database and handed to a pure renderer, so the HTML can be
// tested without a database and the queries without a browser.

/** One forecast's accuracy figures as the trainer stores them (dpm.model_evaluations.metrics, cv_metrics). */
export interface ScoreSummary {
  n?: number;
  mae?: number;
  rmse?: number;
  directional_accuracy?: number;
  interval_coverage?: number;
  mean_interval_width?: number;
  bottom_decile_capture?: number;
  /** Risk ranking (forecast/risk-metrics.ts): the day's largest losses caught by the riskiest decile. */
  downside_hits?: number;
  downside_losses?: number;
  spearman_loss?: number;
  pinball_05?: number;
  pinball_95?: number;
}

/** A risk score's figures pooled over days: capture as caught / all largest losses, the rest n-weighted. */
export interface RiskSummary {
  downsideCapture: number | null;
  spearmanLoss: number | null;
  pinball05: number | null;
  pinball95: number | null;
}

export type BaselineName = 'zero' | 'yesterday' | 'mean_7d';

export interface ReportModel {
  version: string;
  createdAt: string | null;
  isActive: boolean;
  objective: string;
  trainStart: string;
  trainEnd: string;
  params: Record<string, unknown>;
  featureImportance: { feature: string; gain: number; split: number }[];
  /** The holdout fold's scores at training time (cv_metrics.holdout), if recorded. */
  holdout: ScoreSummary | null;
  cvMeanMae: number | null;
  /** Baselines on the same holdout rows (baseline_metrics). */
  holdoutBaselines: Partial<Record<BaselineName, ScoreSummary>>;
}

export interface Evaluation {
  featureDate: string;
  /** feature_date + 1: the day whose PnL was forecast. */
  predictionDate: string;
  n: number;
  model: ScoreSummary;
  baselines: Partial<Record<BaselineName, ScoreSummary>>;
  oracle: ScoreSummary | null;
  /** The day predicted is a Saturday or Sunday (null in evaluations stored before it was recorded). */
  weekend?: boolean | null;
  /** The naive risk score (trailing 30-day std), scored as the model's. */
  naiveRisk?: ScoreSummary | null;
}

/** Downside ranking and interval figures of the evaluated days. */
export interface RiskHeadline {
  model: RiskSummary;
  oracle: RiskSummary | null;
  naive: RiskSummary | null;
  /** Interval coverage on weekday and weekend target days. */
  coverage: { weekday: number | null; weekend: number | null };
}

/** The figures at the top: from stored evaluations when there are any, else from training's holdout. */
export interface Headline {
  source: 'evaluations' | 'holdout' | 'none';
  /** Days (evaluations) the figures pool, and the accounts they cover. */
  days: number;
  n: number;
  firstDate: string | null;
  lastDate: string | null;
  model: ScoreSummary;
  baselines: Partial<Record<BaselineName, ScoreSummary>>;
  oracle: ScoreSummary | null;
  /** The latest evaluated day alone, for "how did yesterday go". */
  latest: Evaluation | null;
  risk?: RiskHeadline | null;
}

export interface OutcomePoint {
  accountId: string;
  predictionDate: string;
  predicted: number;
  actual: number;
}

export interface DailyError {
  predictionDate: string;
  accounts: number;
  mae: number;
  rmse: number | null;
  directionalAccuracy: number | null;
  intervalCoverage: number | null;
  predictedTotal: number | null;
  actualTotal: number | null;
}

export interface DecileRow {
  decile: number;
  predictions: number;
  meanPredicted: number;
  meanActual: number;
  mae: number | null;
  intervalCoverage: number | null;
}

export interface Reason {
  feature: string;
  contribution: number;
  value: number | string | null;
}

export interface WatchRow {
  accountId: string;
  featureDate: string;
  predictionDate: string;
  predicted: number;
  /** The 5% quantile: the risk score the list is ordered by. */
  lower: number | null;
  upper: number | null;
  highRisk: boolean;
  /** SHAP contributions to the risk score (to the forecast for models without intervals). */
  reasons: Reason[];
}

export interface ReportData {
  generatedAt: string;
  model: ReportModel | null;
  headline: Headline;
  evaluations: Evaluation[];
  /** A bounded sample of the latest evaluated predictions (the scatter plot). */
  outcomes: OutcomePoint[];
  outcomesTotal: number;
  daily: DailyError[];
  deciles: DecileRow[];
  /** The latest prediction day's accounts with the lowest 5% quantile (risk score). */
  watchList: WatchRow[];
  watchDate: string | null;
  /** Why a section is empty (a view not built yet, no evaluations...), shown to the reader. */
  notes: string[];
}
