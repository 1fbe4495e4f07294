// The histogram inner loops, shared by the main thread and the worker. They run N x F times per tree level, so
// they are written as flat loops over typed arrays with no allocation.
export type BinArray = Uint8Array | Uint16Array;

/**
 * Accumulates (sum_gradient, sum_hessian) per bin of one feature into hist[off ..]. With `idx`, the rows are
 * idx[begin .. begin+cnt) and grad/hess are the leaf's ordered gradients (position i, not row id); without it the
 * rows are begin .. begin+cnt and grad/hess are indexed by row. hess === null means a constant unit hessian:
 * LightGBM then counts rows instead, which gives the same sums.
 */
export function buildHistogram(bin: BinArray, numBin: number, idx: Int32Array | null, begin: number, cnt: number,
  grad: Float32Array, hess: Float32Array | null, hist: Float64Array, off: number): void {
  hist.fill(0, off, off + 2 * numBin);
  if (idx !== null) {
    const end = begin + cnt;
    if (hess === null) {
      for (let i = begin, j = 0; i < end; i++, j++) {
        const b = off + (bin[idx[i]] << 1);
        hist[b] += grad[j];
        hist[b + 1] += 1;
      }
    } else {
      for (let i = begin, j = 0; i < end; i++, j++) {
        const b = off + (bin[idx[i]] << 1);
        hist[b] += grad[j];
        hist[b + 1] += hess[j];
      }
    }
  } else {
    const end = begin + cnt;
    if (hess === null) {
      for (let i = begin; i < end; i++) {
        const b = off + (bin[i] << 1);
        hist[b] += grad[i];
        hist[b + 1] += 1;
      }
    } else {
      for (let i = begin; i < end; i++) {
        const b = off + (bin[i] << 1);
        hist[b] += grad[i];
        hist[b + 1] += hess[i];
      }
    }
  }
}
