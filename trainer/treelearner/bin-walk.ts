// A tree's output added to the scores of binned rows, routed in bin space: the out-of-bag rows of the training
// set, and validation sets that were binned with the training set's bin mappers as they were read (LightGBM's
// AddPredictionToScore on a Dataset).
import type { BinnedData } from '../io/dataset.ts';
import { MISSING_NAN, MISSING_ZERO, type Tree } from '../io/tree.ts';
import type { FeatureMeta } from './split.ts';

type Bins = Pick<BinnedData, 'rowBins' | 'stride' | 'binPos' | 'cols'>;

function missingBin(meta: FeatureMeta): number {
  if (meta.missingType === MISSING_NAN) return meta.numBin - 1;
  return meta.missingType === MISSING_ZERO ? meta.defaultBin : -1;
}

/**
 * A tree compiled for the branch-free walk: per node its feature's byte position, its go-right table's offset in
 * `tab` and its two children; leaves point to themselves. Shared memory, so a worker can walk the same tree.
 */
export class WalkTables {
  readonly nodes: Int32Array;
  readonly tab: Uint8Array;
  readonly leafValue: Float64Array;
  /** Index of the first leaf node (num_leaves - 1) of the compiled tree. */
  leafStart = 0;

  constructor(maxLeaves: number) {
    this.nodes = new Int32Array(new SharedArrayBuffer(16 * (2 * maxLeaves - 1)));
    this.tab = new Uint8Array(new SharedArrayBuffer(256 * maxLeaves));
    this.leafValue = new Float64Array(new SharedArrayBuffer(8 * maxLeaves));
  }

  /**
   * Compiles the tree; false when it cannot be walked in the row-major bins (a single leaf, or a split on a
   * feature with more than 256 bins): use addTreeOutput then.
   */
  compile(tree: Tree, metas: (FeatureMeta | null)[], binPos: Int32Array): boolean {
    const L = tree.numLeaves,
      ls = L - 1;
    if (L <= 1) return false;
    for (let i = 0; i < L - 1; i++) if (binPos[tree.splitFeature[i]] < 0) return false;
    const { nodes, tab } = this;
    tab.fill(0, 0, 256);
    const ref = (c: number): number => (c < 0 ? ls + ~c : c);
    for (let i = 0; i < L - 1; i++) {
      const f = tree.splitFeature[i];
      const off = 256 * (i + 1);
      nodes[4 * i] = binPos[f];
      nodes[4 * i + 1] = off;
      nodes[4 * i + 2] = ref(tree.leftChild[i]);
      nodes[4 * i + 3] = ref(tree.rightChild[i]);
      const dt = tree.decisionType[i];
      if (dt & 1) {
        const k = tree.thresholdInBin[i];
        const start = tree.catBoundariesInner[k],
          words = tree.catBoundariesInner[k + 1] - start;
        for (let b = 0; b < 256; b++) {
          const w = b >>> 5;
          tab[off + b] = w < words && (tree.catThresholdInner[start + w] >>> (b & 31)) & 1 ? 0 : 1;
        }
      } else {
        const missBin = missingBin(metas[f]!);
        const th = tree.thresholdInBin[i],
          dl = (dt & 2) !== 0;
        for (let b = 0; b < 256; b++) tab[off + b] = (b === missBin ? dl : b <= th) ? 0 : 1;
      }
    }
    for (let j = 0; j < L; j++) {
      const n = ls + j;
      nodes[4 * n] = 0;
      nodes[4 * n + 1] = 0;
      nodes[4 * n + 2] = n;
      nodes[4 * n + 3] = n;
    }
    this.leafValue.set(tree.leafValue.subarray(0, L));
    this.leafStart = ls;
    return true;
  }
}

/**
 * score[row] += the compiled tree's output for rows[from..to) (rows from..to-1 when `rows` is null), four rows
 * walking the tree together without branches (as predict-kernel.ts does on raw values).
 */
