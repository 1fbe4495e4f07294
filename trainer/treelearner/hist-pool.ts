// Builds one leaf's histograms on the main thread plus worker threads, splitting the features between them
// (each thread reads every row of the leaf but only its features' bytes), and has each thread search the splits
// of the features it built (smaller leaf, then the larger one by subtraction): the main thread only merges the
// threads' best splits. Each feature's histogram is written by exactly one thread in row order, and the best
// split is a maximum in SplitInfo's total order, so results do not depend on the thread count. The first worker
// also takes half of the row work between trees: a large leaf's partition, the gradients, the tree walks.
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { buildColumn, buildRowwise, partitionRows } from './hist-kernel.ts';
import {
  buildHistWasm,
  histModule,
  instantiateHist,
  partitionColumn,
  type ColumnBuffers,
  type HistKernels,
  type SharedArena,
} from './hist-wasm.ts';
import { TrainerError } from '../utils/errors.ts';
import type { Objective } from '../objective/objectives.ts';
import type { Params } from '../io/params.ts';
import { walkRows, type WalkTables } from './bin-walk.ts';
import { instantiateScan, scanModule, type Scanner } from './split-wasm.ts';
import {
  readSplit,
  searchFeatures,
  SPLIT_SLOTS,
  SplitInfo,
  type FeatureMeta,
  type SearchJob,
  type SplitConfig,
} from './split.ts';

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
  /** Per histogram slot: (gradient sum, hessian sum) pairs of every bin. */
  slots: Float64Array[];
  /** Per thread: feature positions, offsets, bin counts and feature ids (4 x number of features). */
  feats: Int32Array[];
  /** Per histogram slot: LightGBM's is_splittable flag of each feature. */
  flags: Uint8Array[];
  /** Per thread (0 = the calling one): the column kernel's buffers, with the WebAssembly kernels. */
  columns: ColumnBuffers[] | null;
  /** The partition's scratch and go-left table (a worker partitions half of a large leaf). */
  tmp: Int32Array;
  goLeft: Uint8Array;
  /** Per thread: the split scan kernel's argument and result slots, with the WebAssembly kernels. */
  scanIo: Float64Array[] | null;
  /** When set, every buffer above is a view into this memory and the WebAssembly kernel builds the histograms. */
  arena: SharedArena | null;
  /** What the worker needs to share the boosting loop's row work (gradients, tree outputs); null: main only. */
  boosting: SharedBoosting | null;
}

/** The boosting loop's shared state: the worker computes half of the gradients and walks half of the rows. */
export interface SharedBoosting {
  params: Params;
  label: Float32Array;
  score: Float64Array;
  /** The out-of-bag rows of the current bag (null without bagging). */
  oob: Int32Array | null;
  walk: WalkTables;
  /** Bytes per row of the training set's row-major bins and of every shared validation set's. */
  stride: number;
  /** The validation sets binned with the training set's mappers: their row-major bins and scores. */
  valid: { rowBins: Uint8Array; score: Float64Array }[];
}

interface WorkerHandle {
  w: Worker;
  ctrl: Int32Array;
  pos: Int32Array;
  off: Int32Array;
  len: Int32Array;
  fid: Int32Array;
  seq: number;
  /** The worker's best splits of the smaller and the larger leaf (writeSplit layout). */
  result: Float64Array;
}

/** The four per-thread feature lists in one Int32Array: positions, offsets, bin counts, feature ids. */
export const quarters = (a: Int32Array): [Int32Array, Int32Array, Int32Array, Int32Array] => {
  const n = a.length / 4;
  return [a.subarray(0, n), a.subarray(n, 2 * n), a.subarray(2 * n, 3 * n), a.subarray(3 * n)];
};

/** ctrl[9]: what the worker is asked to do. */
export const JOB_HISTOGRAMS = 0;
export const JOB_PARTITION = 1;
export const JOB_GRADIENTS = 2;
export const JOB_WALK = 3;

/** Row work below this size is done by the calling thread alone (a hand-over costs about 20 us). */
const MIN_PARALLEL_ROWS = 16_384;

