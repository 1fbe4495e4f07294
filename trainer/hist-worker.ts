// Histogram worker: waits on a shared control block (Atomics), builds histograms for its share of the features
// of one leaf, and signals completion. No messages on the hot path, so a job costs microseconds to hand over.
import { workerData, parentPort } from 'node:worker_threads';
import { buildHistogram, type BinArray } from './hist-kernel.ts';

interface Init {
  bins: (SharedArrayBuffer | null)[];
  wide: boolean[];
  numBins: Int32Array;
  offsets: Int32Array;
  grad: SharedArrayBuffer;
  hess: SharedArrayBuffer;
  ordGrad: SharedArrayBuffer;
  ordHess: SharedArrayBuffer;
  idx: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
  ctrl: SharedArrayBuffer;
  feats: SharedArrayBuffer;
}

const d = workerData as Init;
const bins: (BinArray | null)[] = d.bins.map((b, i) => (b === null ? null : d.wide[i] ? new Uint16Array(b) : new Uint8Array(b)));
const grad = new Float32Array(d.grad);
const hess = new Float32Array(d.hess);
const ordGrad = new Float32Array(d.ordGrad);
const ordHess = new Float32Array(d.ordHess);
const idx = new Int32Array(d.idx);
const slots = d.slots.map((s) => new Float64Array(s));
const ctrl = new Int32Array(d.ctrl);
const feats = new Int32Array(d.feats);

// ctrl layout: [0] job seq (main writes), [1] done seq (worker writes; negative = failed), [2] begin, [3] count,
// [4] use indices, [5] slot, [6] constant hessian, [7] number of features in `feats`.
parentPort!.postMessage('ready');
let last = 0;
for (;;) {
  Atomics.wait(ctrl, 0, last);
  const seq = Atomics.load(ctrl, 0);
  if (seq < 0) break;
  last = seq;
  try {
    const begin = ctrl[2], cnt = ctrl[3], useIdx = ctrl[4] === 1, slot = slots[ctrl[5]], constHess = ctrl[6] === 1;
    const nf = ctrl[7];
    for (let k = 0; k < nf; k++) {
      const f = feats[k];
      buildHistogram(bins[f]!, d.numBins[f], useIdx ? idx : null, begin, cnt, useIdx ? ordGrad : grad,
        constHess ? null : useIdx ? ordHess : hess, slot, d.offsets[f]);
    }
    Atomics.store(ctrl, 1, seq);
  } catch (e) {
    Atomics.store(ctrl, 1, -seq);
    parentPort!.postMessage(String((e as Error)?.stack ?? e));
  }
  Atomics.notify(ctrl, 1);
}
