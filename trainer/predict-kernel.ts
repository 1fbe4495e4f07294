// Prediction over many rows. The model is compiled once into flat typed arrays: every input value is first
// turned into a small integer code per feature (which interval between the model's thresholds on that feature it
// falls in, or "missing"), and every node gets a table saying, for each code of its feature, whether the row goes
// right. A step is then the same branch-free sequence for numerical, categorical and missing-value decisions:
//
//   node = child[2*node + goesRight[table[node] + code[row][feature[node]]]]
//
// The tables are filled by Tree.decision itself on one representative value per code, and every value of a code
// takes the same path at every node of that feature (the codes are cut at every threshold and at the edges of
// LightGBM's zero range), so the routing is exactly Tree.decision's. Each row adds trees 0, 1, ... in order, so the
// sums are bit-identical to a row-at-a-time traversal (and to LightGBM's).
//
// Traversal runs one tree over a block of rows, 4 rows at a time: the rows' steps are independent, so the CPU
// overlaps their loads instead of waiting on one row's chain of node -> feature -> code -> table -> child loads.
// Leaves point to themselves (their table is all zeros), so a row that reached its leaf just stays there while
// the others finish.
//
// Everything here is plain typed arrays and self-contained functions, so the same code runs in the prediction
// workers (predict-pool.ts) on SharedArrayBuffers.
import { CATEGORICAL_MASK, DEFAULT_LEFT_MASK, K_ZERO_THRESHOLD, MISSING_NAN, MISSING_ZERO, type Tree } from './tree.ts';

export interface CompiledModel {
  numTrees: number;
  numFeatures: number;
  /** Per tree: first node (its root; a single-leaf tree's root is its leaf) and first leaf node. */
  base: Int32Array;
  leafStart: Int32Array;
  /** Per node: [feature, table offset, left child, right child]. */
  nodes: Int32Array;
  /** Per node and code of its feature: 1 when the row goes right. */
  goesRight: Uint8Array;
  /** Leaf value per node (0 for internal nodes). */
  value: Float64Array;
  /** Per feature: 0 unused, 1 numerical, 2 categorical. */
  featKind: Uint8Array;
  /** Per feature: first bound in `bounds` and number of bounds (numerical), or number of category codes. */
  boundStart: Int32Array;
  boundCount: Int32Array;
  /** Sorted cut points of the numerical features, each feature's run padded with +Infinity to a power of two - 1. */
  bounds: Float64Array;
  /** Per feature: padded run length (a power of two minus one). */
  boundPad: Int32Array;
}

/** The code of a numerical value: the number of bounds below it; NaN gets count + 1 (count itself is "above all"). */
const nanCode = (count: number): number => count + 1;

/** The largest double below x (x finite, negative). */
function nextDown(x: number): number {
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  u[0] += x < 0 ? 1n : -1n;
  return b[0];
}

/**
 * Compiles the first k trees, or returns null when a feature is used both as categorical and numerical, or a
 * feature would need more than 65535 codes (the caller then falls back to Tree-by-Tree prediction).
 * `alloc` makes the backing buffers (SharedArrayBuffer for workers).
 */
