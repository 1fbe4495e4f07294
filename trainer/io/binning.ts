// Feature discretization exactly as LightGBM's BinMapper (src/io/bin.cpp): the same bin boundaries give the
// same candidate thresholds, which is what makes our trees match LightGBM's.
import { K_ZERO_THRESHOLD, MISSING_NAN, MISSING_NONE, MISSING_ZERO } from './tree.ts';
import { g17 } from '../utils/format.ts';

const INF = Infinity;
const buf = new Float64Array(1);
const words = new Uint32Array(buf.buffer); // little-endian: [low, high]

/** std::nextafter(x, +inf), by stepping the IEEE bit pattern (no BigInt: this runs per sampled value). */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === INF) return x;
  if (x === 0) return Number.MIN_VALUE;
  buf[0] = x;
  if (x > 0) {
    if (words[0] === 0xffffffff) {
      words[0] = 0;
      words[1]++;
    } else words[0]++;
  } else {
    if (words[0] === 0) {
      words[0] = 0xffffffff;
      words[1]--;
    } else words[0]--;
  }
  return buf[0];
}

/** Common::CheckDoubleEqualOrdered: b is at most one ulp above a. */
function equalOrdered(a: number, b: number): boolean {
  return b <= nextUp(a);
}

export interface BinOptions {
  maxBin: number;
  minDataInBin: number;
  /** Rows a side must keep (in sample units) for the feature to be splittable at all (feature_pre_filter). */
  filterCnt: number;
  preFilter: boolean;
  useMissing: boolean;
  zeroAsMissing: boolean;
}

function greedyFindBin(
  d: Float64Array | number[],
  c: number[],
  start: number,
  n: number,
  maxBin: number,
  total: number,
  minDataInBin: number,
): number[] {
  const ub: number[] = [];
  if (n <= maxBin) {
    let cur = 0;
    for (let i = 0; i < n - 1; i++) {
      cur += c[start + i];
      if (cur >= minDataInBin) {
        const val = nextUp((d[start + i] + d[start + i + 1]) / 2);
        if (ub.length === 0 || !equalOrdered(ub[ub.length - 1], val)) {
          ub.push(val);
          cur = 0;
        }
      }
    }
    ub.push(INF);
    return ub;
  }
  if (minDataInBin > 0) {
    maxBin = Math.min(maxBin, Math.trunc(total / minDataInBin));
    maxBin = Math.max(maxBin, 1);
  }
  let meanBinSize = total / maxBin;
  let restBinCnt = maxBin;
  let restSampleCnt = total;
  const big = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (c[start + i] >= meanBinSize) {
      big[i] = 1;
      restBinCnt--;
      restSampleCnt -= c[start + i];
    }
  }
  meanBinSize = restSampleCnt / restBinCnt;
  const upper = new Array<number>(maxBin).fill(INF);
  const lower = new Array<number>(maxBin).fill(INF);
  let binCnt = 0;
  lower[0] = d[start];
  let cur = 0;
  for (let i = 0; i < n - 1; i++) {
    if (!big[i]) restSampleCnt -= c[start + i];
    cur += c[start + i];
    if (big[i] || cur >= meanBinSize || (big[i + 1] && cur >= Math.max(1.0, meanBinSize * 0.5))) {
      upper[binCnt] = d[start + i];
      binCnt++;
      lower[binCnt] = d[start + i + 1];
      if (binCnt >= maxBin - 1) break;
      cur = 0;
      if (!big[i]) {
        restBinCnt--;
        meanBinSize = restSampleCnt / restBinCnt;
      }
    }
  }
  binCnt++;
  for (let i = 0; i < binCnt - 1; i++) {
    const val = nextUp((upper[i] + lower[i + 1]) / 2);
    if (ub.length === 0 || !equalOrdered(ub[ub.length - 1], val)) ub.push(val);
  }
  ub.push(INF);
  return ub;
}