function post(wk: WorkerHandle): void {
  wk.seq++;
  Atomics.store(wk.ctrl, 0, wk.seq);
  Atomics.notify(wk.ctrl, 0);
}

function awaitJob(wk: WorkerHandle, what: string): void {
  for (;;) {
    const done = Atomics.load(wk.ctrl, 1);
    if (done === wk.seq) return;
    if (done === -wk.seq) throw new TrainerError(`a histogram worker failed while ${what}`);
    Atomics.wait(wk.ctrl, 1, done, 10_000);
  }
}

/** What the learner hands over for a split search with the histograms. */
export interface SearchRequest {
  largeSlot: number;
  bestSmall: SplitInfo;
  bestLarge: SplitInfo;
}

export class HistPool {
  private workers: WorkerHandle[] = [];
  private pos: Int32Array;
  private off: Int32Array;
  private len: Int32Array;
  private readonly kernel: HistKernels | null;
  private readonly scanner: Scanner | null;
  private fid: Int32Array;
  /** Leaf statistics of the current search, shared with the workers (SearchJob.stats). */
  readonly stats = new Float64Array(new SharedArrayBuffer(64));
  private readonly tmp = new SplitInfo();
  private readonly wideIds: Int32Array;
  private readonly other = new SplitInfo();
  private constructor(
    private s: SharedBuffers,
    private metas: (FeatureMeta | null)[],
    private cfg: SplitConfig,
  ) {
    [this.pos, this.off, this.len, this.fid] = quarters(s.feats[0]);
    this.wideIds = new Int32Array(Math.max(1, s.binPos.length));
    const module = s.arena ? histModule() : null;
    this.kernel = module && s.arena ? instantiateHist(module, s.arena.memory) : null;
    const scan = s.arena && s.scanIo ? scanModule() : null;
    this.scanner = scan && s.arena && s.scanIo ? instantiateScan(scan, s.arena.memory, s.scanIo[0]) : null;
  }

  /** buildRowwise on the WebAssembly kernels when the buffers live in their memory. */
  private rowwise(
    nf: number,
    idx: Int32Array | null,
    begin: number,
    cnt: number,
    hess: Float32Array | null,
    hist: Float64Array,
  ): void {
    const s = this.s;
    if (this.kernel)
      buildHistWasm(
        this.kernel,
        s.rowBins,
        s.stride,
        this.pos,
        this.off,
        this.len,
        nf,
        idx,
        begin,
        cnt,
        s.grad,
        hess,
        hist,
        s.columns?.[0] ?? null,
      );
    else buildRowwise(s.rowBins, s.stride, this.pos, this.off, this.len, nf, idx, begin, cnt, s.grad, hess, hist);
  }

