/** Accuracy numbers of one set of predictions against outcomes; every figure the product reports. */
export interface Scores {
  n: number;
  mae: number;
  rmse: number;
  /** Share of rows where prediction and outcome have the same sign (both zero counts as a hit). */
  directional_accuracy: number;
  /** Share of the actual worst decile that the predicted worst decile contains (recall). */
  bottom_decile_capture: number;
  top_decile_capture: number;
  interval_coverage?: number;
  mean_interval_width?: number;
}

export function score(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  interval?: { lower: ArrayLike<number>; upper: ArrayLike<number> },
): Scores {
  const n = actual.length;
  let abs = 0;
  let sq = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const e = actual[i] - predicted[i];
    abs += Math.abs(e);
    sq += e * e;
    if (Math.sign(actual[i]) === Math.sign(predicted[i])) hits++;
  }
  const out: Scores = {
    n,
    mae: n ? abs / n : NaN,
    rmse: n ? Math.sqrt(sq / n) : NaN,
    directional_accuracy: n ? hits / n : NaN,
    bottom_decile_capture: decileCapture(predicted, actual, 'bottom'),
    top_decile_capture: decileCapture(predicted, actual, 'top'),
  };
  if (interval) {
    let inside = 0;
    let width = 0;
    for (let i = 0; i < n; i++) {
      if (actual[i] >= interval.lower[i] && actual[i] <= interval.upper[i]) inside++;
      width += interval.upper[i] - interval.lower[i];
    }
    out.interval_coverage = n ? inside / n : NaN;
    out.mean_interval_width = n ? width / n : NaN;
  }
  return out;
}

/** Recall of the extreme decile: |predicted extreme ∩ actual extreme| / |actual extreme|. */
export function decileCapture(predicted: ArrayLike<number>, actual: ArrayLike<number>, side: 'bottom' | 'top'): number {
  const n = actual.length;
  const k = Math.max(1, Math.floor(n / 10));
  if (n < 10) return NaN;
  const order = (values: ArrayLike<number>) =>
    Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => (side === 'bottom' ? values[a] - values[b] : values[b] - values[a]) || a - b,
    );
  const predictedSet = new Set(order(predicted).slice(0, k));
  let both = 0;
  for (const i of order(actual).slice(0, k)) if (predictedSet.has(i)) both++;
  return both / k;
}

/** The naive forecasts the model must beat, from feature columns of the same rows. */
export function baselinePredictions(
  columns: Map<string, Float64Array>,
  n: number,
): Record<'zero' | 'yesterday' | 'mean_7d', Float64Array> {
  const nanToZero = (a: Float64Array | undefined) =>
    Float64Array.from(a ?? new Float64Array(n), (v) => (Number.isFinite(v) ? v : 0));
  return {
    zero: new Float64Array(n),
    yesterday: nanToZero(columns.get('net_profit')),
    mean_7d: nanToZero(columns.get('pnl_avg_7d')),
  };
}
