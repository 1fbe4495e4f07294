// Prediction over many rows. The model is compiled once into a WebAssembly memory: every input value is first
// turned into a small integer code per feature (which interval between the model's thresholds on that feature it
// falls in, or "missing"), and every node gets a bitset saying, for each code of its feature, whether the row goes
// right. A step is then the same branch-free sequence for numerical, categorical and missing-value decisions
// (predict-wasm.ts runs it):
//
//   node = left[node] + goesRight[node][code[row][feature[node]]]      (the right child follows the left one)
//
// The bitsets are filled by Tree.decision itself on one representative value per code, and every value of a code
// takes the same path at every node of that feature (the codes are cut at every threshold and at the edges of
// LightGBM's zero range), so the routing is exactly Tree.decision's. Each row adds trees 0, 1, ... in order, so the
// sums are bit-identical to a row-at-a-time traversal (and to LightGBM's).
//
// The memory is shared, so the prediction workers (predict-pool.ts) run the same module on it. Inputs go through
// it in chunks: the rows' columns are copied in, the kernel predicts them, the outputs are copied out.
import {
  CATEGORICAL_MASK,
  DEFAULT_LEFT_MASK,
  K_ZERO_THRESHOLD,
  MISSING_NAN,
  MISSING_ZERO,
  type Tree,
} from '../io/tree.ts';
import {
  codeOffset,
  FEATURE_BYTES,
  instantiatePredict,
  NODE_BYTES,
  PREDICT_BLOCK,
  predictModule,
  TREE_BYTES,
  type PredictFn,
} from './predict-wasm.ts';

export interface CompiledModel {
  numTrees: number;
  numFeatures: number;
  memory: WebAssembly.Memory;
  /** Addresses in memory of the tree and feature records (predict-wasm.ts). */
  trees: number;
  feats: number;
  /** A leaf's value is the f64 at (its record's address >> 1) + valueOffset. */
  valueOffset: number;
  /** First byte after the model; the work area of a prediction starts here. */
  end: number;
  /** The kernel on this memory, for the calling thread. */
  predict: PredictFn;
}

/** The memory never grows past 2 GB: addresses are compared as signed i32 in places. */
const MAX_BYTES = 2 ** 31;
/** Rows copied into the memory per round: 2 M values (16 MB of float64). */
const CHUNK_VALUES = 1 << 21;

const align = (n: number): number => Math.ceil(n / 64) * 64;

/** The largest double below x (x finite, negative). */
function nextDown(x: number): number {
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  u[0] += x < 0 ? 1n : -1n;
  return b[0];
}

/** Per feature: 0 unused, 1 numerical, 2 categorical; the numerical thresholds; the categorical code counts. */
interface FeatureUse {
  kind: Uint8Array;
  cuts: number[][];
  maxCat: Int32Array;
}

/** How the first k trees use each feature, or null when a feature is both categorical and numerical. */
function featureUse(trees: Tree[], k: number, F: number): FeatureUse | null {
  const kind = new Uint8Array(F);
  const cuts: number[][] = Array.from({ length: F }, () => []);
  const maxCat = new Int32Array(F);
  for (let t = 0; t < k; t++) {
    const tree = trees[t];
    for (let i = 0; i < tree.numLeaves - 1; i++) {
      const f = tree.splitFeature[i];
      if (f < 0 || f >= F) return null;
      const cat = (tree.decisionType[i] & CATEGORICAL_MASK) !== 0;
      if (kind[f] !== 0 && kind[f] !== (cat ? 2 : 1)) return null;
      kind[f] = cat ? 2 : 1;
      if (cat) {
        const c = tree.threshold[i] | 0;
        maxCat[f] = Math.max(maxCat[f], 32 * (tree.catBoundaries[c + 1] - tree.catBoundaries[c]));
      } else if (!Number.isNaN(tree.threshold[i])) {
        cuts[f].push(tree.threshold[i]);
      }
    }
  }
  return { kind, cuts, maxCat };
}

/**
 * The sorted cut points of a numerical feature: every threshold, plus the edges of the zero range
 * [-K_ZERO_THRESHOLD, K_ZERO_THRESHOLD] (missing type Zero sends that range the default way).
 */
