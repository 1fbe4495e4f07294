// Histogram worker: waits on a shared control block (Atomics), builds its share of the features of one leaf,
// and signals completion. No messages on the hot path, so handing over a job is cheap.
import { workerData, parentPort } from 'node:worker_threads';
import { buildRowwise } from './hist-kernel.ts';
import { createObjective } from '../objective/objectives.ts';
import { walkRows } from './bin-walk.ts';
import { JOB_GRADIENTS, JOB_PARTITION, JOB_WALK, type SharedBoosting } from './hist-pool.ts';
import { buildHistWasm, instantiateHist, partitionColumn, type ColumnBuffers } from './hist-wasm.ts';
import { searchFeatures, SplitInfo, writeSplit, type FeatureMeta, type SplitConfig } from './split.ts';
import { instantiateScan } from './split-wasm.ts';

interface Init {
  rowBins: Uint8Array;
  stride: number;
  grad: Float32Array;
  hess: Float32Array;
  idx: Int32Array;
  slots: Float64Array[];
  ctrl: SharedArrayBuffer;
  /** Positions, offsets, bin counts and feature ids of this worker's features (4 x number of features). */
  feats: Int32Array;
  /** Per histogram slot: is_splittable flags; leaf sums of the current search; where the best splits go. */
  flags: Uint8Array[];
  stats: Float64Array;
  result: Float64Array;
  metas: (FeatureMeta | null)[];
  cfg: SplitConfig;
  /** This thread's column kernel buffers (views of `memory`), with the WebAssembly kernels. */
  columns: ColumnBuffers | null;
  /** The partition's scratch for right-going rows and its go-left table per bin. */
  tmp: Int32Array;
  goLeft: Uint8Array;
  /** The boosting loop's shared state, when the worker takes half of its row work. */
  boosting: SharedBoosting | null;
  /** The shared memory all the arrays above live in, and the kernel module, when the WebAssembly kernel runs. */
  memory: WebAssembly.Memory | null;
  module: WebAssembly.Module | null;
  /** The split scan kernel's module and this thread's argument and result slots in `memory`. */
  scanModule: WebAssembly.Module | null;
  scanIo: Float64Array | null;
}

const d = workerData as Init;
const { rowBins, grad, hess, idx, slots } = d;
const ctrl = new Int32Array(d.ctrl);
const n = d.feats.length / 4;
const pos = d.feats.subarray(0, n);
const off = d.feats.subarray(n, 2 * n);
const len = d.feats.subarray(2 * n, 3 * n);
const fid = d.feats.subarray(3 * n);
const tmp = new SplitInfo(),
  bestSmall = new SplitInfo(),
  bestLarge = new SplitInfo();
const kernel = d.memory && d.module ? instantiateHist(d.module, d.memory) : null;
const scanner = d.memory && d.scanModule && d.scanIo ? instantiateScan(d.scanModule, d.memory, d.scanIo) : null;
const boost = d.boosting;
const objective = boost ? createObjective(boost.params, boost.label) : null;

// ctrl layout: [0] job seq (main writes; -1 = exit), [1] done seq (worker writes; negative = failed), [9] the job.
// Histograms: [2] begin, [3] count, [4] use indices, [5] slot, [6] constant hessian, [7] number of features, [8]
// larger leaf's slot (-1: none); after building, the worker searches its features' splits and writes the two best
// to `result`. Partition: [2] from, [3] to, [5] the feature's byte position, [7] where its rights start in tmp;
// the worker writes its left count to [10]. Gradients: rows [2] from, [3] to. Tree outputs: out-of-bag rows [2]
// from, [3] to, [4] the compiled tree's first leaf node; and the second half of every shared validation set.
function runJob(): void {
  if (ctrl[9] === JOB_GRADIENTS) {
    objective!.gradients(boost!.score, grad, hess, ctrl[2], ctrl[3]);
    return;
  }
  if (ctrl[9] === JOB_WALK) {
    const b = boost!,
      ls = ctrl[4];
    if (b.oob !== null) walkRows(b.walk, ls, rowBins, b.stride, b.oob, ctrl[2], ctrl[3], b.score);
    for (const v of b.valid)
      walkRows(b.walk, ls, v.rowBins, b.stride, null, v.score.length >> 1, v.score.length, v.score);
    return;
  }
  if (ctrl[9] === JOB_PARTITION) {
    ctrl[10] = partitionColumn(kernel, d.columns!, ctrl[5], idx, d.tmp, d.goLeft, ctrl[2], ctrl[3], ctrl[7]);
    return;
  }
  const useIdx = ctrl[4] === 1 ? idx : null,
    h = ctrl[6] === 1 ? null : hess;
  const slot = ctrl[5],
    nf = ctrl[7],
    large = ctrl[8];
  const hist = slots[slot];
  if (kernel)
    buildHistWasm(kernel, rowBins, d.stride, pos, off, len, nf, useIdx, ctrl[2], ctrl[3], grad, h, hist, d.columns);
  else buildRowwise(rowBins, d.stride, pos, off, len, nf, useIdx, ctrl[2], ctrl[3], grad, h, hist);
  bestSmall.reset();
  bestLarge.reset();
  searchFeatures(
    fid,
    0,
    nf,
    d.metas,
    d.cfg,
    hist,
    {
      stats: d.stats,
      smallFlags: d.flags[slot],
      largeFlags: large >= 0 ? d.flags[large] : null,
      largeHist: large >= 0 ? slots[large] : null,
      scanner,
    },
    tmp,
    bestSmall,
    bestLarge,
  );
  writeSplit(bestSmall, d.result, 0);
  writeSplit(bestLarge, d.result, d.result.length / 2);
}

function loop(): void {
  let last = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, last);
    const seq = Atomics.load(ctrl, 0);
    if (seq < 0) return;
    last = seq;
    try {
      runJob();
      Atomics.store(ctrl, 1, seq);
    } catch (e) {
      Atomics.store(ctrl, 1, -seq);
      parentPort!.postMessage(String((e as Error)?.stack ?? e));
    }
    Atomics.notify(ctrl, 1);
  }
}

parentPort!.postMessage('ready');
loop();