export function compileTrees(trees: Tree[], k: number, numFeatures: number,
  alloc: (bytes: number) => ArrayBufferLike = (n) => new ArrayBuffer(n)): CompiledModel | null {
  const F = numFeatures;
  const featKind = new Uint8Array(alloc(Math.max(1, F)));
  const cuts: number[][] = Array.from({ length: F }, () => []);
  const maxCat = new Int32Array(F);
  let nodes = 0;
  for (let t = 0; t < k; t++) {
    const tree = trees[t];
    nodes += 2 * tree.numLeaves - 1;
    for (let i = 0; i < tree.numLeaves - 1; i++) {
      const f = tree.splitFeature[i];
      if (f < 0 || f >= F) return null;
      const cat = (tree.decisionType[i] & CATEGORICAL_MASK) !== 0;
      const kind = cat ? 2 : 1;
      if (featKind[f] !== 0 && featKind[f] !== kind) return null;
      featKind[f] = kind;
      if (cat) {
        const c = tree.threshold[i] | 0;
        maxCat[f] = Math.max(maxCat[f], 32 * (tree.catBoundaries[c + 1] - tree.catBoundaries[c]));
      } else if (!Number.isNaN(tree.threshold[i])) {
        cuts[f].push(tree.threshold[i]);
      }
    }
  }
  // Numerical cut points: every threshold, plus the edges of the zero range [-K_ZERO_THRESHOLD, K_ZERO_THRESHOLD]
  // (missing type Zero sends that range the default way).
  const boundStart = new Int32Array(alloc(4 * Math.max(1, F)));
  const boundCount = new Int32Array(alloc(4 * Math.max(1, F)));
  const boundPad = new Int32Array(alloc(4 * Math.max(1, F)));
  const sorted: Float64Array[] = [];
  let totalBounds = 0;
  for (let f = 0; f < F; f++) {
    if (featKind[f] !== 1) {
      sorted.push(new Float64Array(0));
      if (featKind[f] === 2) {
        if (maxCat[f] > 65534) return null;
        boundCount[f] = maxCat[f];
      }
      continue;
    }
    const all = Float64Array.from([...cuts[f], nextDown(-K_ZERO_THRESHOLD), K_ZERO_THRESHOLD]).sort();
    const uniq: number[] = [];
    for (const v of all) if (uniq.length === 0 || uniq[uniq.length - 1] !== v) uniq.push(v);
    if (uniq.length > 65533) return null;
    sorted.push(Float64Array.from(uniq));
    let pad = 1;
    while (pad < uniq.length) pad = 2 * pad + 1;
    boundStart[f] = totalBounds;
    boundCount[f] = uniq.length;
    boundPad[f] = pad;
    totalBounds += pad;
  }
  const bounds = new Float64Array(alloc(8 * Math.max(1, totalBounds))).fill(Infinity);
  for (let f = 0; f < F; f++) if (featKind[f] === 1) bounds.set(sorted[f], boundStart[f]);
  const numCodes = (f: number): number => (featKind[f] === 1 ? boundCount[f] + 2 : featKind[f] === 2 ? boundCount[f] + 1 : 1);
  // A representative value of each code: the upper end of its interval, +Infinity above all bounds, NaN; for a
  // categorical feature the category itself, and -1 for "other" (NaN, negative, beyond every bitset).
  const rep = (f: number, c: number): number => {
    if (featKind[f] === 2) return c < boundCount[f] ? c : -1;
    const n = boundCount[f];
    return c < n ? sorted[f][c] : c === n ? Infinity : NaN;
  };

  let maxCodes = 1;
  let tableSize = 0;
  for (let t = 0; t < k; t++) {
    const tree = trees[t];
    for (let i = 0; i < tree.numLeaves - 1; i++) tableSize += numCodes(tree.splitFeature[i]);
  }
  for (let f = 0; f < F; f++) maxCodes = Math.max(maxCodes, numCodes(f));
  // Leaves share one all-zero table of the largest code count at offset 0.
  const goesRight = new Uint8Array(alloc(Math.max(1, maxCodes + tableSize)));
  const m: CompiledModel = {
    numTrees: k, numFeatures: F,
    base: new Int32Array(alloc(4 * Math.max(1, k))), leafStart: new Int32Array(alloc(4 * Math.max(1, k))),
    nodes: new Int32Array(alloc(16 * Math.max(1, nodes))), goesRight, value: new Float64Array(alloc(8 * Math.max(1, nodes))),
    featKind, boundStart, boundCount, bounds, boundPad,
  };
  let b = 0, tab = maxCodes;
  for (let t = 0; t < k; t++) {
    const tree = trees[t];
    const L = tree.numLeaves, ls = b + L - 1;
    m.base[t] = b;
    m.leafStart[t] = ls;
    const ref = (c: number): number => (c < 0 ? ls + ~c : b + c);
    for (let i = 0; i < L - 1; i++) {
      const n = b + i, f = tree.splitFeature[i];
      m.nodes[4 * n] = f;
      m.nodes[4 * n + 1] = tab;
      m.nodes[4 * n + 2] = ref(tree.leftChild[i]);
      m.nodes[4 * n + 3] = ref(tree.rightChild[i]);
      const codes = numCodes(f), right = tree.rightChild[i];
      if (featKind[f] === 1) fillNumerical(goesRight, tab, sorted[f], tree.threshold[i], tree.decisionType[i]);
      else for (let c = 0; c < codes; c++) goesRight[tab + c] = tree.decision(rep(f, c), i) === right ? 1 : 0;
      tab += codes;
    }
    for (let j = 0; j < L; j++) {
      const n = ls + j;
      m.nodes[4 * n] = 0;
      m.nodes[4 * n + 1] = 0;
      m.nodes[4 * n + 2] = n;
      m.nodes[4 * n + 3] = n;
      m.value[n] = tree.leafValue[j];
    }
    b += 2 * L - 1;
  }
  return m;
}

