// Exact TreeSHAP (Lundberg et al.), ported from LightGBM's tree.cpp so contributions match LightGBM's
// predict_contrib: per tree the columns sum to the tree's output, with the expected value in the last column.
import type { Tree } from '../io/tree.ts';

class Path {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  w: Float64Array;
  constructor(n: number) {
    this.feature = new Int32Array(n);
    this.zero = new Float64Array(n);
    this.one = new Float64Array(n);
    this.w = new Float64Array(n);
  }
}

let scratch = new Path(64);

function extend(p: Path, base: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[base + depth] = feature;
  p.zero[base + depth] = zero;
  p.one[base + depth] = one;
  p.w[base + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.w[base + i + 1] += (one * p.w[base + i] * (i + 1)) / (depth + 1);
    p.w[base + i] = (zero * p.w[base + i] * (depth - i)) / (depth + 1);
  }
}

function unwind(p: Path, base: number, depth: number, pathIndex: number): void {
  const one = p.one[base + pathIndex];
  const zero = p.zero[base + pathIndex];
  let nextOne = p.w[base + depth];
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = p.w[base + i];
      p.w[base + i] = (nextOne * (depth + 1)) / ((i + 1) * one);
      nextOne = tmp - (p.w[base + i] * zero * (depth - i)) / (depth + 1);
    } else {
      p.w[base + i] = (p.w[base + i] * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = pathIndex; i < depth; i++) {
    p.feature[base + i] = p.feature[base + i + 1];
    p.zero[base + i] = p.zero[base + i + 1];
    p.one[base + i] = p.one[base + i + 1];
  }
}

function unwoundSum(p: Path, base: number, depth: number, pathIndex: number): number {
  const one = p.one[base + pathIndex];
  const zero = p.zero[base + pathIndex];
  let nextOne = p.w[base + depth];
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (nextOne * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      nextOne = p.w[base + i] - tmp * zero * ((depth - i) / (depth + 1));
    } else {
      total += p.w[base + i] / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function count(t: Tree, node: number): number {
  return node >= 0 ? t.internalCount[node] : t.leafCount[~node];
}

function recurse(
  t: Tree,
  x: (f: number) => number,
  phi: Float64Array,
  phiOff: number,
  node: number,
  depth: number,
  p: Path,
  parentBase: number,
  parentZero: number,
  parentOne: number,
  parentFeature: number,
): void {
  // Each recursion level gets its own copy of the path, stacked after the parent's (as LightGBM does).
  const base = parentBase + depth;
  if (depth > 0) {
    p.feature.copyWithin(base, parentBase, parentBase + depth);
    p.zero.copyWithin(base, parentBase, parentBase + depth);
    p.one.copyWithin(base, parentBase, parentBase + depth);
    p.w.copyWithin(base, parentBase, parentBase + depth);
  }
  extend(p, base, depth, parentZero, parentOne, parentFeature);
  if (node < 0) {
    const v = t.leafValue[~node];
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(p, base, depth, i);
      phi[phiOff + p.feature[base + i]] += w * (p.one[base + i] - p.zero[base + i]) * v;
    }
    return;
  }
  const f = t.splitFeature[node];
  const hot = t.decision(x(f), node);
  const cold = hot === t.leftChild[node] ? t.rightChild[node] : t.leftChild[node];
  const w = count(t, node);
  const hotZero = count(t, hot) / w;
  const coldZero = count(t, cold) / w;
  let inZero = 1;
  let inOne = 1;
  let pathIndex = 0;
  for (; pathIndex <= depth; pathIndex++) if (p.feature[base + pathIndex] === f) break;
  if (pathIndex !== depth + 1) {
    inZero = p.zero[base + pathIndex];
    inOne = p.one[base + pathIndex];
    unwind(p, base, depth, pathIndex);
    depth -= 1;
  }
  recurse(t, x, phi, phiOff, hot, depth + 1, p, base, hotZero * inZero, inOne, f);
  recurse(t, x, phi, phiOff, cold, depth + 1, p, base, coldZero * inZero, 0, f);
}

/** Adds one tree's contributions for one row into phi[phiOff .. phiOff+numFeatures] (last slot = expected value). */
export function treeShap(
  t: Tree,
  x: (f: number) => number,
  phi: Float64Array,
  phiOff: number,
  numFeatures: number,
  maxDepth: number,
): void {
  phi[phiOff + numFeatures] += t.expectedValue();
  if (t.numLeaves <= 1) return;
  const len = maxDepth + 2;
  const need = (len * (len + 1)) / 2 + len;
  if (scratch.w.length < need) scratch = new Path(need);
  const p = scratch;
  recurse(t, x, phi, phiOff, 0, 0, p, 0, 1, 1, -1);
}
