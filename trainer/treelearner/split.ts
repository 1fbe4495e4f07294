// Split search over one feature's histogram (LightGBM's feature_histogram.hpp): numerical reverse/forward scans
// with missing-value handling, and categorical one-vs-rest / many-vs-many. A histogram is one Float64Array of
// (sum of gradients, sum of hessians) pairs, one pair per bin: [g0, h0, g1, h1, ...], as LightGBM's hist_t.
import type { Scanner } from './split-wasm.ts';

export const K_EPSILON = 1.0000000036274937e-15;
const K_MIN_SCORE = -Infinity;

export interface SplitConfig {
  lambdaL1: number;
  lambdaL2: number;
  maxDeltaStep: number;
  minDataInLeaf: number;
  minSumHessianInLeaf: number;
  minGainToSplit: number;
  catSmooth: number;
  catL2: number;
  maxCatThreshold: number;
  minDataPerGroup: number;
  maxCatToOnehot: number;
}

export interface FeatureMeta {
  numBin: number;
  missingType: number;
  defaultBin: number;
  mostFreqBin: number;
  isCategorical: boolean;
  /** Bin 0's pair in the leaf's histogram is at 2 * offset. */
  offset: number;
}

export class SplitInfo {
  feature = -1;
  threshold = 0;
  gain = K_MIN_SCORE;
  leftOutput = 0;
  rightOutput = 0;
  leftCount = 0;
  rightCount = 0;
  leftSumG = 0;
  leftSumH = 0;
  rightSumG = 0;
  rightSumH = 0;
  defaultLeft = true;
  /** Categorical: the bins sent left. */
  catBins: number[] = [];

  reset(): void {
    this.feature = -1;
    this.gain = K_MIN_SCORE;
    this.catBins = [];
    this.defaultLeft = true;
  }

  copyFrom(o: SplitInfo): void {
    Object.assign(this, o);
    this.catBins = o.catBins.slice();
  }

  /** SplitInfo::operator>: higher gain, then smaller feature index. */
  betterThan(o: SplitInfo): boolean {
    const a = Number.isNaN(this.gain) ? K_MIN_SCORE : this.gain;
    const b = Number.isNaN(o.gain) ? K_MIN_SCORE : o.gain;
    if (a !== b) return a > b;
    const fa = this.feature === -1 ? 2147483647 : this.feature;
    const fb = o.feature === -1 ? 2147483647 : o.feature;
    return fa < fb;
  }
}

function thresholdL1(s: number, l1: number): number {
  const reg = Math.max(0, Math.abs(s) - l1);
  return (s > 0 ? 1 : s < 0 ? -1 : 0) * reg;
}

export function leafOutput(g: number, h: number, c: SplitConfig, l2: number): number {
  let ret = c.lambdaL1 > 0 ? -thresholdL1(g, c.lambdaL1) / (h + l2) : -g / (h + l2);
  if (c.maxDeltaStep > 0 && Math.abs(ret) > c.maxDeltaStep) ret = (ret > 0 ? 1 : -1) * c.maxDeltaStep;
  return ret;
}

function leafGainGivenOutput(g: number, h: number, l1: number, l2: number, out: number): number {
  const sg = l1 > 0 ? thresholdL1(g, l1) : g;
  return -(2.0 * sg * out + (h + l2) * out * out);
}

function leafGain(g: number, h: number, c: SplitConfig, l2: number): number {
  if (c.maxDeltaStep <= 0) {
    if (c.lambdaL1 > 0) {
      const s = thresholdL1(g, c.lambdaL1);
      return (s * s) / (h + l2);
    }
    return (g * g) / (h + l2);
  }
  return leafGainGivenOutput(g, h, c.lambdaL1, l2, leafOutput(g, h, c, l2));
}

const roundInt = (x: number): number => Math.trunc(x + 0.5);

/**
 * FeatureHistogram::FindBestThreshold for one feature. `sumH` is the leaf's hessian sum without epsilon.
 * Returns whether any split beat the no-split gain (LightGBM's is_splittable flag).
 */