/**
 * The table of a numerical node: Tree.decision (NumericalDecision) on each code's representative value, the
 * bounds, +Infinity, then NaN. Values in the zero range go the default way under missing type Zero; NaN does
 * under missing types NaN and Zero, and counts as 0 under None.
 */
function fillNumerical(tab: Uint8Array, off: number, bounds: Float64Array, threshold: number, dt: number): void {
  const n = bounds.length;
  const missing = (dt >> 2) & 3;
  const defaultRight = dt & DEFAULT_LEFT_MASK ? 0 : 1;
  const zeroDefault = missing === MISSING_ZERO;
  for (let c = 0; c < n; c++) {
    const x = bounds[c];
    tab[off + c] = zeroDefault && x >= -K_ZERO_THRESHOLD && x <= K_ZERO_THRESHOLD ? defaultRight : x <= threshold ? 0 : 1;
  }
  tab[off + n] = Infinity <= threshold ? 0 : 1;
  tab[off + n + 1] = missing === MISSING_NAN || missing === MISSING_ZERO ? defaultRight : 0 <= threshold ? 0 : 1;
}

/** Rows per block: a block's codes (128 x 50 x 2 bytes) and the tree being walked stay in L1 (measured best of 64-512). */
export const PREDICT_BLOCK = 128;

/**
 * Writes the codes of rows [start, start+len) of column-major cols into codes (row-major, numFeatures per row).
 * Numerical: a branch-free binary search over the feature's padded bounds (number of bounds below the value).
 */
export function encodeBlock(m: CompiledModel, cols: ArrayLike<number>[], start: number, len: number, codes: Uint16Array): void {
  const F = m.numFeatures, bounds = m.bounds;
  for (let f = 0; f < F; f++) {
    const kind = m.featKind[f];
    if (kind === 0) continue;
    const c = cols[f];
    const cnt = m.boundCount[f];
    if (kind === 2) {
      for (let r = 0, o = f; r < len; r++, o += F) {
        const x = c[start + r];
        const iv = Math.trunc(x);
        codes[o] = x !== x || iv < 0 || iv >= cnt ? cnt : iv;
      }
      continue;
    }
    const s0 = m.boundStart[f], pad = m.boundPad[f], nan = cnt + 1;
    const top = (pad + 1) >> 1;
    let r = 0, o = f;
    // Four rows at a time: four independent search chains keep the loads overlapping.
    for (; r + 4 <= len; r += 4, o += 4 * F) {
      const x0 = c[start + r], x1 = c[start + r + 1], x2 = c[start + r + 2], x3 = c[start + r + 3];
      let p0 = s0, p1 = s0, p2 = s0, p3 = s0;
      for (let step = top; step > 0; step >>= 1) {
        p0 += (((bounds[p0 + step - 1] < x0) as unknown as number) | 0) * step;
        p1 += (((bounds[p1 + step - 1] < x1) as unknown as number) | 0) * step;
        p2 += (((bounds[p2 + step - 1] < x2) as unknown as number) | 0) * step;
        p3 += (((bounds[p3 + step - 1] < x3) as unknown as number) | 0) * step;
      }
      codes[o] = x0 === x0 ? p0 - s0 : nan;
      codes[o + F] = x1 === x1 ? p1 - s0 : nan;
      codes[o + 2 * F] = x2 === x2 ? p2 - s0 : nan;
      codes[o + 3 * F] = x3 === x3 ? p3 - s0 : nan;
    }
    for (; r < len; r++, o += F) {
      const x = c[start + r];
      let p = s0;
      for (let step = top; step > 0; step >>= 1) p += (((bounds[p + step - 1] < x) as unknown as number) | 0) * step;
      codes[o] = x === x ? p - s0 : nan;
    }
  }
}

