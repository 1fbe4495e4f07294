// Deterministic report data for renderer and browser tests: a few evaluated days, deciles, a watch list.
import type { ReportData } from '../../forecast/report/report.ts';
import { headlineOf } from '../../forecast/report/gather.ts';

/** Park-Miller: deterministic without pulling in the simulator. */
function rng(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

export function sampleReportData(options: { days?: number; accounts?: number; features?: number } = {}): ReportData {
  const days = options.days ?? 10;
  const accounts = options.accounts ?? 30;
  const rand = rng(7);
  const dates = Array.from({ length: days }, (_, i) => `2024-04-${String(i + 2).padStart(2, '0')}`);
  const evaluations = dates.map((d, i) => ({
    featureDate: `2024-04-${String(i + 1).padStart(2, '0')}`,
    predictionDate: d,
    n: accounts,
    model: {
      n: accounts,
      mae: 300 + rand() * 50,
      rmse: 500 + rand() * 80,
      directional_accuracy: 0.55 + rand() * 0.1,
      interval_coverage: 0.85 + rand() * 0.08,
    },
    baselines: {
      zero: { n: accounts, mae: 420 + rand() * 40 },
      yesterday: { n: accounts, mae: 560 + rand() * 60 },
      mean_7d: { n: accounts, mae: 400 + rand() * 40 },
    },
    oracle: { n: accounts, mae: 250 + rand() * 20 },
  }));
  const outcomes = dates.flatMap((d) =>
    Array.from({ length: accounts }, (_, a) => {
      const predicted = (rand() - 0.55) * 2000;
      return {
        accountId: `ACC${String(a).padStart(4, '0')}`,
        predictionDate: d,
        predicted,
        actual: predicted + (rand() - 0.5) * 1500,
      };
    }),
  );
  const featureImportance = Array.from({ length: options.features ?? 25 }, (_, i) => ({
    feature: `feature_${i}`,
    gain: 1000 / (i + 1),
    split: 100 - i,
  }));
  const model: NonNullable<ReportData['model']> = {
    version: 'v1_20240501_060000',
    createdAt: '2024-05-01T06:00:00.000Z',
    isActive: true,
    objective: 'regression_l1',
    trainStart: '2024-01-01',
    trainEnd: '2024-04-01',
    params: { objective: 'regression_l1', num_leaves: 31, learning_rate: 0.05 },
    featureImportance,
    holdout: { n: 500, mae: 320, rmse: 510, directional_accuracy: 0.6, interval_coverage: 0.88 },
    cvMeanMae: 330,
    holdoutBaselines: { zero: { mae: 430 }, yesterday: { mae: 570 }, mean_7d: { mae: 410 } },
  };
  return {
    generatedAt: '2024-05-12T07:00:00.000Z',
    model,
    headline: headlineOf(model, evaluations),
    evaluations,
    outcomes,
    outcomesTotal: outcomes.length,
    daily: dates.map((d, i) => ({
      predictionDate: d,
      accounts,
      mae: evaluations[i].model.mae,
      rmse: evaluations[i].model.rmse,
      directionalAccuracy: 0.6,
      intervalCoverage: 0.8 + rand() * 0.15,
      predictedTotal: -1000,
      actualTotal: -1500,
    })),
    deciles: Array.from({ length: 10 }, (_, i) => ({
      decile: i + 1,
      predictions: accounts,
      meanPredicted: (i - 5) * 300,
      meanActual: (i - 5) * 260 + 40,
      mae: 300,
      intervalCoverage: 0.82 + i * 0.01,
    })),
    watchList: Array.from({ length: 20 }, (_, i) => ({
      accountId: `ACC${String(100 + i).padStart(4, '0')}`,
      featureDate: '2024-04-11',
      predictionDate: '2024-04-12',
      predicted: -5000 + i * 200,
      lower: -9000 + i * 200,
      upper: 800,
      highRisk: i < 3,
      reasons: [
        { feature: 'pnl_avg_7d', contribution: -1200 + i * 10, value: -830.5 },
        { feature: 'plan_type', contribution: -300, value: 'Standard' },
        { feature: 'win_rate_30d', contribution: 120, value: 0.43 },
      ],
    })),
    watchDate: '2024-04-12',
    notes: [],
  };
}

/** What a report of a brand-new database holds: nothing at all. */
export function emptyReportData(): ReportData {
  return {
    generatedAt: '2024-05-12T07:00:00.000Z',
    model: null,
    headline: headlineOf(null, []),
    evaluations: [],
    outcomes: [],
    outcomesTotal: 0,
    daily: [],
    deciles: [],
    watchList: [],
    watchDate: null,
    notes: ['No model is registered yet: run dpm train, then dpm predict.'],
  };
}
