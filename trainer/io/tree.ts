// One regression tree in LightGBM's array layout (include/LightGBM/tree.h): node i is internal, leaf j is
// referenced from a child slot as ~j. Keeping the same layout makes the text format a direct dump and lets
// prediction, SHAP and training share one structure.
import { ModelFormatError } from '../utils/errors.ts';
import { g17, g6, parseNum } from '../utils/format.ts';

export const K_ZERO_THRESHOLD = 1.0000000180025095e-35;
export const CATEGORICAL_MASK = 1;
export const DEFAULT_LEFT_MASK = 2;
export const MISSING_NONE = 0;
export const MISSING_ZERO = 1;
export const MISSING_NAN = 2;

/** LightGBM's MaybeRoundToZero: tiny values become exact zeros so text output stays stable. */
export function maybeRoundToZero(x: number): number {
  return x > -K_ZERO_THRESHOLD && x < K_ZERO_THRESHOLD ? 0 : x;
}

export class Tree {
  numLeaves = 1;
  numCat = 0;
  splitFeature: Int32Array;
  splitGain: Float64Array;
  threshold: Float64Array;
  decisionType: Uint8Array;
  leftChild: Int32Array;
  rightChild: Int32Array;
  leafValue: Float64Array;
  leafWeight: Float64Array;
  leafCount: Int32Array;
  internalValue: Float64Array;
  internalWeight: Float64Array;
  internalCount: Int32Array;
  catBoundaries: number[] = [0];
  catThreshold: number[] = [];
  shrinkage = 1;
  // Training-time only: the bin-space view of each split and leaf bookkeeping.
  thresholdInBin: Int32Array;
  catBoundariesInner: number[] = [0];
  catThresholdInner: number[] = [];
  leafParent: Int32Array;
  leafDepth: Int32Array;

  constructor(maxLeaves: number) {
    const n = Math.max(maxLeaves, 1);
    this.splitFeature = new Int32Array(n);
    this.splitGain = new Float64Array(n);
    this.threshold = new Float64Array(n);
    this.decisionType = new Uint8Array(n);
    this.leftChild = new Int32Array(n);
    this.rightChild = new Int32Array(n);
    this.leafValue = new Float64Array(n);
    this.leafWeight = new Float64Array(n);
    this.leafCount = new Int32Array(n);
    this.internalValue = new Float64Array(n);
    this.internalWeight = new Float64Array(n);
    this.internalCount = new Int32Array(n);
    this.thresholdInBin = new Int32Array(n);
    this.leafParent = new Int32Array(n).fill(-1);
    this.leafDepth = new Int32Array(n);
  }

  /** Tree::Split: the left child keeps the leaf id, the right child gets id numLeaves. */
  private splitCommon(
    leaf: number,
    feature: number,
    leftValue: number,
    rightValue: number,
    leftCnt: number,
    rightCnt: number,
    leftWeight: number,
    rightWeight: number,
    gain: number,
  ): number {
    const node = this.numLeaves - 1;
    const parent = this.leafParent[leaf];
    if (parent >= 0) {
      if (this.leftChild[parent] === ~leaf) this.leftChild[parent] = node;
      else this.rightChild[parent] = node;
    }
    this.splitFeature[node] = feature;
    this.splitGain[node] = Math.fround(gain);
    this.leftChild[node] = ~leaf;
    this.rightChild[node] = ~this.numLeaves;
    this.leafParent[leaf] = node;
    this.leafParent[this.numLeaves] = node;
    this.internalWeight[node] = this.leafWeight[leaf];
    this.internalValue[node] = this.leafValue[leaf];
    this.internalCount[node] = leftCnt + rightCnt;
    this.leafValue[leaf] = Number.isNaN(leftValue) ? 0 : leftValue;
    this.leafWeight[leaf] = leftWeight;
    this.leafCount[leaf] = leftCnt;
    this.leafValue[this.numLeaves] = Number.isNaN(rightValue) ? 0 : rightValue;
    this.leafWeight[this.numLeaves] = rightWeight;
    this.leafCount[this.numLeaves] = rightCnt;
    this.leafDepth[this.numLeaves] = this.leafDepth[leaf] + 1;
    this.leafDepth[leaf]++;
    return node;
  }