export function findBestThreshold(
  hist: Float64Array,
  meta: FeatureMeta,
  sumG: number,
  sumH: number,
  numData: number,
  parentOutput: number,
  c: SplitConfig,
  out: SplitInfo,
  scanner: Scanner | null = null,
): boolean {
  out.gain = K_MIN_SCORE;
  out.defaultLeft = true;
  const H = sumH + 2 * K_EPSILON;
  if (meta.isCategorical) return findCategorical(hist, meta, sumG, H, numData, parentOutput, c, out);
  const gainShift =
    c.maxDeltaStep > 0
      ? leafGainGivenOutput(sumG, H, c.lambdaL1, c.lambdaL2, parentOutput)
      : leafGain(sumG, H, c, c.lambdaL2);
  const minGainShift = gainShift + c.minGainToSplit;
  let splittable = false;
  const nb = meta.numBin;
  if (nb > 2 && meta.missingType !== 0) {
    if (meta.missingType === 1) {
      splittable = scan(hist, meta, sumG, H, numData, minGainShift, c, out, true, true, false, scanner) || splittable;
      splittable = scan(hist, meta, sumG, H, numData, minGainShift, c, out, false, true, false, scanner) || splittable;
    } else {
      splittable = scan(hist, meta, sumG, H, numData, minGainShift, c, out, true, false, true, scanner) || splittable;
      splittable = scan(hist, meta, sumG, H, numData, minGainShift, c, out, false, false, true, scanner) || splittable;
    }
  } else {
    splittable = scan(hist, meta, sumG, H, numData, minGainShift, c, out, true, false, false, scanner);
    if (meta.missingType === 2) out.defaultLeft = false;
  }
  return splittable;
}

