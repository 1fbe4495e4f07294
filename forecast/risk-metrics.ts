/**
 * How well a risk score ranks the day's downside, and how good a pair of quantile forecasts is. A risk score
 * is any number where larger means more downside (minus a 5% quantile, a trailing standard deviation).
 */

export interface DownsideCapture {
  /** Accounts among the day's largest realised losses that the highest-risk decile holds. */
  hits: number;
  /** The day's largest realised losses: the worst 10% of outcomes that are losses (fewer on quiet days). */
  losses: number;
}

const decile = (n: number) => Math.max(1, Math.floor(n / 10));

/** Recall of the day's largest losses by the 10% highest risk scores (ties broken by row order). */
export function downsideCapture(risk: ArrayLike<number>, actual: ArrayLike<number>): DownsideCapture {
  const n = actual.length;
  if (n === 0) return { hits: 0, losses: 0 };
  const rows = Array.from({ length: n }, (_, i) => i);
  const watched = new Set([...rows].sort((a, b) => risk[b] - risk[a] || a - b).slice(0, decile(n)));
  const losses = rows
    .filter((i) => actual[i] < 0)
    .sort((a, b) => actual[a] - actual[b] || a - b)
    .slice(0, decile(n));
  return { hits: losses.filter((i) => watched.has(i)).length, losses: losses.length };
}

/** Ranks with ties sharing their mean rank. */
function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const out = new Float64Array(values.length);
  for (let s = 0; s < order.length; ) {
    let e = s;
    while (e + 1 < order.length && values[order[e + 1]] === values[order[s]]) e++;
    for (let k = s; k <= e; k++) out[order[k]] = (s + e) / 2;
    s = e + 1;
  }
  return out;
}

/** Spearman's rank correlation (NaN when either side is constant). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const [rx, ry] = [ranks(x), ranks(y)];
  const n = rx.length;
  const mean = (n - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) ** 2;
    syy += (ry[i] - mean) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Mean pinball (quantile) loss of forecasts of the alpha-quantile. */
export function pinball(quantile: ArrayLike<number>, actual: ArrayLike<number>, alpha: number): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = actual[i] - quantile[i];
    sum += e >= 0 ? alpha * e : (alpha - 1) * e;
  }
  return actual.length ? sum / actual.length : NaN;
}

/** The risk figures of one day: downside capture, and Spearman of the risk score with the realised loss. */
export interface RiskScores {
  downside_hits: number;
  downside_losses: number;
  downside_capture: number;
  /** Against max(0, -PnL): a risk score should rise with the loss, whatever the size of gains. */
  spearman_loss: number;
}

export function riskScores(risk: ArrayLike<number>, actual: ArrayLike<number>): RiskScores {
  const c = downsideCapture(risk, actual);
  return {
    downside_hits: c.hits,
    downside_losses: c.losses,
    downside_capture: c.losses ? c.hits / c.losses : NaN,
    spearman_loss: spearman(
      risk,
      Float64Array.from(actual, (v) => Math.max(0, -v)),
    ),
  };
}

/** Pinball losses of a 5%/95% pair and its coverage. */
export interface IntervalScores {
  pinball_05: number;
  pinball_95: number;
  interval_coverage: number;
}

export function intervalScores(
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  actual: ArrayLike<number>,
): IntervalScores {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) inside++;
  return {
    pinball_05: pinball(lower, actual, 0.05),
    pinball_95: pinball(upper, actual, 0.95),
    interval_coverage: actual.length ? inside / actual.length : NaN,
  };
}
