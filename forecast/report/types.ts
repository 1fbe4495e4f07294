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
  lower: number | null;
  upper: number | null;
  highRisk: boolean;
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
  /** The latest prediction day's accounts with the largest predicted losses. */
  watchList: WatchRow[];
  watchDate: string | null;
  /** Why a section is empty (a view not built yet, no evaluations...), shown to the reader. */
  notes: string[];
}
