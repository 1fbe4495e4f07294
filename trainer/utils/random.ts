// LightGBM's 32-bit LCG (include/LightGBM/utils/random.h). Bagging, column sampling and bin sampling must draw
// the same numbers as LightGBM to pick the same rows and features.
export class LcgRandom {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0;
  }
  private randInt16(): number {
    this.x = (Math.imul(214013, this.x) + 2531011) >>> 0;
    return (this.x >>> 16) & 0x7fff;
  }
  private randInt32(): number {
    this.x = (Math.imul(214013, this.x) + 2531011) >>> 0;
    return this.x & 0x7fffffff;
  }
  nextShort(lo: number, hi: number): number {
    return (this.randInt16() % (hi - lo)) + lo;
  }
  nextInt(lo: number, hi: number): number {
    return (this.randInt32() % (hi - lo)) + lo;
  }
  /** float(RandInt16)/32768: exact in float32, so no fround is needed. */
  nextFloat(): number {
    return this.randInt16() / 32768;
  }
  /** Random::Sample: K sorted indices out of N. */
  sample(N: number, K: number): Int32Array {
    if (K > N || K <= 0) return new Int32Array(0);
    if (K === N) return Int32Array.from({ length: N }, (_, i) => i);
    if (K > 1 && K > N / Math.log2(K)) {
      const out: number[] = [];
      for (let i = 0; i < N; i++) {
        const prob = (K - out.length) / (N - i);
        if (this.nextFloat() < prob) out.push(i);
      }
      return Int32Array.from(out);
    }
    const set = new Set<number>();
    for (let r = N - K; r < N; r++) {
      const v = this.nextInt(0, r + 1);
      if (set.has(v)) set.add(r);
      else set.add(v);
    }
    return Int32Array.from(set).sort();
  }
}

/** Config::Set: with `seed` given, the sub-seeds come from Random(seed) in this order. */
export function deriveSeeds(seed: number): {
  data: number;
  bagging: number;
  drop: number;
  featureFraction: number;
  objective: number;
  extra: number;
} {
  const r = new LcgRandom(seed);
  return {
    data: r.nextShort(0, 32767),
    bagging: r.nextShort(0, 32767),
    drop: r.nextShort(0, 32767),
    featureFraction: r.nextShort(0, 32767),
    objective: r.nextShort(0, 32767),
    extra: r.nextShort(0, 32767),
  };
}