function scan(
  hist: Float64Array,
  meta: FeatureMeta,
  sumG: number,
  sumH: number,
  numData: number,
  minGainShift: number,
  c: SplitConfig,
  out: SplitInfo,
  reverse: boolean,
  skipDefault: boolean,
  naAsMissing: boolean,
  scanner: Scanner | null,
): boolean {
  const off = meta.offset;
  const nb = meta.numBin;
  const cntFactor = numData / sumH;
  const minData = c.minDataInLeaf,
    minHess = c.minSumHessianInLeaf,
    l2 = c.lambdaL2;
  const simple = c.maxDeltaStep <= 0 && c.lambdaL1 <= 0;
  let splittable = false;
  let bestGain = K_MIN_SCORE;
  let bestLeftG = NaN,
    bestLeftH = NaN,
    bestLeftCnt = 0,
    bestThreshold = nb;
  if (scanner !== null && simple) {
    const a = scanner.args;
    a[0] = sumG;
    a[1] = sumH;
    a[2] = numData;
    a[3] = cntFactor;
    a[4] = minData;
    a[5] = minHess;
    a[6] = l2;
    a[7] = minGainShift;
    (reverse ? scanner.reverse : scanner.forward)(
      hist.byteOffset + 16 * off,
      nb,
      skipDefault ? 1 : 0,
      meta.defaultBin,
      naAsMissing ? 1 : 0,
      meta.mostFreqBin === 0 ? 1 : 0,
      a.byteOffset,
      scanner.out.byteOffset,
    );
    const o = scanner.out;
    splittable = o[0] === 1;
    bestGain = o[1];
    bestThreshold = o[2];
    bestLeftG = o[3];
    bestLeftH = o[4];
    bestLeftCnt = o[5];
  } else if (reverse) {
    let rg = 0,
      rh = K_EPSILON,
      rc = 0;
    for (let t = nb - 1 - (naAsMissing ? 1 : 0); t >= 1; t--) {
      if (skipDefault && t === meta.defaultBin) continue;
      const g = hist[2 * (off + t)],
        h = hist[2 * (off + t) + 1];
      rg += g;
      rh += h;
      rc += roundInt(h * cntFactor);
      if (rc < minData || rh < minHess) continue;
      const lc = numData - rc;
      if (lc < minData) break;
      const lh = sumH - rh;
      if (lh < minHess) break;
      const lg = sumG - rg;
      const gain = simple
        ? (lg * lg) / (lh + l2) + (rg * rg) / (rh + l2)
        : leafGain(lg, lh, c, l2) + leafGain(rg, rh, c, l2);
      if (gain <= minGainShift) continue;
      splittable = true;
      if (gain > bestGain) {
        bestLeftCnt = lc;
        bestLeftG = lg;
        bestLeftH = lh;
        bestThreshold = t - 1;
        bestGain = gain;
      }
    }
  } else {
    let lg = 0,
      lh = K_EPSILON,
      lc = 0;
    let t = 0;
    let addFrom = 0;
    // LightGBM does not store the most frequent bin when it is bin 0: the NaN-type scan rebuilds bin 0 as the
    // leaf total minus the stored bins, the Zero-type scan never adds it at all. Mirror both.
    if (meta.mostFreqBin === 0) {
      if (naAsMissing) {
        lg = sumG;
        lh = sumH - K_EPSILON;
        lc = numData;
        for (let i = 1; i < nb; i++) {
          const h = hist[2 * (off + i) + 1];
          lg -= hist[2 * (off + i)];
          lh -= h;
          lc -= roundInt(h * cntFactor);
        }
        addFrom = 1;
      } else {
        t = 1;
      }
    }
    for (; t <= nb - 2; t++) {
      if (skipDefault && t === meta.defaultBin) continue;
      if (t >= addFrom) {
        const h = hist[2 * (off + t) + 1];
        lg += hist[2 * (off + t)];
        lh += h;
        lc += roundInt(h * cntFactor);
      }
      if (lc < minData || lh < minHess) continue;
      const rc = numData - lc;
      if (rc < minData) break;
      const rh = sumH - lh;
      if (rh < minHess) break;
      const rg = sumG - lg;
      const gain = simple
        ? (lg * lg) / (lh + l2) + (rg * rg) / (rh + l2)
        : leafGain(lg, lh, c, l2) + leafGain(rg, rh, c, l2);
      if (gain <= minGainShift) continue;
      splittable = true;
      if (gain > bestGain) {
        bestLeftCnt = lc;
        bestLeftG = lg;
        bestLeftH = lh;
        bestThreshold = t;
        bestGain = gain;
      }
    }
  }
  if (splittable && bestGain > out.gain + minGainShift) {
    out.threshold = bestThreshold;
    out.leftOutput = leafOutput(bestLeftG, bestLeftH, c, l2);
    out.leftCount = bestLeftCnt;
    out.leftSumG = bestLeftG;
    out.leftSumH = bestLeftH - K_EPSILON;
    out.rightOutput = leafOutput(sumG - bestLeftG, sumH - bestLeftH, c, l2);
    out.rightCount = numData - bestLeftCnt;
    out.rightSumG = sumG - bestLeftG;
    out.rightSumH = sumH - bestLeftH - K_EPSILON;
    out.gain = bestGain - minGainShift;
    out.defaultLeft = reverse;
  }
  return splittable;
}

