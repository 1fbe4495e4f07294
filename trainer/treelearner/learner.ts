// LightGBM's SerialTreeLearner: leaf-wise growth on histograms, the smaller child built and the larger one by
// subtraction from the parent, a stable row partition per leaf, feature pruning (is_splittable) and per-tree
// column sampling.
import type { BinnedData, Dataset } from '../io/dataset.ts';
import type { HistPool } from './hist-pool.ts';
import type { Params } from '../io/params.ts';
import { LcgRandom } from '../utils/random.ts';
import { leafOutput, SplitInfo, type FeatureMeta, type SplitConfig } from './split.ts';
import { MISSING_NAN, MISSING_ZERO, Tree } from '../io/tree.ts';
import type { BinMapper } from '../io/binning.ts';
import { histModule, SharedArena, type ColumnBuffers } from './hist-wasm.ts';
import { addTreeOutput } from './bin-walk.ts';
import { SCAN_ARGS, SCAN_OUT } from './split-wasm.ts';

/** Leaves of at least this many rows are partitioned by the main thread and a worker, half each. */
const PARALLEL_PARTITION = 8_192;

export interface LearnerBuffers {
  grad: Float32Array;
  hess: Float32Array;
  idx: Int32Array;
  /** Per histogram slot: (gradient sum, hessian sum) pairs of every bin. */
  slots: Float64Array[];
  /** The row-major bins the histograms read (a copy in the arena when there is one). */
  rowBins: Uint8Array;
  /** Per thread (0 = the calling one): feature byte positions, histogram offsets, bin counts, ids: 4 x numFeatures. */
  feats: Int32Array[];
  /** Per histogram slot: LightGBM's is_splittable flag of each feature (shared: the workers search splits). */
  flags: Uint8Array[];
  /** Per thread: the column kernel's buffers (the column-major bins are shared); with the WebAssembly kernels only. */
  columns: ColumnBuffers[] | null;
  /** The partition's scratch for right-going rows, and its go-left table per bin (shared: a worker partitions too). */
  tmp: Int32Array;
  goLeft: Uint8Array;
  /** Per thread: the split scan kernel's argument and result slots (with the WebAssembly kernels only). */
  scanIo: Float64Array[] | null;
  /** The shared WebAssembly memory holding all of the above, when the WebAssembly kernel can run. */
  arena: SharedArena | null;
}

/**
 * Allocates the shared buffers the learner and the histogram workers use: in one shared WebAssembly memory (with
 * copies of the row-major and column-major bins and each thread's gathered gradients) when possible, so the
 * WebAssembly histogram kernels can address them, else in SharedArrayBuffers for the JavaScript kernel.
 */
export function allocateBuffers(
  numData: number,
  totalBins: number,
  numLeaves: number,
  binned: BinnedData,
  numFeatures: number,
  threads: number,
): LearnerBuffers {
  const { rowBins, binPos, cols } = binned;
  const nf = Math.max(1, numFeatures);
  const arena =
    histModule() === null
      ? null
      : SharedArena.create(
          SharedArena.size([
            rowBins.length,
            rowBins.length,
            4 * numData,
            4 * numData,
            4 * numData,
            4 * numData,
            65536,
            ...new Array<number>(numLeaves).fill(16 * totalBins),
            ...new Array<number>(threads).fill(16 * nf),
            ...new Array<number>(2 * threads).fill(4 * numData),
            ...new Array<number>(threads).fill(64),
            ...new Array<number>(threads).fill(8 * (SCAN_ARGS + SCAN_OUT)),
          ]),
        );
  if (arena !== null) {
    const rb = arena.u8(rowBins.length);
    rb.set(rowBins);
    const colBins = arena.u8(rowBins.length);
    binPos.forEach((p, f) => {
      if (p >= 0) colBins.set(cols[f]!, p * numData);
    });
    return {
      rowBins: rb,
      grad: arena.f32(numData),
      hess: arena.f32(numData),
      idx: arena.i32(numData),
      tmp: arena.i32(numData),
      goLeft: arena.u8(65536),
      slots: Array.from({ length: numLeaves }, () => arena.f64(2 * totalBins)),
      feats: Array.from({ length: threads }, () => arena.i32(4 * nf)),
      flags: sharedFlags(numLeaves, nf),
      columns: Array.from({ length: threads }, () => ({
        colBins,
        numData,
        og: arena.f32(numData),
        oh: arena.f32(numData),
        scratch: arena.i32(16),
      })),
      scanIo: Array.from({ length: threads }, () => arena.f64(SCAN_ARGS + SCAN_OUT)),
      arena,
    };
  }
  const f32 = (): Float32Array => new Float32Array(new SharedArrayBuffer(4 * numData));
  return {
    rowBins,
    grad: f32(),
    hess: f32(),
    idx: new Int32Array(new SharedArrayBuffer(4 * numData)),
    tmp: new Int32Array(new SharedArrayBuffer(4 * numData)),
    goLeft: new Uint8Array(new SharedArrayBuffer(65536)),
    slots: Array.from({ length: numLeaves }, () => new Float64Array(new SharedArrayBuffer(16 * totalBins))),
    feats: Array.from({ length: threads }, () => new Int32Array(new SharedArrayBuffer(16 * nf))),
    flags: sharedFlags(numLeaves, nf),
    columns: null,
    scanIo: null,
    arena: null,
  };
}

