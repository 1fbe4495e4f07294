// Histogram worker: waits on a shared control block (Atomics), builds its share of the features of one leaf,
// and signals completion. No messages on the hot path, so handing over a job costs microseconds.
import { workerData, parentPort } from 'node:worker_threads';
import { buildRowwise } from './hist-kernel.ts';
import { buildRowwiseWasm, instantiateHist } from './hist-wasm.ts';

interface Init {
  rowBins: Uint8Array;
  stride: number;
  grad: Float32Array;
  hess: Float32Array;
  idx: Int32Array;
  slotsG: Float64Array[];
  slotsH: Float64Array[];
  ctrl: SharedArrayBuffer;
  feats: Int32Array;
  /** The shared memory all the arrays above live in, and the kernel module, when the WebAssembly kernel runs. */
  memory: WebAssembly.Memory | null;
  module: WebAssembly.Module | null;
}

const d = workerData as Init;
const { rowBins, grad, hess, idx, slotsG, slotsH } = d;
const ctrl = new Int32Array(d.ctrl);
const n = d.feats.length / 3;
const pos = d.feats.subarray(0, n);
const off = d.feats.subarray(n, 2 * n);
const len = d.feats.subarray(2 * n, 3 * n);
const kernel = d.memory && d.module ? instantiateHist(d.module, d.memory) : null;

// ctrl layout: [0] job seq (main writes; -1 = exit), [1] done seq (worker writes; negative = failed), [2] begin,
// [3] count, [4] use indices, [5] slot, [6] constant hessian, [7] number of features.
function runJob(): void {
  const useIdx = ctrl[4] === 1 ? idx : null, h = ctrl[6] === 1 ? null : hess;
  if (kernel) buildRowwiseWasm(kernel, rowBins, d.stride, pos, off, len, ctrl[7], useIdx, ctrl[2], ctrl[3], grad, h, slotsG[ctrl[5]], slotsH[ctrl[5]]);
  else buildRowwise(rowBins, d.stride, pos, off, len, ctrl[7], useIdx, ctrl[2], ctrl[3], grad, h, slotsG[ctrl[5]], slotsH[ctrl[5]]);
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