function findCategorical(
  hist: Float64Array,
  meta: FeatureMeta,
  sumG: number,
  sumH: number,
  numData: number,
  parentOutput: number,
  c: SplitConfig,
  out: SplitInfo,
): boolean {
  out.defaultLeft = false;
  const off = meta.offset;
  const nb = meta.numBin;
  let bestGain = K_MIN_SCORE;
  let bestLeftCnt = 0,
    bestLeftG = 0,
    bestLeftH = 0;
  const gainShift =
    c.maxDeltaStep > 0
      ? leafGainGivenOutput(sumG, sumH, c.lambdaL1, c.lambdaL2, parentOutput)
      : leafGain(sumG, sumH, c, c.lambdaL2);
  const minGainShift = gainShift + c.minGainToSplit;
  let l2 = c.lambdaL2;
  const useOnehot = nb <= c.maxCatToOnehot;
  const cntFactor = numData / sumH;
  let bestThreshold = -1;
  let bestDir = 1;
  let splittable = false;
  let sorted: number[] = [];
  let usedBin = -1;
  if (useOnehot) {
    for (let t = 1; t < nb; t++) {
      const g = hist[2 * (off + t)],
        h = hist[2 * (off + t) + 1];
      const cnt = roundInt(h * cntFactor);
      if (cnt < c.minDataInLeaf || h < c.minSumHessianInLeaf) continue;
      const otherCnt = numData - cnt;
      if (otherCnt < c.minDataInLeaf) continue;
      const otherH = sumH - h - K_EPSILON;
      if (otherH < c.minSumHessianInLeaf) continue;
      const otherG = sumG - g;
      const gain = leafGain(otherG, otherH, c, l2) + leafGain(g, h + K_EPSILON, c, l2);
      if (gain <= minGainShift) continue;
      splittable = true;
      if (gain > bestGain) {
        bestThreshold = t;
        bestLeftG = g;
        bestLeftH = h + K_EPSILON;
        bestLeftCnt = cnt;
        bestGain = gain;
      }
    }
  } else {
    for (let i = 1; i < nb; i++) {
      if (roundInt(hist[2 * (off + i) + 1] * cntFactor) >= c.catSmooth) sorted.push(i);
    }
    usedBin = sorted.length;
    l2 += c.catL2;
    const ctr = (i: number): number => hist[2 * (off + i)] / (hist[2 * (off + i) + 1] + c.catSmooth);
    const keys = new Map(sorted.map((i) => [i, ctr(i)]));
    sorted = sorted.sort((a, b) => keys.get(a)! - keys.get(b)!); // stable, as std::stable_sort
    const maxNumCat = Math.min(c.maxCatThreshold, Math.trunc((usedBin + 1) / 2));
    for (const [dir, start] of [
      [1, 0],
      [-1, usedBin - 1],
    ] as const) {
      let pos = start;
      let grp = 0;
      let lg = 0,
        lh = K_EPSILON,
        lc = 0;
      for (let i = 0; i < usedBin && i < maxNumCat; i++) {
        const t = sorted[pos];
        pos += dir;
        const g = hist[2 * (off + t)],
          h = hist[2 * (off + t) + 1];
        const cnt = roundInt(h * cntFactor);
        lg += g;
        lh += h;
        lc += cnt;
        grp += cnt;
        if (lc < c.minDataInLeaf || lh < c.minSumHessianInLeaf) continue;
        const rc = numData - lc;
        if (rc < c.minDataInLeaf || rc < c.minDataPerGroup) break;
        const rh = sumH - lh;
        if (rh < c.minSumHessianInLeaf) break;
        if (grp < c.minDataPerGroup) continue;
        grp = 0;
        const rg = sumG - lg;
        const gain = leafGain(lg, lh, c, l2) + leafGain(rg, rh, c, l2);
        if (gain <= minGainShift) continue;
        splittable = true;
        if (gain > bestGain) {
          bestLeftCnt = lc;
          bestLeftG = lg;
          bestLeftH = lh;
          bestThreshold = i;
          bestGain = gain;
          bestDir = dir;
        }
      }
    }
  }
  if (splittable) {
    out.leftOutput = leafOutput(bestLeftG, bestLeftH, c, l2);
    out.leftCount = bestLeftCnt;
    out.leftSumG = bestLeftG;
    out.leftSumH = bestLeftH - K_EPSILON;
    out.rightOutput = leafOutput(sumG - bestLeftG, sumH - bestLeftH, c, l2);
    out.rightCount = numData - bestLeftCnt;
    out.rightSumG = sumG - bestLeftG;
    out.rightSumH = sumH - bestLeftH - K_EPSILON;
    out.gain = bestGain - minGainShift;
    if (useOnehot) out.catBins = [bestThreshold];
    else {
      const k = bestThreshold + 1;
      out.catBins = [];
      for (let i = 0; i < k; i++) out.catBins.push(bestDir === 1 ? sorted[i] : sorted[usedBin - 1 - i]);
    }
  }
  return splittable;
}

/** Dataset::FixHistogram: the most frequent bin is not stored by LightGBM; it is the leaf total minus the rest. */
export function fixHistogram(hist: Float64Array, meta: FeatureMeta, sumG: number, sumH: number): void {
  const off = meta.offset;
  const mfb = meta.mostFreqBin;
  let g = sumG,
    h = sumH;
  for (let b = 0; b < meta.numBin; b++) {
    if (b === mfb) continue;
    g -= hist[2 * (off + b)];
    h -= hist[2 * (off + b) + 1];
  }
  hist[2 * (off + mfb)] = g;
  hist[2 * (off + mfb) + 1] = h;
}