  splitNumerical(
    leaf: number,
    feature: number,
    thresholdBin: number,
    thresholdValue: number,
    leftValue: number,
    rightValue: number,
    leftCnt: number,
    rightCnt: number,
    leftWeight: number,
    rightWeight: number,
    gain: number,
    missingType: number,
    defaultLeft: boolean,
  ): number {
    const node = this.splitCommon(
      leaf,
      feature,
      leftValue,
      rightValue,
      leftCnt,
      rightCnt,
      leftWeight,
      rightWeight,
      gain,
    );
    this.decisionType[node] = (defaultLeft ? DEFAULT_LEFT_MASK : 0) | (missingType << 2);
    this.thresholdInBin[node] = thresholdBin;
    this.threshold[node] = thresholdValue;
    return this.numLeaves++;
  }

  splitCategorical(
    leaf: number,
    feature: number,
    binBitset: number[],
    catBitset: number[],
    leftValue: number,
    rightValue: number,
    leftCnt: number,
    rightCnt: number,
    leftWeight: number,
    rightWeight: number,
    gain: number,
    missingType: number,
  ): number {
    const node = this.splitCommon(
      leaf,
      feature,
      leftValue,
      rightValue,
      leftCnt,
      rightCnt,
      leftWeight,
      rightWeight,
      gain,
    );
    this.decisionType[node] = CATEGORICAL_MASK | (missingType << 2);
    this.thresholdInBin[node] = this.numCat;
    this.threshold[node] = this.numCat;
    this.numCat++;
    this.catBoundaries.push(this.catBoundaries[this.catBoundaries.length - 1] + catBitset.length);
    this.catThreshold.push(...catBitset);
    this.catBoundariesInner.push(this.catBoundariesInner[this.catBoundariesInner.length - 1] + binBitset.length);
    this.catThresholdInner.push(...binBitset);
    return this.numLeaves++;
  }

  shrink(rate: number): void {
    for (let i = 0; i < this.numLeaves - 1; i++) {
      this.leafValue[i] = maybeRoundToZero(this.leafValue[i] * rate);
      this.internalValue[i] = maybeRoundToZero(this.internalValue[i] * rate);
    }
    this.leafValue[this.numLeaves - 1] = maybeRoundToZero(this.leafValue[this.numLeaves - 1] * rate);
    this.shrinkage *= rate;
  }

  addBias(v: number): void {
    for (let i = 0; i < this.numLeaves - 1; i++) {
      this.leafValue[i] = maybeRoundToZero(this.leafValue[i] + v);
      this.internalValue[i] = maybeRoundToZero(this.internalValue[i] + v);
    }
    this.leafValue[this.numLeaves - 1] = maybeRoundToZero(this.leafValue[this.numLeaves - 1] + v);
    this.shrinkage = 1;
  }

  asConstant(v: number): void {
    this.numLeaves = 1;
    this.shrinkage = 1;
    this.leafValue[0] = v;
    this.leafWeight[0] = 0;
    this.leafCount[0] = 0;
  }

  /** Routes one raw feature value at an internal node (tree.h NumericalDecision / CategoricalDecision). */
  decision(x: number, node: number): number {
    const dt = this.decisionType[node];
    if (dt & CATEGORICAL_MASK) {
      if (x !== x) return this.rightChild[node];
      const iv = Math.trunc(x);
      // Outside int range (infinities included) static_cast<int> gives INT_MIN on x86: negative, so right.
      if (!(iv >= 0 && iv < 2147483648)) return this.rightChild[node];
      const k = this.threshold[node] | 0;
      const start = this.catBoundaries[k];
      const word = iv >>> 5;
      if (word >= this.catBoundaries[k + 1] - start) return this.rightChild[node];
      return (this.catThreshold[start + word] >>> (iv & 31)) & 1 ? this.leftChild[node] : this.rightChild[node];
    }
    const missing = (dt >> 2) & 3;
    if (x !== x) {
      if (missing === MISSING_NAN) return dt & DEFAULT_LEFT_MASK ? this.leftChild[node] : this.rightChild[node];
      x = 0;
    }
    if (missing === MISSING_ZERO && x >= -K_ZERO_THRESHOLD && x <= K_ZERO_THRESHOLD) {
      return dt & DEFAULT_LEFT_MASK ? this.leftChild[node] : this.rightChild[node];
    }
    return x <= this.threshold[node] ? this.leftChild[node] : this.rightChild[node];
  }