export function walkRows(
  t: WalkTables,
  ls: number,
  rb: Uint8Array,
  stride: number,
  rows: Int32Array | null,
  from: number,
  to: number,
  score: Float64Array,
): void {
  const { nodes, tab, leafValue: lv } = t;
  let k = from;
  for (; k + 4 <= to; k += 4) {
    const ra = rows ? rows[k] : k,
      rbb = rows ? rows[k + 1] : k + 1,
      rc = rows ? rows[k + 2] : k + 2,
      rd = rows ? rows[k + 3] : k + 3;
    const ba = ra * stride,
      bb = rbb * stride,
      bc = rc * stride,
      bd = rd * stride;
    let a = 0,
      b = 0,
      c = 0,
      d = 0;
    do {
      a = nodes[4 * a + 2 + tab[nodes[4 * a + 1] + rb[ba + nodes[4 * a]]]];
      b = nodes[4 * b + 2 + tab[nodes[4 * b + 1] + rb[bb + nodes[4 * b]]]];
      c = nodes[4 * c + 2 + tab[nodes[4 * c + 1] + rb[bc + nodes[4 * c]]]];
      d = nodes[4 * d + 2 + tab[nodes[4 * d + 1] + rb[bd + nodes[4 * d]]]];
    } while (((a - ls) | (b - ls) | (c - ls) | (d - ls)) < 0);
    score[ra] += lv[a - ls];
    score[rbb] += lv[b - ls];
    score[rc] += lv[c - ls];
    score[rd] += lv[d - ls];
  }
  for (; k < to; k++) {
    const r = rows ? rows[k] : k;
    const base = r * stride;
    let a = 0;
    while (a < ls) a = nodes[4 * a + 2 + tab[nodes[4 * a + 1] + rb[base + nodes[4 * a]]]];
    score[r] += lv[a - ls];
  }
}

let scratch: WalkTables | null = null;

/**
 * score[row] += the tree's output for rows[0..cnt) (rows 0..cnt-1 when `rows` is null), on the row-major bins;
 * trees that split a feature with more than 256 bins (not in the row-major matrix) use leafOfRow.
 */
export function addTreeOutput(
  tree: Tree,
  metas: (FeatureMeta | null)[],
  bins: Bins,
  rows: Int32Array | null,
  cnt: number,
  score: Float64Array,
): void {
  if (scratch === null || scratch.leafValue.length < tree.numLeaves) scratch = new WalkTables(tree.numLeaves);
  if (scratch.compile(tree, metas, bins.binPos)) {
    walkRows(scratch, scratch.leafStart, bins.rowBins, bins.stride, rows, 0, cnt, score);
    return;
  }
  const lv = tree.leafValue;
  for (let k = 0; k < cnt; k++) {
    const r = rows ? rows[k] : k;
    score[r] += lv[leafOfRow(tree, metas, bins, r)];
  }
}

/** Leaf of one binned row, one node at a time. */
function leafOfRow(tree: Tree, metas: (FeatureMeta | null)[], bins: Bins, row: number): number {
  if (tree.numLeaves <= 1) return 0;
  let node = 0;
  while (node >= 0) {
    const f = tree.splitFeature[node];
    const b = bins.cols[f]![row];
    const dt = tree.decisionType[node];
    if (dt & 1) {
      const k = tree.thresholdInBin[node];
      const start = tree.catBoundariesInner[k],
        words = tree.catBoundariesInner[k + 1] - start;
      const w = b >>> 5;
      const hit = w < words && (tree.catThresholdInner[start + w] >>> (b & 31)) & 1;
      node = hit ? tree.leftChild[node] : tree.rightChild[node];
    } else {
      const left = b === missingBin(metas[f]!) ? (dt & 2) !== 0 : b <= tree.thresholdInBin[node];
      node = left ? tree.leftChild[node] : tree.rightChild[node];
    }
  }
  return ~node;
}