function findBinWithZeroAsOneBin(
  d: number[],
  c: number[],
  maxBin: number,
  total: number,
  minDataInBin: number,
): number[] {
  const n = d.length;
  let leftCntData = 0,
    cntZero = 0,
    rightCntData = 0;
  for (let i = 0; i < n; i++) {
    if (d[i] <= -K_ZERO_THRESHOLD) leftCntData += c[i];
    else if (d[i] > K_ZERO_THRESHOLD) rightCntData += c[i];
    else cntZero += c[i];
  }
  let leftCnt = -1;
  for (let i = 0; i < n; i++) {
    if (d[i] > -K_ZERO_THRESHOLD) {
      leftCnt = i;
      break;
    }
  }
  if (leftCnt < 0) leftCnt = n;
  let ub: number[] = [];
  if (leftCnt > 0 && maxBin > 1) {
    let leftMaxBin = Math.trunc((leftCntData / (total - cntZero)) * (maxBin - 1));
    leftMaxBin = Math.max(1, leftMaxBin);
    ub = greedyFindBin(d, c, 0, leftCnt, leftMaxBin, leftCntData, minDataInBin);
    if (ub.length > 0) ub[ub.length - 1] = -K_ZERO_THRESHOLD;
  }
  let rightStart = -1;
  for (let i = leftCnt; i < n; i++) {
    if (d[i] > K_ZERO_THRESHOLD) {
      rightStart = i;
      break;
    }
  }
  const rightMaxBin = maxBin - 1 - ub.length;
  if (rightStart >= 0 && rightMaxBin > 0) {
    const right = greedyFindBin(d, c, rightStart, n - rightStart, rightMaxBin, rightCntData, minDataInBin);
    ub.push(K_ZERO_THRESHOLD, ...right);
  } else {
    ub.push(INF);
  }
  return ub;
}

export class BinMapper {
  numBin = 1;
  missingType = MISSING_NONE;
  isCategorical = false;
  isTrivial = true;
  upperBounds: Float64Array = new Float64Array([INF]);
  bin2cat: number[] = [];
  cat2bin = new Map<number, number>();
  defaultBin = 0;
  mostFreqBin = 0;
  minVal = 0;
  maxVal = 0;

  /**
   * BinMapper::FindBin. `values` are the sampled non-zero values (NaN included) of one column; the remaining
   * totalSampleCnt - values.length sampled rows were zeros.
   */
  static find(values: Float64Array, totalSampleCnt: number, categorical: boolean, o: BinOptions): BinMapper {
    const m = new BinMapper();
    m.isCategorical = categorical;
    let nonNan = 0;
    for (let i = 0; i < values.length; i++) if (values[i] === values[i]) nonNan++;
    const vals = new Float64Array(nonNan);
    for (let i = 0, k = 0; i < values.length; i++) if (values[i] === values[i]) vals[k++] = values[i];
    let naCnt = 0;
    if (!o.useMissing) m.missingType = MISSING_NONE;
    else if (o.zeroAsMissing) m.missingType = MISSING_ZERO;
    else if (nonNan === values.length) m.missingType = MISSING_NONE;
    else {
      m.missingType = MISSING_NAN;
      naCnt = values.length - nonNan;
    }
    const zeroCnt = totalSampleCnt - nonNan - naCnt;
    vals.sort();
    const distinct: number[] = [];
    const counts: number[] = [];
    if (nonNan === 0 || (vals[0] > 0 && zeroCnt > 0)) {
      distinct.push(0);
      counts.push(zeroCnt);
    }
    if (nonNan > 0) {
      distinct.push(vals[0]);
      counts.push(1);
    }
    for (let i = 1; i < nonNan; i++) {
      if (!equalOrdered(vals[i - 1], vals[i])) {
        if (vals[i - 1] < 0 && vals[i] > 0) {
          distinct.push(0);
          counts.push(zeroCnt);
        }
        distinct.push(vals[i]);
        counts.push(1);
      } else {
        distinct[distinct.length - 1] = vals[i];
        counts[counts.length - 1]++;
      }
    }
    if (nonNan > 0 && vals[nonNan - 1] < 0 && zeroCnt > 0) {
      distinct.push(0);
      counts.push(zeroCnt);
    }
    m.minVal = distinct[0];
    m.maxVal = distinct[distinct.length - 1];
    let cntInBin: number[];
    if (!categorical) {
      let ub: number[];
      if (m.missingType === MISSING_ZERO) {
        ub = findBinWithZeroAsOneBin(distinct, counts, o.maxBin, totalSampleCnt, o.minDataInBin);
        if (ub.length === 2) m.missingType = MISSING_NONE;
      } else if (m.missingType === MISSING_NONE) {
        ub = findBinWithZeroAsOneBin(distinct, counts, o.maxBin, totalSampleCnt, o.minDataInBin);
      } else {
        ub = findBinWithZeroAsOneBin(distinct, counts, o.maxBin - 1, totalSampleCnt - naCnt, o.minDataInBin);
        ub.push(NaN);
      }
      m.upperBounds = Float64Array.from(ub);
      m.numBin = ub.length;
      cntInBin = new Array<number>(m.numBin).fill(0);
      let iBin = 0;
      for (let i = 0; i < distinct.length; i++) {
        while (distinct[i] > ub[iBin] && iBin < m.numBin - 1) iBin++;
        cntInBin[iBin] += counts[i];
      }
      if (m.missingType === MISSING_NAN) cntInBin[m.numBin - 1] = naCnt;
    } else {
      const dInt: number[] = [];
      const cInt: number[] = [];
      for (let i = 0; i < distinct.length; i++) {
        const v = Math.trunc(distinct[i]);
        if (v < 0) naCnt += counts[i];
        else if (dInt.length === 0 || v !== dInt[dInt.length - 1]) {
          dInt.push(v);
          cInt.push(counts[i]);
        } else cInt[cInt.length - 1] += counts[i];
      }
      const rest = totalSampleCnt - naCnt;
      cntInBin = [0];
      m.bin2cat = [-1];
      m.cat2bin.set(-1, 0);
      m.numBin = 1;
      if (rest > 0) {
        const order = dInt.map((_, i) => i).sort((a, b) => cInt[b] - cInt[a]); // stable: ties keep value order
        const cutCnt = Math.trunc(Math.fround(Math.fround(rest) * Math.fround(0.99)) + 0.5);
        let distinctCnt = dInt.length + (naCnt > 0 ? 1 : 0);
        const maxBin = Math.min(distinctCnt, o.maxBin);
        let used = 0;
        let cur = 0;
        while (cur < order.length && (used < cutCnt || m.numBin < maxBin)) {
          const k = order[cur];
          if (cInt[k] < o.minDataInBin && cur > 1) break;
          m.bin2cat.push(dInt[k]);
          m.cat2bin.set(dInt[k], m.numBin);
          used += cInt[k];
          cntInBin.push(cInt[k]);
          m.numBin++;
          cur++;
        }
        m.missingType = cur === order.length && naCnt === 0 ? MISSING_NONE : MISSING_NAN;
        cntInBin[0] = totalSampleCnt - used;
        distinctCnt = 0;
      }
    }
    m.isTrivial = m.numBin <= 1;
    if (!m.isTrivial && o.preFilter && needFilter(cntInBin, totalSampleCnt, o.filterCnt, categorical))
      m.isTrivial = true;
    if (!m.isTrivial) {
      m.defaultBin = m.valueToBin(0);
      let mfb = 0;
      for (let i = 1; i < cntInBin.length; i++) if (cntInBin[i] > cntInBin[mfb]) mfb = i;
      m.mostFreqBin = mfb;
      const maxSparseRate = cntInBin[mfb] / totalSampleCnt;
      if (mfb !== m.defaultBin && maxSparseRate < 0.7) m.mostFreqBin = m.defaultBin;
    }
    return m;
  }