function numericalBounds(cuts: number[]): Float64Array {
  const all = Float64Array.from([...cuts, nextDown(-K_ZERO_THRESHOLD), K_ZERO_THRESHOLD]).sort();
  const uniq: number[] = [];
  for (const v of all) if (uniq.length === 0 || uniq[uniq.length - 1] !== v) uniq.push(v);
  return Float64Array.from(uniq);
}

/** Sets bit c of the bitset starting at word `at`. */
const setBit = (bits: Uint32Array, at: number, c: number): void => {
  bits[at + (c >> 5)] |= 1 << (c & 31);
};

/**
 * The go-right bitset of a numerical node: Tree.decision (NumericalDecision) on each code's representative
 * value, the bounds, +Infinity, then NaN. Values in the zero range go the default way under missing type Zero;
 * NaN does under missing types NaN and Zero, and counts as 0 under None.
 */
function fillNumerical(bits: Uint32Array, at: number, bounds: Float64Array, threshold: number, dt: number): void {
  const n = bounds.length;
  const missing = (dt >> 2) & 3;
  const defaultRight = (dt & DEFAULT_LEFT_MASK) === 0;
  const zeroDefault = missing === MISSING_ZERO;
  for (let c = 0; c < n; c++) {
    const x = bounds[c];
    if (zeroDefault && x >= -K_ZERO_THRESHOLD && x <= K_ZERO_THRESHOLD ? defaultRight : !(x <= threshold))
      setBit(bits, at, c);
  }
  if (!(Infinity <= threshold)) setBit(bits, at, n);
  if (missing === MISSING_NAN || missing === MISSING_ZERO ? defaultRight : !(0 <= threshold)) setBit(bits, at, n + 1);
}

/** The go-right bitset of a categorical node: Tree.decision on each category, and on -1 for "other". */
function fillCategorical(bits: Uint32Array, at: number, tree: Tree, node: number, count: number): void {
  for (let c = 0; c <= count; c++)
    if (tree.decision(c < count ? c : -1, node) === tree.rightChild[node]) setBit(bits, at, c);
}

/** The 32-bit words of a bitset of `codes` bits. */
const words = (codes: number): number => Math.ceil(codes / 32);

/** What compileTrees lays out: the features' bounds and code counts. */
interface Coding {
  use: FeatureUse;
  /** Per numerical feature: its sorted bounds, and their run length padded to a power of two - 1. */
  sorted: Float64Array[];
  pad: number[];
  /**
   * Codes per feature. Numerical: the bounds below the value, then "above all", then NaN; categorical: each
   * category below the count, then "other" (NaN, negative, beyond every bitset).
   */
  numCodes: (f: number) => number;
}

function coding(use: FeatureUse): Coding {
  const sorted = use.cuts.map((c, f) => (use.kind[f] === 1 ? numericalBounds(c) : new Float64Array(0)));
  const pad = sorted.map((b) => {
    let p = 1;
    while (p < b.length) p = 2 * p + 1;
    return b.length === 0 ? 0 : p;
  });
  const numCodes = (f: number): number =>
    use.kind[f] === 1 ? sorted[f].length + 2 : use.kind[f] === 2 ? use.maxCat[f] + 1 : 1;
  return { use, sorted, pad, numCodes };
}

/** Byte addresses of the model's parts in its memory (predict-wasm.ts describes the records). */
interface Layout {
  trees: number;
  feats: number;
  bounds: number;
  records: number;
  values: number;
  zeroTable: number;
  tables: number;
  end: number;
}

function layout(trees: Tree[], k: number, F: number, c: Coding): Layout {
  let maxCodes = 1,
    nodes = 0,
    tableWords = 0;
  for (let f = 0; f < F; f++) maxCodes = Math.max(maxCodes, c.numCodes(f));
  for (let t = 0; t < k; t++) {
    const tree = trees[t];
    nodes += 2 * tree.numLeaves - 1;
    for (let i = 0; i < tree.numLeaves - 1; i++) tableWords += words(c.numCodes(tree.splitFeature[i]));
  }
  const at = { trees: 64 } as Layout;
  at.feats = at.trees + align(TREE_BYTES * k);
  at.bounds = at.feats + align(FEATURE_BYTES * F);
  at.records = at.bounds + align(8 * c.pad.reduce((s, p) => s + p, 0));
  at.values = at.records + align(NODE_BYTES * nodes);
  // Leaves share one all-zero bitset of the largest code count.
  at.zeroTable = at.values + align(8 * nodes);
  at.tables = at.zeroTable + 4 * words(maxCodes);
  at.end = align(at.tables + 4 * tableWords);
  return at;
}

