// Builds one leaf's histograms on the main thread plus worker threads, splitting the features between them
// (each thread reads every row of the leaf but only its features' bytes). Each feature's histogram is written by
// exactly one thread in row order, so results do not depend on the thread count.
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { buildColumn, buildRowwise } from './hist-kernel.ts';
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
}

// Below this many bin increments a job is cheaper to do alone than to hand over.
const MIN_PARALLEL_WORK = 100_000;

interface WorkerHandle { w: Worker; ctrl: Int32Array; pos: Int32Array; off: Int32Array; len: Int32Array; seq: number }

export class HistPool {
  private workers: WorkerHandle[] = [];
  private pos: Int32Array;
  private off: Int32Array;
  private len: Int32Array;
  private constructor(private s: SharedBuffers) {
    const n = s.binPos.length;
    this.pos = new Int32Array(n);
    this.off = new Int32Array(n);
    this.len = new Int32Array(n);
  }

  static async create(s: SharedBuffers, threads: number): Promise<HistPool> {
    const pool = new HistPool(s);
    const n = Math.max(0, threads - 1);
    const nf = Math.max(1, s.binPos.length);
    const sab = (a: ArrayBufferView): SharedArrayBuffer => a.buffer as SharedArrayBuffer;
    try {
      for (let i = 0; i < n; i++) {
        const ctrl = new Int32Array(new SharedArrayBuffer(64));
        const feats = new Int32Array(new SharedArrayBuffer(12 * nf));
        const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
          workerData: {
            entry: new URL('./hist-worker.ts', import.meta.url).href,
            rowBins: sab(s.rowBins), stride: s.stride, grad: sab(s.grad), hess: sab(s.hess), idx: sab(s.idx),
            slotsG: s.slotsG.map(sab), slotsH: s.slotsH.map(sab), ctrl: ctrl.buffer, feats: feats.buffer,
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
        pool.workers.push({ w, ctrl, pos: feats.subarray(0, nf), off: feats.subarray(nf, 2 * nf), len: feats.subarray(2 * nf, 3 * nf), seq: 0 });
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
      buildRowwise(s.rowBins, s.stride, this.pos, this.off, this.len, nn, idx, begin, cnt, s.grad, hess, hg, hh);
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
    buildRowwise(s.rowBins, s.stride, this.pos, this.off, this.len, bounds[1], idx, begin, cnt, s.grad, hess, hg, hh);
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
