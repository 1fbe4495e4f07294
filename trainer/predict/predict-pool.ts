// Parallel prediction that stays synchronous: the main thread stages a chunk of rows in the model's shared
// WebAssembly memory, has worker threads run the same kernel on it, predicts blocks of the same chunk itself, and
// blocks (Atomics.wait) until the workers are done. So Booster.predict keeps its synchronous signature for every
// caller.
//
// A worker is a few lines of JavaScript started with `eval: true` (no module loader or TypeScript hook, so it
// starts quickly) that instantiates the kernel's module (predict-wasm.ts) on the memory it is sent. Rows are
// handed out in blocks from a counter in that memory, and every row's trees are summed by one thread in tree
// order, so the output is bit-identical whatever the thread count.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { predictChunks, type CompiledModel } from './predict-kernel.ts';
import { predictModule } from './predict-wasm.ts';

const WORKER_SOURCE = `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
let predict = null, args = null;
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
      const job = msg.message;
      if (job.memory)
        predict = new WebAssembly.Instance(workerData.module, { env: { memory: job.memory } }).exports.predict;
      args = job.args;
    }
    predict(...args);
    Atomics.store(ctrl, 1, seq);
  } catch (e) {
    Atomics.store(ctrl, 1, -seq);
  }
  Atomics.notify(ctrl, 1);
}
`;

interface Helper {
  w: Worker;
  ctrl: Int32Array;
  port: MessagePort;
  seq: number;
  memory: WebAssembly.Memory | null;
}

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
      w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { ctrl: ctrl.buffer, port: port2, module: predictModule() },
        transferList: [port2],
      });
    } catch {
      broken = true;
      break;
    }
    w.unref();
    port1.unref();
    w.on('error', () => {
      broken = true;
    });
    if (Atomics.wait(ctrl, 2, 0, START_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctrl, 2) !== 1) {
      void w.terminate();
      broken = true;
      break;
    }
    helpers.push({ w, ctrl, port: port1, seq: 0, memory: null });
  }
  return Math.min(count, helpers.length);
}

/**
 * out[r] = prediction of row r of column-major cols, r < n, on `threads` threads (the main thread included).
 * Falls back to the main thread alone when workers cannot run.
 */
export function predictParallel(
  m: CompiledModel,
  cols: ArrayLike<number>[],
  n: number,
  out: Float64Array,
  threads: number,
): void {
  const nw = ensureHelpers(Math.max(0, threads - 1));
  predictChunks(m, cols, n, out, 1 + nw, (chunk) => {
    const used = broken ? 0 : Math.min(nw, chunk.threads - 1);
    for (let i = 0; i < used; i++) {
      const h = helpers[i];
      // A worker instantiates the kernel again only when it is sent a memory (another model's).
      h.port.postMessage({ memory: h.memory === m.memory ? null : m.memory, args: chunk.args(i + 1) });
      h.memory = m.memory;
      h.seq++;
      Atomics.store(h.ctrl, 0, h.seq);
      Atomics.notify(h.ctrl, 0);
    }
    m.predict(...chunk.args(0));
    let failed = false;
    for (let i = 0; i < used; i++) {
      const h = helpers[i];
      for (;;) {
        const done = Atomics.load(h.ctrl, 1);
        if (done === h.seq) break;
        if (done === -h.seq) {
          failed = true;
          break;
        }
        Atomics.wait(h.ctrl, 1, done, 1000);
      }
    }
    if (failed) {
      // A worker threw (out of memory, say): drop the workers and redo this chunk here.
      broken = true;
      for (const h of helpers) void h.w.terminate();
      helpers = [];
      chunk.rewind();
      m.predict(...chunk.args(0));
    }
  });
}
