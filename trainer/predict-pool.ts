// Parallel prediction that stays synchronous: the main thread hands a chunk of rows to worker threads over
// SharedArrayBuffers, predicts blocks of the same chunk itself, and blocks (Atomics.wait) until the workers are
// done. So Booster.predict keeps its synchronous signature for every caller.
//
// The workers run the kernel's own functions from their source text (Function.prototype.toString), started with
// `eval: true`: no module loader or TypeScript hook is involved in a worker, it starts in milliseconds, and it
// cannot drift from the main thread's kernel. Rows are handed out in blocks from a shared counter, and every row's
// trees are summed by one thread in tree order, so the output is bit-identical whatever the thread count.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { encodeBlock, predictRows, PREDICT_BLOCK, traverseBlock, type CompiledModel } from './predict-kernel.ts';

const WORKER_SOURCE = `'use strict';
var __name = (f) => f;
${encodeBlock.toString()}
${traverseBlock.toString()}
${predictRows.toString()}
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
let job = null, codes = null, cols = null;
Atomics.store(ctrl, 2, 1);
Atomics.notify(ctrl, 2);
let last = 0;
for (;;) {
  Atomics.wait(ctrl, 0, last);
  const seq = Atomics.load(ctrl, 0);
  if (seq < 0) break;
  last = seq;
  try {
    for (let msg = receiveMessageOnPort(port); msg !== undefined; msg = receiveMessageOnPort(port)) {
      job = msg.message;
      const F = job.model.numFeatures, rows = job.rows;
      codes = new Uint16Array(${PREDICT_BLOCK} * Math.max(1, F));
      cols = [];
      for (let f = 0; f < F; f++) cols.push(job.input.subarray(f * rows, (f + 1) * rows));
    }
    predictRows(job.model, cols, job.rows, job.out, job.counter, codes);
    Atomics.store(ctrl, 1, seq);
  } catch (e) {
    Atomics.store(ctrl, 1, -seq);
  }
  Atomics.notify(ctrl, 1);
}
`;

interface Helper { w: Worker; ctrl: Int32Array; port: MessagePort; seq: number }

/** Rows copied into shared memory per round: 1/4 M values (16 MB of float64). */
const CHUNK_VALUES = 1 << 21;
/** How long a new worker may take to start before prediction goes on without it. */
const START_TIMEOUT_MS = 10_000;

let helpers: Helper[] = [];
let broken = false;

/** Starts workers until there are `count`; returns how many are running (fewer if a worker cannot start). */
function ensureHelpers(count: number): number {
  while (!broken && helpers.length < count) {
    const ctrl = new Int32Array(new SharedArrayBuffer(16));
    const { port1, port2 } = new MessageChannel();
    let w: Worker;
    try {
      w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctrl: ctrl.buffer, port: port2 }, transferList: [port2] });
    } catch {
      broken = true;
      break;
    }
    w.unref();
    port1.unref();
    w.on('error', () => { broken = true; });
    if (Atomics.wait(ctrl, 2, 0, START_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctrl, 2) !== 1) {
      void w.terminate();
      broken = true;
      break;
    }
    helpers.push({ w, ctrl, port: port1, seq: 0 });
  }
  return Math.min(count, helpers.length);
}

/** Scratch shared with the workers, grown as needed. */
let shared: { input: Float64Array; out: Float64Array; counter: Int32Array } | null = null;

/**
 * out[r] = prediction of row r of column-major cols, r < n, on `threads` threads (the main thread included).
 * The model must live in SharedArrayBuffers. Falls back to the main thread alone when workers cannot run.
 */
export function predictParallel(m: CompiledModel, cols: ArrayLike<number>[], n: number, out: Float64Array, threads: number): void {
  const F = m.numFeatures;
  const nw = ensureHelpers(Math.max(0, threads - 1));
  const codes = new Uint16Array(PREDICT_BLOCK * Math.max(1, F));
  if (nw === 0) {
    predictRows(m, cols, n, out, new Int32Array(1), codes);
    return;
  }
  const chunk = Math.max(PREDICT_BLOCK, Math.min(n, Math.floor(CHUNK_VALUES / Math.max(1, F))));
  if (!shared || shared.out.length < chunk || shared.input.length < chunk * F) {
    shared = {
      input: new Float64Array(new SharedArrayBuffer(8 * chunk * Math.max(1, F))),
      out: new Float64Array(new SharedArrayBuffer(8 * chunk)),
      counter: new Int32Array(new SharedArrayBuffer(4)),
    };
  }
  const { input, out: sOut, counter } = shared;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const sCols: Float64Array[] = [];
    for (let f = 0; f < F; f++) {
      const c = cols[f], dst = input.subarray(f * rows, (f + 1) * rows);
      if (ArrayBuffer.isView(c)) dst.set((c as Float64Array).subarray(start, start + rows));
      else for (let r = 0; r < rows; r++) dst[r] = c[start + r];
      sCols.push(dst);
    }
    const o = sOut.subarray(0, rows);
    o.fill(0);
    Atomics.store(counter, 0, 0);
    for (let i = 0; i < nw; i++) {
      const h = helpers[i];
      h.port.postMessage({ model: m, input, rows, out: sOut, counter });
      h.seq++;
      Atomics.store(h.ctrl, 0, h.seq);
      Atomics.notify(h.ctrl, 0);
    }
    predictRows(m, sCols, rows, o, counter, codes);
    let failed = false;
    for (let i = 0; i < nw; i++) {
      const h = helpers[i];
      for (;;) {
        const done = Atomics.load(h.ctrl, 1);
        if (done === h.seq) break;
        if (done === -h.seq) { failed = true; break; }
        Atomics.wait(h.ctrl, 1, done, 1000);
      }
    }
    if (failed) {
      // A worker threw (out of memory, say): drop the workers and redo this chunk here.
      broken = true;
      for (const h of helpers) void h.w.terminate();
      helpers = [];
      o.fill(0);
      predictRows(m, sCols, rows, o, new Int32Array(1), codes);
    }
    out.set(o, start);
  }
}