  valueToBin(v: number): number {
    if (v !== v) {
      if (this.isCategorical) return 0;
      if (this.missingType === MISSING_NAN) return this.numBin - 1;
      v = 0;
    }
    if (this.isCategorical) {
      const iv = Math.trunc(v);
      if (iv < 0) return 0;
      return this.cat2bin.get(iv) ?? 0;
    }
    const ub = this.upperBounds;
    let l = 0;
    let r = this.numBin - 1;
    if (this.missingType === MISSING_NAN) r -= 1;
    while (l < r) {
      const m = (r + l - 1) >> 1;
      if (v <= ub[m]) r = m;
      else l = m + 1;
    }
    return l;
  }

  /** The feature_infos entry of the model header. */
  info(): string {
    if (this.isTrivial) return 'none';
    if (this.isCategorical) return this.bin2cat.join(':');
    return `[${g17(this.minVal)}:${g17(this.maxVal)}]`;
  }
}

function needFilter(cnt: number[], total: number, filterCnt: number, categorical: boolean): boolean {
  if (!categorical) {
    let sumLeft = 0;
    for (let i = 0; i < cnt.length - 1; i++) {
      sumLeft += cnt[i];
      if (sumLeft >= filterCnt && total - sumLeft >= filterCnt) return false;
    }
    return true;
  }
  if (cnt.length <= 2) {
    for (let i = 0; i < cnt.length - 1; i++) {
      const sumLeft = cnt[i];
      if (sumLeft >= filterCnt && total - sumLeft >= filterCnt) return false;
    }
    return true;
  }
  return false;
}

export { MISSING_NAN, MISSING_NONE, MISSING_ZERO };