/** What one leaf pair's split search needs besides the histograms (shared with the histogram workers). */
export interface SearchJob {
  /** The calling thread's WebAssembly threshold scan, when the histograms live in its memory. */
  scanner: Scanner | null;
  /** [smaller: sumG, sumH, count, parent output, larger: sumG, sumH, count, parent output]. */
  stats: Float64Array;
  smallFlags: Uint8Array;
  /** null when only the smaller (root) leaf is searched. */
  largeFlags: Uint8Array | null;
  largeHist: Float64Array | null;
}

/**
 * FindBestSplitsFromHistograms for features fids[from..to): per feature, fix the smaller leaf's histogram, search
 * it, turn the larger leaf's (the parent's) into its own by subtraction and search it, keeping the best split of
 * each leaf and LightGBM's is_splittable flags. Every feature is independent, so the features can be split over
 * threads and the bests merged with betterThan in any order.
 */
export function searchFeatures(
  fids: ArrayLike<number>,
  from: number,
  to: number,
  metas: (FeatureMeta | null)[],
  c: SplitConfig,
  small: Float64Array,
  job: SearchJob,
  s: SplitInfo,
  bestSmall: SplitInfo,
  bestLarge: SplitInfo,
): void {
  const st = job.stats;
  const { largeHist, largeFlags, smallFlags } = job;
  for (let k = from; k < to; k++) {
    const f = fids[k];
    const meta = metas[f]!;
    if (meta.mostFreqBin !== 0) fixHistogram(small, meta, st[0], st[1]);
    s.reset();
    smallFlags[f] = findBestThreshold(small, meta, st[0], st[1], st[2], st[3], c, s, job.scanner) ? 1 : 0;
    s.feature = f;
    if (s.betterThan(bestSmall)) bestSmall.copyFrom(s);
    if (largeHist === null || largeFlags === null) continue;
    const end = 2 * (meta.offset + meta.numBin);
    for (let i = 2 * meta.offset; i < end; i++) largeHist[i] -= small[i];
    s.reset();
    largeFlags[f] = findBestThreshold(largeHist, meta, st[4], st[5], st[6], st[7], c, s, job.scanner) ? 1 : 0;
    s.feature = f;
    if (s.betterThan(bestLarge)) bestLarge.copyFrom(s);
  }
}

/** Float64 slots of one SplitInfo in a shared result buffer, then the categorical bins (count first). */
export const SPLIT_SLOTS = 13;

export function writeSplit(x: SplitInfo, out: Float64Array, at: number): void {
  out[at] = x.feature;
  out[at + 1] = x.threshold;
  out[at + 2] = x.gain;
  out[at + 3] = x.leftOutput;
  out[at + 4] = x.rightOutput;
  out[at + 5] = x.leftCount;
  out[at + 6] = x.rightCount;
  out[at + 7] = x.leftSumG;
  out[at + 8] = x.leftSumH;
  out[at + 9] = x.rightSumG;
  out[at + 10] = x.rightSumH;
  out[at + 11] = x.defaultLeft ? 1 : 0;
  out[at + 12] = x.catBins.length;
  for (let i = 0; i < x.catBins.length; i++) out[at + SPLIT_SLOTS + i] = x.catBins[i];
}

export function readSplit(x: SplitInfo, src: Float64Array, at: number): void {
  x.feature = src[at];
  x.threshold = src[at + 1];
  x.gain = src[at + 2];
  x.leftOutput = src[at + 3];
  x.rightOutput = src[at + 4];
  x.leftCount = src[at + 5];
  x.rightCount = src[at + 6];
  x.leftSumG = src[at + 7];
  x.leftSumH = src[at + 8];
  x.rightSumG = src[at + 9];
  x.rightSumH = src[at + 10];
  x.defaultLeft = src[at + 11] === 1;
  x.catBins = Array.from(src.subarray(at + SPLIT_SLOTS, at + SPLIT_SLOTS + src[at + 12]));
}