export function splitConfig(p: Params): SplitConfig {
  return {
    lambdaL1: p.lambda_l1,
    lambdaL2: p.lambda_l2,
    maxDeltaStep: p.max_delta_step,
    minDataInLeaf: p.min_data_in_leaf,
    minSumHessianInLeaf: p.min_sum_hessian_in_leaf,
    minGainToSplit: p.min_gain_to_split,
    catSmooth: p.cat_smooth,
    catL2: p.cat_l2,
    maxCatThreshold: p.max_cat_threshold,
    minDataPerGroup: p.min_data_per_group,
    maxCatToOnehot: p.max_cat_to_onehot,
  };
}

function sharedFlags(numLeaves: number, numFeatures: number): Uint8Array[] {
  return Array.from({ length: numLeaves }, () => new Uint8Array(new SharedArrayBuffer(numFeatures)));
}

export function featureLayout(ds: Dataset): {
  metas: (FeatureMeta | null)[];
  totalBins: number;
  numBins: Int32Array;
  offsets: Int32Array;
} {
  const mappers = ds.mappers!;
  let total = 0;
  const numBins = new Int32Array(mappers.length);
  const offsets = new Int32Array(mappers.length);
  const metas = mappers.map((m, f) => {
    if (m.isTrivial) return null;
    const meta: FeatureMeta = {
      numBin: m.numBin,
      missingType: m.missingType,
      defaultBin: m.defaultBin,
      mostFreqBin: m.mostFreqBin,
      isCategorical: m.isCategorical,
      offset: total,
    };
    numBins[f] = m.numBin;
    offsets[f] = total;
    total += m.numBin;
    return meta;
  });
  return { metas, totalBins: total, numBins, offsets };
}

function constructBitset(vals: number[]): number[] {
  const ret: number[] = [];
  for (const v of vals) {
    const i1 = Math.trunc(v / 32);
    while (ret.length < i1 + 1) ret.push(0);
    ret[i1] = (ret[i1] | (1 << (v % 32))) >>> 0;
  }
  return ret;
}

export class TreeLearner {
  readonly numData: number;
  readonly numLeavesMax: number;
  readonly leafBegin: Int32Array;
  readonly leafCnt: Int32Array;
  private readonly mappers: BinMapper[];
  private readonly binned: NonNullable<Dataset['binned']>;
  private readonly metas: (FeatureMeta | null)[];
  private readonly validFeatures: number[];
  private readonly cfg: SplitConfig;
  private readonly colRandom: LcgRandom | null;
  private readonly colCnt: number;
  private readonly usedByTree: Uint8Array;
  private readonly splittable: Uint8Array[];
  private readonly slotOf: Int32Array;
  private readonly featList: Int32Array;
  private best: SplitInfo[] = [];
  private sumG: Float64Array;
  private sumH: Float64Array;
  private leafOut: Float64Array;
  private readonly maxDepth: number;
  private readonly minDataInLeaf: number;
  private noLarger = new SplitInfo();
  /** The rows the last tree was grown on (the bag, or null for all rows) and how many. */
  private grownOn: Int32Array | null = null;
  private grownCnt = 0;
  /** Per row: its leaf in the last tree (only the rows it was grown on); as narrow as num_leaves allows. */
  private readonly leafOf: Uint8Array | Uint16Array | Int32Array;

