// A tree's output added to the scores of binned rows, routed in bin space: the out-of-bag rows of the training
// set, and validation sets that were binned with the training set's bin mappers as they were read (LightGBM's
// AddPredictionToScore on a Dataset).
import type { BinnedData } from '../io/dataset.ts';
import { MISSING_NAN, MISSING_ZERO, type Tree } from '../io/tree.ts';
import type { FeatureMeta } from './split.ts';

type Bins = Pick<BinnedData, 'rowBins' | 'stride' | 'binPos' | 'cols'>;

let nodesScratch = new Int32Array(0);
let tableScratch = new Uint8Array(0);

function missingBin(meta: FeatureMeta): number {
  if (meta.missingType === MISSING_NAN) return meta.numBin - 1;
  return meta.missingType === MISSING_ZERO ? meta.defaultBin : -1;
}

/**
 * score[row] += the tree's output for rows[0..cnt) (rows 0..cnt-1 when `rows` is null), on the row-major bins.
 * Each node gets a go-right table over its feature's bins and leaves point to themselves, so four rows walk the
 * tree together without branches (as predict-kernel.ts does on raw values). Trees that split a feature with
 * more than 256 bins (not in the row-major matrix) use leafOfRow.
 */
export function addTreeOutput(
  tree: Tree,
  metas: (FeatureMeta | null)[],
  bins: Bins,
  rows: Int32Array | null,
  cnt: number,
  score: Float64Array,
): void {
  const L = tree.numLeaves,
    ls = L - 1,
    lv = tree.leafValue;
  const binPos = bins.binPos;
  let wide = false;
  for (let i = 0; i < L - 1; i++) if (binPos[tree.splitFeature[i]] < 0) wide = true;
  if (wide || L <= 1) {
    for (let k = 0; k < cnt; k++) {
      const r = rows ? rows[k] : k;
      score[r] += lv[leafOfRow(tree, metas, bins, r)];
    }
    return;
  }
  if (nodesScratch.length < 4 * (2 * L - 1)) nodesScratch = new Int32Array(4 * (2 * L - 1));
  if (tableScratch.length < 256 * L) tableScratch = new Uint8Array(256 * L);
  const nodes = nodesScratch,
    tab = tableScratch;
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
  const rb = bins.rowBins,
    stride = bins.stride;
  let k = 0;
  for (; k + 4 <= cnt; k += 4) {
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
  for (; k < cnt; k++) {
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
