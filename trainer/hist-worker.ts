// Histogram worker: waits on a shared control block (Atomics), builds its share of the features of one leaf,
// and signals completion. No messages on the hot path, so handing over a job costs microseconds.
import { workerData, parentPort } from 'node:worker_threads';
import { buildRowwise } from './hist-kernel.ts';

interface Init {
  rowBins: SharedArrayBuffer;
  stride: number;
  grad: SharedArrayBuffer;
  hess: SharedArrayBuffer;
  idx: SharedArrayBuffer;
  slotsG: SharedArrayBuffer[];
  slotsH: SharedArrayBuffer[];
  ctrl: SharedArrayBuffer;
  feats: SharedArrayBuffer;
}

const d = workerData as Init;
const rowBins = new Uint8Array(d.rowBins);
const grad = new Float32Array(d.grad);
const hess = new Float32Array(d.hess);
const idx = new Int32Array(d.idx);
const slotsG = d.slotsG.map((s) => new Float64Array(s));
const slotsH = d.slotsH.map((s) => new Float64Array(s));
const ctrl = new Int32Array(d.ctrl);
const featBuf = new Int32Array(d.feats);
const n = featBuf.length / 3;
const pos = featBuf.subarray(0, n);
const off = featBuf.subarray(n, 2 * n);
const len = featBuf.subarray(2 * n, 3 * n);

// ctrl layout: [0] job seq (main writes; -1 = exit), [1] done seq (worker writes; negative = failed), [2] begin,
// [3] count, [4] use indices, [5] slot, [6] constant hessian, [7] number of features.
function runJob(): void {
  buildRowwise(rowBins, d.stride, pos, off, len, ctrl[7], ctrl[4] === 1 ? idx : null, ctrl[2], ctrl[3], grad,
    ctrl[6] === 1 ? null : hess, slotsG[ctrl[5]], slotsH[ctrl[5]]);
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
