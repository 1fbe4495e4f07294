// Regression metrics (src/metric/regression_metric.hpp): mean loss over rows with float32 labels.
import type { Params } from '../io/params.ts';

export type MetricName = 'l1' | 'l2' | 'rmse' | 'huber' | 'fair' | 'quantile' | 'mape';

export function defaultMetric(objective: Params['objective']): MetricName {
  switch (objective) {
    case 'regression':
      return 'l2';
    case 'regression_l1':
      return 'l1';
    default:
      return objective;
  }
}

/** Evaluates one metric; `label` must already be float32-rounded. */
export function evalMetric(
  name: MetricName,
  score: ArrayLike<number>,
  label: ArrayLike<number>,
  p: Pick<Params, 'alpha' | 'fair_c'>,
): number {
  const n = label.length;
  let s = 0;
  switch (name) {
    case 'l1':
      for (let i = 0; i < n; i++) s += Math.abs(score[i] - label[i]);
      return s / n;
    case 'l2':
    case 'rmse':
      for (let i = 0; i < n; i++) {
        const d = score[i] - label[i];
        s += d * d;
      }
      return name === 'rmse' ? Math.sqrt(s / n) : s / n;
    case 'huber': {
      const a = p.alpha;
      for (let i = 0; i < n; i++) {
        const d = score[i] - label[i];
        s += Math.abs(d) <= a ? 0.5 * d * d : a * (Math.abs(d) - 0.5 * a);
      }
      return s / n;
    }
    case 'fair': {
      const c = p.fair_c;
      for (let i = 0; i < n; i++) {
        const x = Math.abs(score[i] - label[i]);
        s += c * x - c * c * Math.log1p(x / c);
      }
      return s / n;
    }
    case 'quantile': {
      const a = p.alpha;
      for (let i = 0; i < n; i++) {
        const d = label[i] - score[i];
        s += d < 0 ? (a - 1) * d : a * d;
      }
      return s / n;
    }
    case 'mape':
      for (let i = 0; i < n; i++) s += Math.abs(label[i] - score[i]) / Math.max(1, Math.abs(label[i]));
      return s / n;
  }
}