  /** Leaf index for row r of column-major input. */
  leafOf(cols: ArrayLike<number>[], r: number): number {
    let node = 0;
    if (this.numLeaves <= 1) return 0;
    while (node >= 0) node = this.decision(cols[this.splitFeature[node]][r], node);
    return ~node;
  }

  /** Adds this tree's output for rows [0, n) of column-major input to out. */
  addPrediction(cols: ArrayLike<number>[], n: number, out: Float64Array): void {
    if (this.numLeaves <= 1) {
      const v = this.leafValue[0];
      for (let r = 0; r < n; r++) out[r] += v;
      return;
    }
    const sf = this.splitFeature,
      th = this.threshold,
      dtA = this.decisionType;
    const lc = this.leftChild,
      rc = this.rightChild,
      lv = this.leafValue;
    for (let r = 0; r < n; r++) {
      let node = 0;
      while (node >= 0) {
        const x = cols[sf[node]][r];
        const dt = dtA[node];
        // The common case (numerical split, value present, missing type None or NaN) is inlined.
        if (x === x && (dt & 5) === 0) node = x <= th[node] ? lc[node] : rc[node];
        else node = this.decision(x, node);
      }
      out[r] += lv[~node];
    }
  }

  private packed: Int32Array | null = null;

  /**
   * Children packed as [left, right] pairs so a numerical step is one indexed load: child = ch[2*node + (x > t)].
   * The comparison becomes data instead of a branch, which avoids mispredictions on random inputs.
   */
  private children(): Int32Array {
    if (this.packed && this.packed.length === 2 * (this.numLeaves - 1)) return this.packed;
    const ch = new Int32Array(2 * Math.max(0, this.numLeaves - 1));
    for (let i = 0; i < this.numLeaves - 1; i++) {
      ch[2 * i] = this.leftChild[i];
      ch[2 * i + 1] = this.rightChild[i];
    }
    this.packed = ch;
    return ch;
  }

  /** Adds this tree's output for n rows of a row-major block X (stride F) to out. */
  addPredictionRowMajor(X: Float64Array, F: number, n: number, out: Float64Array): void {
    if (this.numLeaves <= 1) {
      const v = this.leafValue[0];
      for (let r = 0; r < n; r++) out[r] += v;
      return;
    }
    const sf = this.splitFeature,
      th = this.threshold,
      dtA = this.decisionType,
      lv = this.leafValue;
    const ch = this.children();
    for (let r = 0, base = 0; r < n; r++, base += F) {
      let node = 0;
      while (node >= 0) {
        const x = X[base + sf[node]];
        // Inlined common case: numerical split, value present, missing type None or NaN.
        if (x === x && (dtA[node] & 5) === 0) node = ch[(node << 1) + ((x > th[node]) as unknown as number | 0)];
        else node = this.decision(x, node);
      }
      out[r] += lv[~node];
    }
  }

  maxDepth(): number {
    if (this.numLeaves <= 1) return 0;
    const walk = (node: number): number =>
      node < 0 ? 0 : 1 + Math.max(walk(this.leftChild[node]), walk(this.rightChild[node]));
    return walk(0);
  }

  expectedValue(): number {
    if (this.numLeaves <= 1) return this.leafValue[0];
    const total = this.internalCount[0];
    let v = 0;
    for (let i = 0; i < this.numLeaves; i++) v += (this.leafCount[i] / total) * this.leafValue[i];
    return v;
  }