/** The feature records and the padded bounds of the numerical features. */
function writeFeatures(memory: WebAssembly.Memory, at: Layout, c: Coding): void {
  const i32 = new Int32Array(memory.buffer),
    f64 = new Float64Array(memory.buffer);
  let bounds = at.bounds;
  for (let f = 0; f < c.use.kind.length; f++) {
    const rec = (at.feats + FEATURE_BYTES * f) >> 2;
    i32[rec] = c.use.kind[f];
    if (c.use.kind[f] === 1) {
      f64.fill(Infinity, bounds >> 3, (bounds >> 3) + c.pad[f]);
      f64.set(c.sorted[f], bounds >> 3);
      i32[rec + 1] = bounds;
      i32[rec + 2] = 8 * ((c.pad[f] + 1) >> 1);
      i32[rec + 3] = c.sorted[f].length;
      bounds += 8 * c.pad[f];
    } else if (c.use.kind[f] === 2) {
      i32[rec + 3] = c.use.maxCat[f];
    }
  }
}

/**
 * Writes tree t's records from record slot `slot` and its bitsets from address `table`, breadth first with each
 * node's two children in consecutive slots. Returns the next free slot and bitset address.
 */
function writeTree(
  memory: WebAssembly.Memory,
  at: Layout,
  c: Coding,
  tree: Tree,
  t: number,
  slot: number,
  table: number,
): [number, number] {
  const i32 = new Int32Array(memory.buffer),
    f64 = new Float64Array(memory.buffer),
    u32 = new Uint32Array(memory.buffer);
  const record = (s: number): number => at.records + NODE_BYTES * s;
  // A leaf steps on the code of a feature every row has a code for, and stays where it is whatever the code.
  const leafFeature = Math.max(
    0,
    c.use.kind.findIndex((kind) => kind !== 0),
  );
  const first = slot;
  let minDepth = -1;
  // Nodes in Tree's references (~j is leaf j), in slot order.
  const refs = [tree.numLeaves > 1 ? 0 : ~0];
  const depth = [0];
  for (let j = 0; j < refs.length; j++, slot++) {
    const ref = refs[j],
      rec = record(slot) >> 2;
    if (ref < 0) {
      if (minDepth < 0) minDepth = depth[j];
      i32[rec] = codeOffset(leafFeature);
      i32[rec + 1] = at.zeroTable;
      i32[rec + 2] = record(slot);
      f64[(at.values >> 3) + slot] = tree.leafValue[~ref];
      continue;
    }
    const f = tree.splitFeature[ref];
    i32[rec] = codeOffset(f);
    i32[rec + 1] = table;
    i32[rec + 2] = record(first + refs.length);
    refs.push(tree.leftChild[ref], tree.rightChild[ref]);
    depth.push(depth[j] + 1, depth[j] + 1);
    if (c.use.kind[f] === 1) fillNumerical(u32, table >> 2, c.sorted[f], tree.threshold[ref], tree.decisionType[ref]);
    else fillCategorical(u32, table >> 2, tree, ref, c.use.maxCat[f]);
    table += 4 * words(c.numCodes(f));
  }
  i32[(at.trees + TREE_BYTES * t) >> 2] = record(first);
  i32[((at.trees + TREE_BYTES * t) >> 2) + 1] = minDepth;
  return [slot, table];
}

/**
 * Compiles the first k trees, or returns null when a feature is used both as categorical and numerical, a
 * feature would need more than 65535 codes, or the model does not fit the memory (the caller then falls back to
 * Tree-by-Tree prediction).
 */
