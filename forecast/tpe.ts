import { LcgRandom } from '../trainer/utils/random.ts';

/** One tunable parameter: a float/int range (optionally log-scaled) or a set of choices. */
export type Dimension =
  | { name: string; kind: 'float' | 'int'; low: number; high: number; log?: boolean }
  | { name: string; kind: 'choice'; choices: string[] };

export interface Trial {
  params: Record<string, number | string>;
  loss: number;
}

/**
 * Tree-structured Parzen Estimator (the sampler Optuna's original search used): after `startup`
 * random trials, split past trials into the best `gamma` share and the rest, model each with Parzen
 * windows, and pick the candidate that maximises l(x)/g(x).
 */
export class TpeSampler {
  private readonly rng: LcgRandom;

  constructor(
    private readonly space: Dimension[],
    seed: number,
    private readonly startup = 10,
    private readonly gamma = 0.25,
    private readonly candidates = 24,
  ) {
    this.rng = new LcgRandom(seed);
  }

  private uniform(): number {
    return this.rng.nextFloat();
  }

  private gauss(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  suggest(history: Trial[]): Record<string, number | string> {
    const done = history.filter((t) => Number.isFinite(t.loss));
    if (done.length < this.startup) return Object.fromEntries(this.space.map((d) => [d.name, this.randomValue(d)]));
    const sorted = [...done].sort((a, b) => a.loss - b.loss);
    const nGood = Math.max(1, Math.ceil(this.gamma * sorted.length));
    const good = sorted.slice(0, nGood);
    const bad = sorted.slice(nGood);
    const out: Record<string, number | string> = {};
    for (const d of this.space) out[d.name] = this.suggestOne(d, good, bad);
    return out;
  }

  private randomValue(d: Dimension): number | string {
    if (d.kind === 'choice') return d.choices[Math.floor(this.uniform() * d.choices.length)];
    const [lo, hi] = d.log ? [Math.log(d.low), Math.log(d.high)] : [d.low, d.high];
    const x = lo + (hi - lo) * this.uniform();
    return this.finish(d, d.log ? Math.exp(x) : x);
  }

  private finish(d: Extract<Dimension, { kind: 'float' | 'int' }>, v: number): number {
    const clamped = Math.min(d.high, Math.max(d.low, v));
    return d.kind === 'int' ? Math.round(clamped) : clamped;
  }

  private suggestOne(d: Dimension, good: Trial[], bad: Trial[]): number | string {
    if (d.kind === 'choice') {
      // Smoothed category frequencies in the good and bad groups.
      const weight = (group: Trial[], c: string) =>
        (group.filter((t) => t.params[d.name] === c).length + 1) / (group.length + d.choices.length);
      let best = d.choices[0];
      let bestScore = -Infinity;
      for (let i = 0; i < this.candidates; i++) {
        const c = this.sampleChoice(d.choices, good, d.name);
        const s = weight(good, c) / weight(bad, c);
        if (s > bestScore) [best, bestScore] = [c, s];
      }
      return best;
    }
    const tf = (v: number) => (d.log ? Math.log(v) : v);
    const [lo, hi] = [tf(d.low), tf(d.high)];
    const goodX = good.map((t) => tf(Number(t.params[d.name])));
    const badX = bad.map((t) => tf(Number(t.params[d.name])));
    const bw = (xs: number[]) => Math.max((hi - lo) / Math.max(1, Math.sqrt(xs.length)) / 2, (hi - lo) * 1e-3);
    const density = (xs: number[], x: number) => {
      const h = bw(xs);
      // A uniform prior component keeps unexplored regions reachable.
      let s = 1 / (hi - lo);
      for (const c of xs) s += Math.exp(-0.5 * ((x - c) / h) ** 2) / (h * Math.sqrt(2 * Math.PI));
      return s / (xs.length + 1);
    };
    let best = goodX[0];
    let bestScore = -Infinity;
    for (let i = 0; i < this.candidates; i++) {
      const center = goodX[Math.floor(this.uniform() * goodX.length)];
      const x = Math.min(hi, Math.max(lo, center + bw(goodX) * this.gauss()));
      const s = density(goodX, x) / density(badX, x);
      if (s > bestScore) [best, bestScore] = [x, s];
    }
    return this.finish(d, d.log ? Math.exp(best) : best);
  }

  private sampleChoice(choices: string[], good: Trial[], name: string): string {
    const weights = choices.map((c) => good.filter((t) => t.params[name] === c).length + 1);
    let r = this.uniform() * weights.reduce((a, b) => a + b, 0);
    for (const [i, w] of weights.entries()) {
      r -= w;
      if (r <= 0) return choices[i];
    }
    return choices[choices.length - 1];
  }
}

/**
 * Optuna's MedianPruner: stop a trial whose intermediate value is worse than the median of earlier trials
 * at the same step.
 */
export class MedianPruner {
  private readonly history = new Map<number, number[]>();
  constructor(private readonly minTrials = 5) {}
  report(step: number, value: number): void {
    this.history.set(step, [...(this.history.get(step) ?? []), value]);
  }
  shouldPrune(step: number, value: number): boolean {
    const past = this.history.get(step) ?? [];
    if (past.length < this.minTrials) return false;
    const sorted = [...past].sort((a, b) => a - b);
    const median =
      sorted.length % 2
        ? sorted[(sorted.length - 1) / 2]
        : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    return value > median;
  }
}