  constructor(
    ds: Dataset,
    p: Params,
    private buf: LearnerBuffers,
    private pool: HistPool,
    metas: (FeatureMeta | null)[],
  ) {
    this.numData = ds.numData;
    this.numLeavesMax = p.num_leaves;
    this.mappers = ds.mappers!;
    this.binned = ds.binned!;
    this.metas = metas;
    this.validFeatures = metas.map((m, f) => (m ? f : -1)).filter((f) => f >= 0);
    this.cfg = splitConfig(p);
    this.maxDepth = p.max_depth;
    this.minDataInLeaf = p.min_data_in_leaf;
    const L = p.num_leaves;
    this.leafBegin = new Int32Array(L);
    this.leafCnt = new Int32Array(L);
    this.sumG = new Float64Array(L);
    this.sumH = new Float64Array(L);
    this.leafOut = new Float64Array(L);
    this.best = Array.from({ length: L }, () => new SplitInfo());
    this.splittable = buf.flags;
    this.slotOf = new Int32Array(L).fill(-1);
    this.featList = new Int32Array(metas.length);
    this.leafOf =
      L <= 256
        ? new Uint8Array(this.numData)
        : L <= 65536
          ? new Uint16Array(this.numData)
          : new Int32Array(this.numData);
    this.usedByTree = new Uint8Array(metas.length);
    const nValid = this.validFeatures.length;
    // ColSampler: GetCnt(n, f) = max(RoundInt(n*f), min(1, n)); one draw at Init, then one before every tree.
    this.colCnt = Math.max(Math.trunc(nValid * p.feature_fraction + 0.5), Math.min(1, nValid));
    if (p.feature_fraction < 1) {
      this.colRandom = new LcgRandom(p.feature_fraction_seed);
      this.sampleColumns();
    } else {
      this.colRandom = null;
      for (const f of this.validFeatures) this.usedByTree[f] = 1;
    }
  }

  private sampleColumns(): void {
    this.usedByTree.fill(0);
    const pick = this.colRandom!.sample(this.validFeatures.length, this.colCnt);
    for (const i of pick) this.usedByTree[this.validFeatures[i]] = 1;
  }

