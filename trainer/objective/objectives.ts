// Regression objectives (src/objective/regression_objective.hpp): float32 gradients from double scores,
// LightGBM's init scores (BoostFromScore) and leaf renewal for L1 and quantile.
import type { Params } from '../io/params.ts';

export interface Objective {
  readonly name: string;
  /** Text written after `objective=` in the model header. */
  readonly modelName: string;
  /** Unit hessians: histograms can count rows instead of summing hessians. */
  readonly constHessian: boolean;
  /** Percentile used to renew leaf outputs (L1: 0.5, quantile: alpha), or null. */
  readonly renewAlpha: number | null;
  /** Gradients and hessians of rows [from, to). */
  gradients(score: Float64Array, grad: Float32Array, hess: Float32Array, from: number, to: number): void;
  boostFromScore(): number;
}

/**
 * LightGBM's PercentileFun: the linear-interpolation quantile at ascending position alpha*(n-1), computed from
 * the top. `asFloat` rounds like the label_t (float) instantiation used for init scores.
 */
export function percentile(values: Float64Array, alpha: number, asFloat = false): number {
  const n = values.length;
  if (n <= 1) return values[0];
  const fp = (n - 1) * (1.0 - alpha);
  const pos = Math.trunc(fp) + 1;
  const sorted = values.slice().sort();
  if (pos < 1) return sorted[n - 1];
  if (pos >= n) return sorted[0];
  const bias = fp - (pos - 1);
  const v1 = sorted[n - pos];
  const v2 = sorted[n - pos - 1];
  if (asFloat) return Math.fround(v1 - Math.fround(v1 - v2) * bias);
  return v1 - (v1 - v2) * bias;
}

function mean(label: Float32Array): number {
  let s = 0;
  for (let i = 0; i < label.length; i++) s += label[i];
  return s / label.length;
}

export function createObjective(p: Params, label: Float32Array): Objective {
  switch (p.objective) {
    case 'regression':
      return {
        name: 'regression',
        modelName: 'regression',
        constHessian: true,
        renewAlpha: null,
        gradients(score, g, h, from, to) {
          for (let i = from; i < to; i++) {
            g[i] = score[i] - label[i];
            h[i] = 1;
          }
        },
        boostFromScore: () => mean(label),
      };
    case 'regression_l1':
      return {
        name: 'regression_l1',
        modelName: 'regression_l1',
        constHessian: true,
        renewAlpha: 0.5,
        gradients(score, g, h, from, to) {
          for (let i = from; i < to; i++) {
            const d = score[i] - label[i];
            g[i] = d > 0 ? 1 : d < 0 ? -1 : 0;
            h[i] = 1;
          }
        },
        boostFromScore: () => percentile(Float64Array.from(label), 0.5, true),
      };
    case 'huber': {
      const a = p.alpha;
      return {
        name: 'huber',
        modelName: 'huber',
        constHessian: true,
        renewAlpha: null,
        gradients(score, g, h, from, to) {
          for (let i = from; i < to; i++) {
            const d = score[i] - label[i];
            g[i] = Math.abs(d) <= a ? d : (d > 0 ? 1 : d < 0 ? -1 : 0) * a;
            h[i] = 1;
          }
        },
        boostFromScore: () => mean(label),
      };
    }
    case 'fair': {
      const c = p.fair_c;
      return {
        name: 'fair',
        modelName: 'fair',
        constHessian: false,
        renewAlpha: null,
        gradients(score, g, h, from, to) {
          for (let i = from; i < to; i++) {
            const x = score[i] - label[i];
            const ax = Math.abs(x) + c;
            g[i] = (c * x) / ax;
            h[i] = (c * c) / (ax * ax);
          }
        },
        boostFromScore: () => mean(label),
      };
    }
    case 'quantile': {
      const a = Math.fround(p.alpha);
      const up = Math.fround(1 - a);
      return {
        name: 'quantile',
        modelName: 'quantile',
        constHessian: true,
        renewAlpha: a,
        gradients(score, g, h, from, to) {
          for (let i = from; i < to; i++) {
            const d = Math.fround(score[i] - label[i]);
            g[i] = d >= 0 ? up : -a;
            h[i] = 1;
          }
        },
        boostFromScore: () => percentile(Float64Array.from(label), a, true),
      };
    }
  }
}
