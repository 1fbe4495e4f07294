// Builds one leaf's histograms on the main thread plus worker threads, splitting the features between them
// (each thread reads every row of the leaf but only its features' bytes). Each feature's histogram is written by
// exactly one thread in row order, so results do not depend on the thread count.
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { buildColumn, buildRowwise } from './hist-kernel.ts';
import { buildRowwiseWasm, histModule, instantiateHist, type HistFn, type SharedArena } from './hist-wasm.ts';
import { TrainerError } from './errors.ts';

export interface SharedBuffers {
  rowBins: Uint8Array;
  stride: number;
  /** Byte position of each feature in a row (-1: trivial or wide). */
  binPos: Int32Array;
  /** Uint16 columns of features with more than 256 bins. */
  wide: (Uint16Array | null)[];
  numBins: Int32Array;
  offsets: Int32Array;
  grad: Float32Array;
  hess: Float32Array;
  idx: Int32Array;
  slotsG: Float64Array[];
  slotsH: Float64Array[];
  /** Per thread: feature positions, offsets and bin counts (3 x number of features). */
  feats: Int32Array[];
  /** When set, every buffer above is a view into this memory and the WebAssembly kernel builds the histograms. */
  arena: SharedArena | null;
}

// Below this many bin increments a job is cheaper to do alone than to hand over.
const MIN_PARALLEL_WORK = 100_000;

interface WorkerHandle { w: Worker; ctrl: Int32Array; pos: Int32Array; off: Int32Array; len: Int32Array; seq: number }

const thirds = (a: Int32Array): [Int32Array, Int32Array, Int32Array] => {
  const n = a.length / 3;
  return [a.subarray(0, n), a.subarray(n, 2 * n), a.subarray(2 * n, 3 * n)];
};

export class HistPool {
  private workers: WorkerHandle[] = [];
  private pos: Int32Array;
  private off: Int32Array;
  private len: Int32Array;
  private readonly kernel: HistFn | null;
  private constructor(private s: SharedBuffers) {
    [this.pos, this.off, this.len] = thirds(s.feats[0]);
    const module = s.arena ? histModule() : null;
    this.kernel = module && s.arena ? instantiateHist(module, s.arena.memory) : null;
  }

  /** buildRowwise on the WebAssembly kernel when the buffers live in its memory. */
  private rowwise(nf: number, idx: Int32Array | null, begin: number, cnt: number, hess: Float32Array | null, hg: Float64Array, hh: Float64Array): void {
    const s = this.s;
    if (this.kernel) buildRowwiseWasm(this.kernel, s.rowBins, s.stride, this.pos, this.off, this.len, nf, idx, begin, cnt, s.grad, hess, hg, hh);
    else buildRowwise(s.rowBins, s.stride, this.pos, this.off, this.len, nf, idx, begin, cnt, s.grad, hess, hg, hh);
  }

  static async create(s: SharedBuffers, threads: number): Promise<HistPool> {
    const pool = new HistPool(s);
    const n = Math.max(0, threads - 1);
    try {
      for (let i = 0; i < n; i++) {
        const ctrl = new Int32Array(new SharedArrayBuffer(64));
        const feats = s.feats[i + 1];
        // Typed arrays over shared memory arrive in the worker as views of the same memory.
        const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
          workerData: {
            entry: new URL('./hist-worker.ts', import.meta.url).href,
            rowBins: s.rowBins, stride: s.stride, grad: s.grad, hess: s.hess, idx: s.idx,
            slotsG: s.slotsG, slotsH: s.slotsH, ctrl: ctrl.buffer, feats,
            memory: s.arena?.memory ?? null, module: s.arena ? histModule() : null,
          },
        });
        w.unref();
        const ready = await Promise.race([
          once(w, 'message').then(([m]) => m),
          once(w, 'error').then(([e]) => `error: ${(e as Error).message}`),
        ]);
        if (ready !== 'ready') {
          await w.terminate();
          throw new TrainerError(`histogram worker failed to start (${String(ready)}); set num_threads=1 to train without workers`);
        }
        const [pos, off, len] = thirds(feats);
        pool.workers.push({ w, ctrl, pos, off, len, seq: 0 });
      }
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Builds histograms for features feats[0..nFeat) over the leaf rows idx[begin .. begin+cnt) into slot. */
  build(feats: Int32Array, nFeat: number, begin: number, cnt: number, useIdx: boolean, slot: number, constHess: boolean): void {
    const s = this.s;
    const hg = s.slotsG[slot], hh = s.slotsH[slot];
    const idx = useIdx ? s.idx : null;
    const hess = constHess ? null : s.hess;
    let nn = 0;
    for (let k = 0; k < nFeat; k++) {
      const f = feats[k];
      if (s.binPos[f] < 0) {
        buildColumn(s.wide[f]!, s.numBins[f], idx, begin, cnt, s.grad, hess, hg, hh, s.offsets[f]);
        continue;
      }
      this.pos[nn] = s.binPos[f];
      this.off[nn] = s.offsets[f];
      this.len[nn] = s.numBins[f];
      nn++;
    }
    const nw = this.workers.length;
    if (nw === 0 || cnt * nn < MIN_PARALLEL_WORK || nn < 2) {
      this.rowwise(nn, idx, begin, cnt, hess, hg, hh);
      return;
    }
    const parts = Math.min(nw + 1, nn);
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * nn) / parts));
    for (let p = 1; p < parts; p++) {
      const wk = this.workers[p - 1];
      const from = bounds[p], to = bounds[p + 1];
      wk.pos.set(this.pos.subarray(from, to));
      wk.off.set(this.off.subarray(from, to));
      wk.len.set(this.len.subarray(from, to));
      const c = wk.ctrl;
      c[2] = begin; c[3] = cnt; c[4] = useIdx ? 1 : 0; c[5] = slot; c[6] = constHess ? 1 : 0; c[7] = to - from;
      wk.seq++;
      Atomics.store(c, 0, wk.seq);
      Atomics.notify(c, 0);
    }
    this.rowwise(bounds[1], idx, begin, cnt, hess, hg, hh);
    for (let p = 1; p < parts; p++) {
      const wk = this.workers[p - 1];
      for (;;) {
        const done = Atomics.load(wk.ctrl, 1);
        if (done === wk.seq) break;
        if (done === -wk.seq) throw new TrainerError('a histogram worker failed while building histograms');
        Atomics.wait(wk.ctrl, 1, done, 10_000);
      }
    }
  }

  async close(): Promise<void> {
    for (const wk of this.workers) {
      Atomics.store(wk.ctrl, 0, -1);
      Atomics.notify(wk.ctrl, 0);
    }
    await Promise.all(this.workers.map((wk) => wk.w.terminate()));
    this.workers = [];
  }
}
