// Builds one leaf's histograms on the main thread plus worker threads, splitting the features between them
// (LightGBM's col-wise mode). Each feature's histogram is written by exactly one thread, so the result does not
// depend on the thread count.
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { buildHistogram, type BinArray } from './hist-kernel.ts';
import { TrainerError } from './errors.ts';

export interface SharedBuffers {
  bins: (BinArray | null)[];
  numBins: Int32Array;
  offsets: Int32Array;
  grad: Float32Array;
  hess: Float32Array;
  ordGrad: Float32Array;
  ordHess: Float32Array;
  idx: Int32Array;
  slots: Float64Array[];
}

// Below this many bin increments a job is cheaper to do alone than to hand over.
const MIN_PARALLEL_WORK = 150_000;

export class HistPool {
  private workers: { w: Worker; ctrl: Int32Array; feats: Int32Array; seq: number }[] = [];
  private constructor(private s: SharedBuffers) {}

  static async create(s: SharedBuffers, threads: number): Promise<HistPool> {
    const pool = new HistPool(s);
    const n = Math.max(0, threads - 1);
    const nf = s.bins.length;
    for (let i = 0; i < n; i++) {
      const ctrl = new Int32Array(new SharedArrayBuffer(64));
      const feats = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, nf)));
      const sab = (a: ArrayBufferView): SharedArrayBuffer => a.buffer as SharedArrayBuffer;
      const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: {
          entry: new URL('./hist-worker.ts', import.meta.url).href,
          bins: s.bins.map((b) => (b === null ? null : sab(b))),
          wide: s.bins.map((b) => b instanceof Uint16Array),
          numBins: s.numBins, offsets: s.offsets,
          grad: sab(s.grad), hess: sab(s.hess), ordGrad: sab(s.ordGrad), ordHess: sab(s.ordHess), idx: sab(s.idx),
          slots: s.slots.map(sab), ctrl: ctrl.buffer, feats: feats.buffer,
        },
      });
      w.on('error', () => { /* surfaced through the control block or the ready wait */ });
      const [msg] = await Promise.race([once(w, 'message'), once(w, 'error').then(([e]) => { throw new TrainerError(`histogram worker failed to start: ${(e as Error).message}`); })]);
      if (msg !== 'ready') throw new TrainerError(`histogram worker failed to start: ${String(msg)}`);
      pool.workers.push({ w, ctrl, feats, seq: 0 });
    }
    return pool;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Builds histograms for feats[0..nFeat) of the rows [begin, begin+cnt) into slot. */
  build(feats: Int32Array, nFeat: number, begin: number, cnt: number, useIdx: boolean, slot: number, constHess: boolean): void {
    const s = this.s;
    const hist = s.slots[slot];
    const local = (from: number, to: number): void => {
      for (let k = from; k < to; k++) {
        const f = feats[k];
        buildHistogram(s.bins[f]!, s.numBins[f], useIdx ? s.idx : null, begin, cnt, useIdx ? s.ordGrad : s.grad,
          constHess ? null : useIdx ? s.ordHess : s.hess, hist, s.offsets[f]);
      }
    };
    const nw = this.workers.length;
    if (nw === 0 || cnt * nFeat < MIN_PARALLEL_WORK || nFeat < 2) {
      local(0, nFeat);
      return;
    }
    const parts = Math.min(nw + 1, nFeat);
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * nFeat) / parts));
    for (let p = 1; p < parts; p++) {
      const wk = this.workers[p - 1];
      const from = bounds[p], to = bounds[p + 1];
      for (let k = from; k < to; k++) wk.feats[k - from] = feats[k];
      const c = wk.ctrl;
      c[2] = begin; c[3] = cnt; c[4] = useIdx ? 1 : 0; c[5] = slot; c[6] = constHess ? 1 : 0; c[7] = to - from;
      wk.seq++;
      Atomics.store(c, 0, wk.seq);
      Atomics.notify(c, 0);
    }
    local(bounds[0], bounds[1]);
    for (let p = 1; p < parts; p++) {
      const wk = this.workers[p - 1];
      for (;;) {
        const done = Atomics.load(wk.ctrl, 1);
        if (done === wk.seq) break;
        if (done === -wk.seq) throw new TrainerError('a histogram worker failed; see the error above');
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
