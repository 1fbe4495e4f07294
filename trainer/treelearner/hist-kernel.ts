// The histogram inner loops, shared by the main thread and the worker. They run rows x features times per tree
// level, so they are flat loops over typed arrays with no allocation.
//
// Layout: bins are stored row-major (one byte per feature, `stride` bytes per row) so that a leaf's rows each
// cost one cache line however scattered they are; a thread handles a subset of the features for every row of
// the leaf, so each feature's histogram is still summed in row order by exactly one thread (deterministic,
// independent of the thread count). A histogram holds (gradient sum, hessian sum) pairs, one per bin, as
// LightGBM's hist_t: both sums of a bin share a cache line.

/**
 * Accumulates (sum_gradient, sum_hessian) for features k < nf (byte position pos[k] in the row, histogram offset
 * off[k], len[k] bins) over rows idx[begin .. begin+cnt) (or rows begin .. begin+cnt when idx is null) into
 * hist[2 * (off[k] + bin)] and the next slot. hess === null means constant unit hessians: rows are counted
 * instead, as LightGBM does.
 *
 * Four rows go through the feature loop together: V8 reloads a typed array's length and data pointer after every
 * store into a typed array, so one feature's pos/off loads and checks are shared by four rows' updates. Each
 * bin still receives its rows in row order, so the sums are unchanged.
 */
export function buildRowwise(
  rowBins: Uint8Array,
  stride: number,
  pos: Int32Array,
  off: Int32Array,
  len: Int32Array,
  nf: number,
  idx: Int32Array | null,
  begin: number,
  cnt: number,
  grad: Float32Array,
  hess: Float32Array | null,
  hist: Float64Array,
): void {
  for (let k = 0; k < nf; k++) hist.fill(0, 2 * off[k], 2 * (off[k] + len[k]));
  const end = begin + cnt;
  if (nf === 0) return;
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const r0 = idx === null ? i : idx[i],
      r1 = idx === null ? i + 1 : idx[i + 1];
    const r2 = idx === null ? i + 2 : idx[i + 2],
      r3 = idx === null ? i + 3 : idx[i + 3];
    const g0 = grad[r0],
      g1 = grad[r1],
      g2 = grad[r2],
      g3 = grad[r3];
    const h0 = hess === null ? 1 : hess[r0],
      h1 = hess === null ? 1 : hess[r1],
      h2 = hess === null ? 1 : hess[r2],
      h3 = hess === null ? 1 : hess[r3];
    const b0 = r0 * stride,
      b1 = r1 * stride,
      b2 = r2 * stride,
      b3 = r3 * stride;
    for (let k = 0; k < nf; k++) {
      const p = pos[k],
        o = off[k];
      const x0 = 2 * (o + rowBins[b0 + p]),
        x1 = 2 * (o + rowBins[b1 + p]),
        x2 = 2 * (o + rowBins[b2 + p]),
        x3 = 2 * (o + rowBins[b3 + p]);
      hist[x0] += g0;
      hist[x0 + 1] += h0;
      hist[x1] += g1;
      hist[x1 + 1] += h1;
      hist[x2] += g2;
      hist[x2 + 1] += h2;
      hist[x3] += g3;
      hist[x3 + 1] += h3;
    }
  }
  for (; i < end; i++) {
    const row = idx === null ? i : idx[i];
    const g = grad[row];
    const h = hess === null ? 1 : hess[row];
    const base = row * stride;
    for (let k = 0; k < nf; k++) {
      const b = 2 * (off[k] + rowBins[base + pos[k]]);
      hist[b] += g;
      hist[b + 1] += h;
    }
  }
}

/** Column-wise variant for the rare features with more than 256 bins (stored as separate Uint16 columns). */
export function buildColumn(
  bin: Uint16Array,
  numBin: number,
  idx: Int32Array | null,
  begin: number,
  cnt: number,
  grad: Float32Array,
  hess: Float32Array | null,
  hist: Float64Array,
  off: number,
): void {
  hist.fill(0, 2 * off, 2 * (off + numBin));
  const end = begin + cnt;
  for (let i = begin; i < end; i++) {
    const row = idx === null ? i : idx[i];
    const b = 2 * (off + bin[row]);
    hist[b] += grad[row];
    hist[b + 1] += hess === null ? 1 : hess[row];
  }
}

/**
 * The stable partition of a leaf's rows idx[from, to) by one feature's bins: rows whose bin goLeft marks stay in
 * idx from `from` on, in order; the others go to tmp from `tmpStart` on, in order. Returns the left count.
 * Branch-free: a left/right branch on random rows mispredicts about half the time. The main thread and a worker
 * each run it on one half of a large leaf.
 */
export function partitionRows(
  idx: Int32Array,
  tmp: Int32Array,
  bin: Uint8Array | Uint16Array,
  goLeft: Uint8Array,
  from: number,
  to: number,
  tmpStart: number,
): number {
  let l = from,
    r = tmpStart;
  for (let i = from; i < to; i++) {
    const row = idx[i];
    const g = goLeft[bin[row]];
    idx[l] = row;
    tmp[r] = row;
    l += g;
    r += 1 - g;
  }
  return l - from;
}