/** Adds the model's output for `len` encoded rows (codes row-major) to out[outStart ..]. */
export function traverseBlock(m: CompiledModel, codes: Uint16Array, len: number, out: Float64Array, outStart: number): void {
  const F = m.numFeatures, nodes = m.nodes, tab = m.goesRight, value = m.value;
  for (let t = 0; t < m.numTrees; t++) {
    const root = m.base[t], ls = m.leafStart[t];
    if (root >= ls) {
      const v = value[root];
      for (let r = 0; r < len; r++) out[outStart + r] += v;
      continue;
    }
    let r = 0;
    for (; r + 4 <= len; r += 4) {
      let a = root, b = root, c = root, d = root;
      const ra = r * F, rb = ra + F, rc = rb + F, rd = rc + F;
      do {
        a = nodes[4 * a + 2 + tab[nodes[4 * a + 1] + codes[ra + nodes[4 * a]]]];
        b = nodes[4 * b + 2 + tab[nodes[4 * b + 1] + codes[rb + nodes[4 * b]]]];
        c = nodes[4 * c + 2 + tab[nodes[4 * c + 1] + codes[rc + nodes[4 * c]]]];
        d = nodes[4 * d + 2 + tab[nodes[4 * d + 1] + codes[rd + nodes[4 * d]]]];
      } while (((a - ls) | (b - ls) | (c - ls) | (d - ls)) < 0);
      out[outStart + r] += value[a];
      out[outStart + r + 1] += value[b];
      out[outStart + r + 2] += value[c];
      out[outStart + r + 3] += value[d];
    }
    for (; r < len; r++) {
      let a = root;
      const ra = r * F;
      while (a < ls) a = nodes[4 * a + 2 + tab[nodes[4 * a + 1] + codes[ra + nodes[4 * a]]]];
      out[outStart + r] += value[a];
    }
  }
}

/**
 * Predicts rows [0, n) of column-major cols into out, taking blocks of rows from a counter shared with the other
 * threads (Atomics.add on counter[0]) until none are left, so a thread slowed by other load simply takes fewer.
 * `codes` is this thread's scratch of PREDICT_BLOCK * numFeatures codes.
 */
export function predictRows(m: CompiledModel, cols: ArrayLike<number>[], n: number, out: Float64Array, counter: Int32Array, codes: Uint16Array): void {
  const block = 128; // PREDICT_BLOCK, as a literal: this function also runs from its source text in the workers
  const grab = 8 * block;
  for (;;) {
    const lo = Atomics.add(counter, 0, grab);
    if (lo >= n) return;
    const hi = Math.min(n, lo + grab);
    for (let st = lo; st < hi; st += block) {
      const len = Math.min(block, hi - st);
      encodeBlock(m, cols, st, len, codes);
      traverseBlock(m, codes, len, out, st);
    }
  }
}