export function compileTrees(trees: Tree[], k: number, numFeatures: number): CompiledModel | null {
  const F = numFeatures;
  const use = featureUse(trees, k, F);
  if (use === null) return null;
  const c = coding(use);
  for (let f = 0; f < F; f++) if (c.numCodes(f) > 65535) return null;
  const at = layout(trees, k, F, c);
  if (at.end + workBytes(F, 1).bytes > MAX_BYTES) return null;
  const memory = new WebAssembly.Memory({
    initial: Math.ceil(at.end / 65536),
    maximum: MAX_BYTES / 65536,
    shared: true,
  });
  writeFeatures(memory, at, c);
  let slot = 0,
    table = at.tables;
  for (let t = 0; t < k; t++) [slot, table] = writeTree(memory, at, c, trees[t], t, slot, table);
  return {
    numTrees: k,
    numFeatures: F,
    memory,
    trees: at.trees,
    feats: at.feats,
    valueOffset: at.values - (at.records >> 1),
    end: at.end,
    predict: instantiatePredict(predictModule(), memory),
  };
}

/**
 * The work area after the model: the block counter, a chunk's outputs and input columns, and one block of
 * codes per thread. Offsets from its start.
 */
function workBytes(
  F: number,
  threads: number,
  n = Infinity,
): { chunk: number; out: number; input: number; codes: number; codesBytes: number; bytes: number } {
  const chunk = Math.max(PREDICT_BLOCK, Math.min(n, Math.floor(CHUNK_VALUES / Math.max(1, F))));
  const codesBytes = align(2 * PREDICT_BLOCK * Math.max(1, F));
  const out = 64,
    input = out + align(8 * chunk),
    codes = input + align(8 * chunk * F);
  return { chunk, out, input, codes, codesBytes, bytes: codes + threads * codesBytes };
}

/** One chunk of rows staged in the model's memory. */
export interface Chunk {
  /** Threads that may run the kernel on it (each has its block of codes), the calling one included. */
  threads: number;
  /** The kernel's arguments for thread i (0 is the calling thread). */
  args(thread: number): Parameters<PredictFn>;
  /** Zeroes the chunk's outputs and rewinds the block counter, for a run from scratch. */
  rewind(): void;
}

/**
 * out[r] = prediction of row r of column-major cols, r < n: the rows go through the model's memory in chunks,
 * and `run` has the kernel predict each, on up to `threads` threads (fewer if their codes do not fit).
 */
export function predictChunks(
  m: CompiledModel,
  cols: ArrayLike<number>[],
  n: number,
  out: Float64Array,
  threads: number,
  run: (chunk: Chunk) => void,
): void {
  const F = m.numFeatures;
  const one = workBytes(F, 1, n);
  const fit = Math.max(1, Math.min(threads, 1 + Math.floor((MAX_BYTES - m.end - one.bytes) / one.codesBytes)));
  const w = workBytes(F, fit, n);
  const grow = Math.ceil((m.end + w.bytes - m.memory.buffer.byteLength) / 65536);
  if (grow > 0) m.memory.grow(grow);
  const buf = m.memory.buffer;
  const input = new Float64Array(buf, m.end + w.input, w.chunk * F),
    o = new Float64Array(buf, m.end + w.out, w.chunk);
  const counter = new Int32Array(buf, m.end, 1);
  for (let start = 0; start < n; start += w.chunk) {
    const rows = Math.min(w.chunk, n - start);
    for (let f = 0; f < F; f++) {
      const c = cols[f],
        dst = input.subarray(f * rows, (f + 1) * rows);
      if (ArrayBuffer.isView(c)) dst.set((c as Float64Array).subarray(start, start + rows));
      else for (let r = 0; r < rows; r++) dst[r] = c[start + r];
    }
    const rewind = (): void => {
      o.fill(0, 0, rows);
      Atomics.store(counter, 0, 0);
    };
    rewind();
    run({
      threads: fit,
      args: (i) => [
        m.trees,
        m.numTrees,
        m.feats,
        F,
        m.valueOffset,
        m.end + w.input,
        rows,
        m.end + w.out,
        m.end + w.codes + i * w.codesBytes,
        m.end,
      ],
      rewind,
    });
    out.set(o.subarray(0, rows), start);
  }
}

/** Predicts rows [0, n) of column-major cols into out on the calling thread. */
export function predictRows(m: CompiledModel, cols: ArrayLike<number>[], n: number, out: Float64Array): void {
  predictChunks(m, cols, n, out, 1, (chunk) => m.predict(...chunk.args(0)));
}