  /** Grows one tree on the current gradients. `bag` (sorted rows) restricts training to a bagging subset. */
  train(constHess: boolean, bag: Int32Array | null, bagCnt: number): Tree {
    const { grad, hess, idx } = this.buf;
    if (this.colRandom) this.sampleColumns();
    const tree = new Tree(this.numLeavesMax);
    const n = bag ? bagCnt : this.numData;
    this.grownOn = bag;
    this.grownCnt = n;
    if (bag) idx.set(bag.subarray(0, bagCnt));
    else for (let i = 0; i < n; i++) idx[i] = i;
    this.leafBegin[0] = 0;
    this.leafCnt[0] = n;
    let g0 = 0,
      h0 = 0;
    if (bag)
      for (let i = 0; i < n; i++) {
        g0 += grad[idx[i]];
        h0 += hess[idx[i]];
      }
    else
      for (let i = 0; i < n; i++) {
        g0 += grad[i];
        h0 += hess[i];
      }
    this.sumG[0] = g0;
    this.sumH[0] = h0;
    this.leafOut[0] = 0;
    for (const b of this.best) b.reset();
    this.slotOf.fill(-1);
    let nextSlot = 0;

    let leftLeaf = 0;
    let rightLeaf = -1;
    let rootWhole = !bag;
    for (let split = 0; split < this.numLeavesMax - 1; split++) {
      // BeforeFindBestSplit
      let doFind = true;
      if (this.maxDepth > 0 && tree.leafDepth[leftLeaf] >= this.maxDepth) doFind = false;
      const lc = this.leafCnt[leftLeaf];
      const rc = rightLeaf >= 0 ? this.leafCnt[rightLeaf] : 0;
      if (doFind && rc < 2 * this.minDataInLeaf && lc < 2 * this.minDataInLeaf) doFind = false;
      if (!doFind) {
        this.best[leftLeaf].reset();
        if (rightLeaf >= 0) this.best[rightLeaf].reset();
      } else if (rightLeaf < 0) {
        this.slotOf[0] = nextSlot++;
        this.findBestSplits(0, -1, -1, constHess, rootWhole, tree);
      } else {
        const parentSlot = this.slotOf[leftLeaf];
        let smaller: number, larger: number;
        // On a tie the right child counts as smaller (SerialTreeLearner::Split).
        if (lc < rc) {
          smaller = leftLeaf;
          larger = rightLeaf;
        } else {
          smaller = rightLeaf;
          larger = leftLeaf;
        }
        this.slotOf[larger] = parentSlot;
        this.slotOf[smaller] = nextSlot++;
        this.findBestSplits(smaller, larger, parentSlot, constHess, false, tree);
      }
      rootWhole = false;
      // ArgMax over leaves with SplitInfo's ordering: ties go to the lower leaf.
      let bestLeaf = 0;
      for (let l = 1; l < tree.numLeaves; l++) if (this.best[l].betterThan(this.best[bestLeaf])) bestLeaf = l;
      const info = this.best[bestLeaf];
      if (!(info.gain > 0)) break;
      rightLeaf = this.split(tree, bestLeaf, info);
      leftLeaf = bestLeaf;
    }
    return tree;
  }

  private findBestSplits(
    smaller: number,
    larger: number,
    parentSlot: number,
    constHess: boolean,
    rootWhole: boolean,
    tree: Tree,
  ): void {
    const smallSlot = this.slotOf[smaller];
    const smallFlags = this.splittable[smallSlot];
    const parentFlags = parentSlot >= 0 ? this.splittable[parentSlot] : null;
    let nf = 0;
    for (const f of this.validFeatures) {
      if (!this.usedByTree[f]) continue;
      if (parentFlags && !parentFlags[f]) {
        smallFlags[f] = 0;
        continue;
      }
      this.featList[nf++] = f;
    }
    const begin = this.leafBegin[smaller],
      cnt = this.leafCnt[smaller];
    const parentOutSmall =
      tree.numLeaves === 1
        ? leafOutput(this.sumG[smaller], this.sumH[smaller], this.cfg, this.cfg.lambdaL2)
        : this.leafOut[smaller];
    const st = this.pool.stats;
    st[0] = this.sumG[smaller];
    st[1] = this.sumH[smaller];
    st[2] = cnt;
    st[3] = parentOutSmall;
    if (larger >= 0) {
      st[4] = this.sumG[larger];
      st[5] = this.sumH[larger];
      st[6] = this.leafCnt[larger];
      st[7] = this.leafOut[larger];
    }
    const bestSmall = this.best[smaller];
    bestSmall.reset();
    if (larger >= 0) this.best[larger].reset();
    this.noLarger.reset();
    this.pool.build(this.featList, nf, begin, cnt, !rootWhole, smallSlot, constHess, {
      largeSlot: larger >= 0 ? this.slotOf[larger] : -1,
      bestSmall,
      bestLarge: larger >= 0 ? this.best[larger] : this.noLarger,
    });
  }