  static async create(
    s: SharedBuffers,
    threads: number,
    metas: (FeatureMeta | null)[],
    cfg: SplitConfig,
  ): Promise<HistPool> {
    const pool = new HistPool(s, metas, cfg);
    let maxBins = 1;
    for (const b of s.numBins) maxBins = Math.max(maxBins, b);
    const n = Math.max(0, threads - 1);
    try {
      for (let i = 0; i < n; i++) {
        const ctrl = new Int32Array(new SharedArrayBuffer(64));
        const feats = s.feats[i + 1];
        const result = new Float64Array(new SharedArrayBuffer(16 * (SPLIT_SLOTS + maxBins)));
        // Typed arrays over shared memory arrive in the worker as views of the same memory.
        const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
          workerData: {
            entry: new URL('./hist-worker.ts', import.meta.url).href,
            rowBins: s.rowBins,
            stride: s.stride,
            grad: s.grad,
            hess: s.hess,
            idx: s.idx,
            slots: s.slots,
            ctrl: ctrl.buffer,
            feats,
            flags: s.flags,
            stats: pool.stats,
            result,
            columns: s.columns?.[i + 1] ?? null,
            tmp: s.tmp,
            goLeft: s.goLeft,
            metas,
            cfg,
            boosting: s.boosting,
            memory: s.arena?.memory ?? null,
            module: s.arena ? histModule() : null,
            scanModule: s.arena && s.scanIo ? scanModule() : null,
            scanIo: s.scanIo?.[i + 1] ?? null,
          },
        });
        w.unref();
        const ready = await Promise.race([
          once(w, 'message').then(([m]) => m),
          once(w, 'error').then(([e]) => `error: ${(e as Error).message}`),
        ]);
        if (ready !== 'ready') {
          await w.terminate();
          throw new TrainerError(
            `histogram worker failed to start (${String(ready)}); set num_threads=1 to train without workers`,
          );
        }
        const [pos, off, len, fid] = quarters(feats);
        pool.workers.push({ w, ctrl, pos, off, len, fid, seq: 0, result });
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

  /**
   * Builds histograms for features feats[0..nFeat) over the leaf rows idx[begin .. begin+cnt) into slot, then
   * searches their splits (stats must hold the leaves' sums first): the best of the smaller leaf goes to
   * req.bestSmall, of the larger leaf (histogram slot req.largeSlot, -1 for none) to req.bestLarge.
   */
  build(
    feats: Int32Array,
    nFeat: number,
    begin: number,
    cnt: number,
    useIdx: boolean,
    slot: number,
    constHess: boolean,
    req: SearchRequest,
  ): void {
    const s = this.s;
    const hist = s.slots[slot];
    const idx = useIdx ? s.idx : null;
    const hess = constHess ? null : s.hess;
    const large = req.largeSlot;
    const job: SearchJob = {
      stats: this.stats,
      smallFlags: s.flags[slot],
      largeFlags: large >= 0 ? s.flags[large] : null,
      largeHist: large >= 0 ? s.slots[large] : null,
      scanner: this.scanner,
    };
    let nn = 0,
      nWide = 0;
    for (let k = 0; k < nFeat; k++) {
      const f = feats[k];
      if (s.binPos[f] < 0) {
        buildColumn(s.wide[f]!, s.numBins[f], idx, begin, cnt, s.grad, hess, hist, s.offsets[f]);
        this.wideIds[nWide++] = f;
        continue;
      }
      this.pos[nn] = s.binPos[f];
      this.off[nn] = s.offsets[f];
      this.len[nn] = s.numBins[f];
      this.fid[nn] = f;
      nn++;
    }
    const { bestSmall, bestLarge } = req;
    const search = (fids: Int32Array, from: number, to: number): void =>
      searchFeatures(fids, from, to, this.metas, this.cfg, hist, job, this.tmp, bestSmall, bestLarge);
    search(this.wideIds, 0, nWide);
    const nw = this.workers.length;
    // Even a leaf of a few rows is shared: its split search (every feature's bins) costs more than a hand-over.
    if (nw === 0 || nn < 2) {
      this.rowwise(nn, idx, begin, cnt, hess, hist);
      search(this.fid, 0, nn);
      return;
    }
    const parts = Math.min(nw + 1, nn);
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * nn) / parts));
    for (let p = 1; p < parts; p++) {
      const wk = this.workers[p - 1];
      const from = bounds[p],
        to = bounds[p + 1];
      wk.pos.set(this.pos.subarray(from, to));
      wk.off.set(this.off.subarray(from, to));
      wk.len.set(this.len.subarray(from, to));
      wk.fid.set(this.fid.subarray(from, to));
      const c = wk.ctrl;
      c[2] = begin;
      c[3] = cnt;
      c[4] = useIdx ? 1 : 0;
      c[5] = slot;
      c[6] = constHess ? 1 : 0;
      c[7] = to - from;
      c[8] = large;
      c[9] = JOB_HISTOGRAMS;
      post(wk);
    }
    this.rowwise(bounds[1], idx, begin, cnt, hess, hist);
    search(this.fid, 0, bounds[1]);
    for (let p = 1; p < parts; p++) {
      const wk = this.workers[p - 1];
      awaitJob(wk, 'building histograms');
      const o = this.other;
      readSplit(o, wk.result, 0);
      if (o.betterThan(bestSmall)) bestSmall.copyFrom(o);
      if (large >= 0) {
        readSplit(o, wk.result, wk.result.length / 2);
        if (o.betterThan(bestLarge)) bestLarge.copyFrom(o);
      }
    }
  }

  /**
   * Starts the stable partition of idx[from, to) on the first worker (the feature at byte position `pos` of a
   * row, read from the column-major bins; the s.goLeft table set): lefts stay in idx from `from`, rights go to
   * s.tmp from `tmpStart`. False when there is no worker or no column-major copy: partition serially then.
   */
  startPartition(pos: number, from: number, to: number, tmpStart: number): boolean {
    const wk = this.workers[0];
    if (wk === undefined || this.s.columns === null) return false;
    const c = wk.ctrl;
    c[2] = from;
    c[3] = to;
    c[5] = pos;
    c[7] = tmpStart;
    c[9] = JOB_PARTITION;
    post(wk);
    return true;
  }

  /** The worker that takes half of `rows` rows of work, or null when the main thread does it all. */
  private rowWorker(rows: number): WorkerHandle | null {
    return rows >= MIN_PARALLEL_ROWS ? (this.workers[0] ?? null) : null;
  }

  /** The objective's gradients of every row, the second half on the worker. */
  gradients(objective: Objective, grad: Float32Array, hess: Float32Array): void {
    const score = this.s.boosting?.score;
    if (score === undefined) throw new TrainerError('gradients need the shared boosting state');
    const worker = this.rowWorker(score.length);
    const mid = worker ? score.length >> 1 : score.length;
    if (worker) {
      worker.ctrl[2] = mid;
      worker.ctrl[3] = score.length;
      worker.ctrl[9] = JOB_GRADIENTS;
      post(worker);
    }
    objective.gradients(score, grad, hess, 0, mid);
    if (worker) awaitJob(worker, 'computing gradients');
  }

  /**
   * Adds the tree compiled in the shared WalkTables to the scores of the out-of-bag rows oob[0..oobCnt) and of
   * every shared validation set, half of each on the worker. rowBins: the training set's row-major bins.
   */
  walkTree(rowBins: Uint8Array, oobCnt: number): void {
    const b = this.s.boosting;
    if (b === null) throw new TrainerError('walking a tree needs the shared boosting state');
    const ls = b.walk.leafStart;
    const rows = b.valid.reduce((n, v) => n + v.score.length, oobCnt);
    const worker = this.rowWorker(rows);
    const half = (n: number): number => (worker ? n >> 1 : n);
    if (worker) {
      worker.ctrl[2] = half(oobCnt);
      worker.ctrl[3] = oobCnt;
      worker.ctrl[4] = ls;
      worker.ctrl[9] = JOB_WALK;
      post(worker);
    }
    if (b.oob !== null) walkRows(b.walk, ls, rowBins, b.stride, b.oob, 0, half(oobCnt), b.score);
    for (const v of b.valid) walkRows(b.walk, ls, v.rowBins, b.stride, null, 0, half(v.score.length), v.score);
    if (worker) awaitJob(worker, 'adding a tree to the scores');
  }

  /**
   * The stable partition of idx[from, to) by the feature at byte position `pos` (its column `bin`; s.goLeft
   * set): lefts stay in idx from `from`, rights go to s.tmp from `tmpStart`. Returns the left count.
   */
  partition(pos: number, bin: Uint8Array | Uint16Array, from: number, to: number, tmpStart: number): number {
    const s = this.s;
    const cols = s.columns?.[0];
    if (cols && pos >= 0) return partitionColumn(this.kernel, cols, pos, s.idx, s.tmp, s.goLeft, from, to, tmpStart);
    return partitionRows(s.idx, s.tmp, bin, s.goLeft, from, to, tmpStart);
  }

  /** Waits for the partition startPartition handed out; returns its left count. */
  finishPartition(): number {
    const wk = this.workers[0];
    awaitJob(wk, 'partitioning a leaf');
    return wk.ctrl[10];
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