  /** Tree::ToString: the block between `Tree=i` and the blank lines, in LightGBM's key order and number formats. */
  toText(index: number): string {
    const L = this.numLeaves,
      N = L - 1;
    const join = <T>(a: ArrayLike<T>, n: number, f: (v: T) => string): string => {
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(f(a[i]));
      return parts.join(' ');
    };
    const int = (v: number): string => String(v);
    const lines = [
      `Tree=${index}`,
      `num_leaves=${L}`,
      `num_cat=${this.numCat}`,
      `split_feature=${join(this.splitFeature, N, int)}`,
      `split_gain=${join(this.splitGain, N, g6)}`,
      `threshold=${join(this.threshold, N, g17)}`,
      `decision_type=${join(this.decisionType, N, int)}`,
      `left_child=${join(this.leftChild, N, int)}`,
      `right_child=${join(this.rightChild, N, int)}`,
      `leaf_value=${join(this.leafValue, L, g17)}`,
      `leaf_weight=${join(this.leafWeight, L, g17)}`,
      `leaf_count=${join(this.leafCount, L, int)}`,
      `internal_value=${join(this.internalValue, N, g6)}`,
      `internal_weight=${join(this.internalWeight, N, g6)}`,
      `internal_count=${join(this.internalCount, N, int)}`,
    ];
    if (this.numCat > 0) {
      lines.push(`cat_boundaries=${this.catBoundaries.join(' ')}`);
      lines.push(`cat_threshold=${this.catThreshold.join(' ')}`);
    }
    lines.push('is_linear=0', `shrinkage=${g6(this.shrinkage)}`);
    return `${lines.join('\n')}\n\n\n`;
  }

  /** Tree(const char*): parses one block of `key=value` lines. */
  static fromText(block: string, index: number): Tree {
    const kv = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    const need = (k: string): string => {
      const v = kv.get(k);
      if (v === undefined)
        throw new ModelFormatError(
          `tree ${index}: missing required key "${k}" (the model file is truncated or corrupt)`,
        );
      return v;
    };
    const nums = (k: string, n: number, allowMissing = false): number[] => {
      const raw = allowMissing ? (kv.get(k) ?? '') : need(k);
      const parts = raw === '' ? [] : raw.split(/\s+/);
      if (allowMissing && parts.length === 0) return new Array(n).fill(0);
      if (parts.length !== n) {
        throw new ModelFormatError(
          `tree ${index}: "${k}" has ${parts.length} values, expected ${n} (the model file is truncated or corrupt)`,
        );
      }
      return parts.map((p) => {
        const v = parseNum(p);
        if (Number.isNaN(v) && !/^[-+]?nan$/i.test(p))
          throw new ModelFormatError(`tree ${index}: "${k}" has a non-numeric value "${p}"`);
        return v;
      });
    };
    const L = Number(need('num_leaves'));
    if (!Number.isInteger(L) || L < 1)
      throw new ModelFormatError(`tree ${index}: num_leaves=${kv.get('num_leaves')} is not a positive integer`);
    const C = Number(need('num_cat'));
    const t = new Tree(L);
    t.numLeaves = L;
    t.numCat = C;
    t.leafValue.set(nums('leaf_value', L));
    if (L > 1) {
      t.splitFeature.set(nums('split_feature', L - 1));
      t.threshold.set(nums('threshold', L - 1));
      t.leftChild.set(nums('left_child', L - 1));
      t.rightChild.set(nums('right_child', L - 1));
      t.splitGain.set(nums('split_gain', L - 1, true));
      t.decisionType.set(nums('decision_type', L - 1, true));
      t.internalValue.set(nums('internal_value', L - 1, true));
      t.internalWeight.set(nums('internal_weight', L - 1, true));
      t.internalCount.set(nums('internal_count', L - 1, true));
      for (let i = 0; i < L - 1; i++) {
        for (const c of [t.leftChild[i], t.rightChild[i]]) {
          if (c >= L - 1 || ~c >= L) throw new ModelFormatError(`tree ${index}: child reference ${c} is out of range`);
        }
      }
    }
    t.leafWeight.set(nums('leaf_weight', L, true));
    t.leafCount.set(nums('leaf_count', L, true));
    if (C > 0) {
      t.catBoundaries = nums('cat_boundaries', C + 1);
      const total = t.catBoundaries[C];
      t.catThreshold = nums('cat_threshold', total).map((v) => v >>> 0);
    }
    const s = kv.get('shrinkage');
    t.shrinkage = s === undefined ? 1 : parseNum(s);
    if (kv.get('is_linear') === '1')
      throw new ModelFormatError(`tree ${index}: linear trees (linear_tree=true) are not supported`);
    return t;
  }
}