  /** Splits a leaf: partitions its rows stably and records the node. Returns the new (right) leaf id. */
  private split(tree: Tree, leaf: number, info: SplitInfo): number {
    const f = info.feature;
    const meta = this.metas[f]!;
    const mapper = this.mappers[f];
    const bin = this.binned.cols[f]!;
    const { idx, tmp, goLeft } = this.buf;
    const begin = this.leafBegin[leaf],
      cnt = this.leafCnt[leaf],
      end = begin + cnt;
    // Which bins go left, as data: the partition is then branch-free.
    if (meta.isCategorical) {
      goLeft.fill(0, 0, meta.numBin);
      for (const b of info.catBins) goLeft[b] = 1;
    } else {
      const th = info.threshold;
      const missBin =
        meta.missingType === MISSING_NAN ? meta.numBin - 1 : meta.missingType === MISSING_ZERO ? meta.defaultBin : -1;
      for (let b = 0; b < meta.numBin; b++) goLeft[b] = (b === missBin ? info.defaultLeft : b <= th) ? 1 : 0;
    }
    let l: number, r: number;
    const pos = this.binned.binPos[f];
    if (cnt >= PARALLEL_PARTITION && pos >= 0 && this.pool.startPartition(pos, begin + (cnt >> 1), end, cnt >> 1)) {
      // The worker partitions the second half (its rights go to tmp after the first half's room); the halves are
      // then concatenated lefts first, so the order is the serial partition's.
      const mid = begin + (cnt >> 1);
      const l1 = this.pool.partition(pos, bin, begin, mid, 0);
      const l2 = this.pool.finishPartition();
      const r1 = mid - begin - l1,
        r2 = end - mid - l2;
      idx.copyWithin(begin + l1, mid, mid + l2);
      idx.set(tmp.subarray(0, r1), begin + l1 + l2);
      idx.set(tmp.subarray(mid - begin, mid - begin + r2), begin + l1 + l2 + r1);
      l = begin + l1 + l2;
      r = r1 + r2;
    } else {
      l = begin + this.pool.partition(pos, bin, begin, end, 0);
      r = cnt - (l - begin);
      idx.set(tmp.subarray(0, r), l);
    }
    const leftCnt = l - begin,
      rightCnt = r;
    const right = tree.numLeaves;
    this.leafBegin[right] = l;
    this.leafCnt[right] = rightCnt;
    this.leafCnt[leaf] = leftCnt;
    if (meta.isCategorical) {
      const cats = info.catBins.map((b) => mapper.bin2cat[b]);
      tree.splitCategorical(
        leaf,
        f,
        constructBitset(info.catBins),
        constructBitset(cats),
        info.leftOutput,
        info.rightOutput,
        leftCnt,
        rightCnt,
        info.leftSumH,
        info.rightSumH,
        info.gain,
        meta.missingType,
      );
    } else {
      tree.splitNumerical(
        leaf,
        f,
        info.threshold,
        mapper.upperBounds[info.threshold],
        info.leftOutput,
        info.rightOutput,
        leftCnt,
        rightCnt,
        info.leftSumH,
        info.rightSumH,
        info.gain,
        meta.missingType,
        info.defaultLeft,
      );
    }
    this.sumG[leaf] = info.leftSumG;
    this.sumH[leaf] = info.leftSumH;
    this.leafOut[leaf] = info.leftOutput;
    this.sumG[right] = info.rightSumG;
    this.sumH[right] = info.rightSumH;
    this.leafOut[right] = info.rightOutput;
    return right;
  }

  /**
   * score[row] += the last tree's output for the rows it was grown on. Leaf by leaf those rows are scattered over
   * the whole score array (a cache miss each), so each row's leaf goes to a small per-row array first and the
   * scores are then updated in row order. Every row gets the same single addition either way.
   */
  addInBag(tree: Tree, score: Float64Array): void {
    const { idx } = this.buf;
    const leafOf = this.leafOf,
      lv = tree.leafValue;
    for (let l = 0; l < tree.numLeaves; l++) {
      const begin = this.leafBegin[l],
        end = begin + this.leafCnt[l];
      for (let i = begin; i < end; i++) leafOf[idx[i]] = l;
    }
    const rows = this.grownOn,
      n = this.grownCnt;
    if (rows) {
      for (let k = 0; k < n; k++) {
        const r = rows[k];
        score[r] += lv[leafOf[r]];
      }
    } else {
      for (let r = 0; r < n; r++) score[r] += lv[leafOf[r]];
    }
  }

  /** score[row] += the tree's output for the out-of-bag rows[0..cnt), routed in bin space. */
  addOutOfBag(tree: Tree, rows: Int32Array, cnt: number, score: Float64Array): void {
    addTreeOutput(tree, this.metas, { ...this.binned, rowBins: this.buf.rowBins }, rows, cnt, score);
  }
}
