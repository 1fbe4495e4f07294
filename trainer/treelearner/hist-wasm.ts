// The histogram kernels as WebAssembly, assembled here from a few opcodes (no toolchain, no binary blob), and the
// shared memory they work in. They compute exactly what buildRowwise (hist-kernel.ts) computes, in the same order
// per bin (f32 gradients promoted to f64, summed row by row), so models do not change; the row kernel beats
// JavaScript because V8 re-checks typed arrays after every store while WebAssembly addresses memory directly.
//
// Two kernels, as LightGBM has row-wise and col-wise histograms. The row kernel reads each row of the leaf once
// (one cache line however scattered the rows are) and updates every feature's histogram; the column kernel first
// gathers the leaf's gradients in row order, then runs one feature at a time down a column-major copy of the bins,
// so the feature's histogram stays in L1. On a dense leaf the column kernel is faster per bin increment; on a
// sparse one every column read misses the cache and the row kernel wins. buildHistWasm picks by the leaf's share
// of the rows.
//
// All buffers the kernel touches (row-major bins, gradients, hessians, row indices, histogram slots and each
// thread's feature lists) live in one shared WebAssembly.Memory, so the worker threads run the same module on the
// same memory. Arguments are byte addresses in that memory.

import {
  add,
  addF64,
  F64,
  f64,
  geS,
  geU,
  get,
  gtS,
  I32,
  i32,
  inc,
  load,
  loadF32AsF64,
  loadF64,
  loadU8,
  loopUntil,
  mul,
  set,
  shl,
  shrU,
  store,
  storeF64,
  sub,
  wasmModule,
  type Code,
} from '../wasm/wasm-asm.ts';
import { partitionRows } from './hist-kernel.ts';

// The row kernel's parameters, then locals. A kernel is generated per (indices, hessians) pair so that its inner
// loop tests neither.
const P = {
  rb: 0,
  stride: 1,
  pos: 2,
  off: 3,
  nf: 4,
  idx: 5,
  begin: 6,
  cnt: 7,
  grad: 8,
  hess: 9,
  hist: 10,
};
const NPARAM = 11;
const ROWS = 8;
const L = { i: 11, end: 12, k: 13, p: 14, o: 15, kk: 16, b: 17 };
const rowL = (r: number): number => 18 + 2 * r;
const baseL = (r: number): number => 19 + 2 * r;
const NI32 = 7 + 2 * ROWS;
const gL = (r: number): number => NPARAM + NI32 + 2 * r;
const hL = (r: number): number => NPARAM + NI32 + 2 * r + 1;

/** How a kernel is specialised: rows through idx or begin.., summed hessians or counted rows. */
interface Variant {
  useIdx: boolean;
  hess: boolean;
}

/** Adds (g, h) to the histogram pair at byte address `at` (a local). */
const addPair = (at: number, g: Code, h: Code): Code => [
  ...storeF64(get(at), addF64(loadF64(get(at)), g)),
  ...storeF64(get(at), addF64(loadF64(get(at), 8), h), 8),
];

/** One pass over `rows` rows starting at row i: load each row, then every feature updates all of them. */
function rowGroup(rows: number, v: Variant): Code {
  const code: Code = [];
  for (let r = 0; r < rows; r++) {
    const at = add(get(L.i), i32(r));
    code.push(...set(rowL(r), v.useIdx ? load(add(get(P.idx), shl(at, 2))) : at));
    code.push(...set(gL(r), loadF32AsF64(add(get(P.grad), shl(get(rowL(r)), 2)))));
    if (v.hess) code.push(...set(hL(r), loadF32AsF64(add(get(P.hess), shl(get(rowL(r)), 2)))));
    code.push(...set(baseL(r), add(get(P.rb), mul(get(rowL(r)), get(P.stride)))));
  }
  const feature: Code = [
    ...set(L.kk, shl(get(L.k), 2)),
    ...set(L.p, load(add(get(P.pos), get(L.kk)))),
    ...set(L.o, add(get(P.hist), shl(load(add(get(P.off), get(L.kk))), 4))),
  ];
  for (let r = 0; r < rows; r++) {
    feature.push(...set(L.b, add(get(L.o), shl(loadU8(add(get(baseL(r)), get(L.p))), 4))));
    feature.push(...addPair(L.b, get(gL(r)), v.hess ? get(hL(r)) : f64(1)));
  }
  feature.push(...set(L.k, add(get(L.k), i32(1))));
  code.push(...set(L.k, i32(0)), ...loopUntil(geU(get(L.k), get(P.nf)), feature));
  code.push(...set(L.i, add(get(L.i), i32(rows))));
  return code;
}

function rowBody(v: Variant): Code {
  return [
    ...set(L.i, get(P.begin)),
    ...set(L.end, add(get(P.begin), get(P.cnt))),
    ...loopUntil(gtS(add(get(L.i), i32(ROWS)), get(L.end)), rowGroup(ROWS, v)),
    ...loopUntil(geS(get(L.i), get(L.end)), rowGroup(1, v)),
    0x0b,
  ];
}

// The column kernel's parameters, then locals.
const C = {
  cb: 0,
  n: 1,
  pos: 2,
  off: 3,
  nf: 4,
  idx: 5,
  begin: 6,
  cnt: 7,
  grad: 8,
  hess: 9,
  og: 10,
  oh: 11,
  hist: 12,
};
const CPARAM = 13;
/** Rows per step of the column kernel's loop (each step pays V8's loop stack check once). */
const COL_UNROLL = 4;
const CL = { k: 13, kk: 14, p: 15, ph: 16, pi: 17, end: 18, row: 19, src: 20, srcH: 21, col: 22, hist: 23, a: 24 };
const CI32 = 12;

/** The bin increments of leaf position `r` rows after the step's pointers, for the current feature. */
function columnStep(r: number, v: Variant): Code {
  const bin = v.useIdx ? loadU8(add(get(CL.col), load(get(CL.pi), 4 * r))) : loadU8(get(CL.col), r);
  return [
    ...set(CL.a, add(get(CL.hist), shl(bin, 4))),
    ...addPair(CL.a, loadF32AsF64(get(CL.p), 4 * r), v.hess ? loadF32AsF64(get(CL.ph), 4 * r) : f64(1)),
  ];
}

/** Advances the step's pointers by `rows` leaf positions. */
function columnAdvance(rows: number, v: Variant): Code {
  return [
    ...inc(CL.p, 4 * rows),
    ...(v.hess ? inc(CL.ph, 4 * rows) : []),
    ...(v.useIdx ? inc(CL.pi, 4 * rows) : inc(CL.col, rows)),
  ];
}

/** One pass down the leaf for feature k: each row's gradient (and hessian) added to its bin in the column. */
function columnFeature(v: Variant): Code {
  const unrolled: Code = [];
  for (let r = 0; r < COL_UNROLL; r++) unrolled.push(...columnStep(r, v));
  unrolled.push(...columnAdvance(COL_UNROLL, v));
  const col = add(get(C.cb), mul(load(add(get(C.pos), get(CL.kk))), get(C.n)));
  return [
    ...set(CL.kk, shl(get(CL.k), 2)),
    // Without indices the leaf is rows begin.., so the column is read from the leaf's first row on.
    ...set(CL.col, v.useIdx ? col : add(col, get(C.begin))),
    ...set(CL.hist, add(get(C.hist), shl(load(add(get(C.off), get(CL.kk))), 4))),
    ...set(CL.p, get(CL.src)),
    ...set(CL.ph, get(CL.srcH)),
    ...set(CL.pi, add(get(C.idx), shl(get(C.begin), 2))),
    ...loopUntil(gtS(add(get(CL.p), i32(4 * COL_UNROLL)), get(CL.end)), unrolled),
    ...loopUntil(geU(get(CL.p), get(CL.end)), [...columnStep(0, v), ...columnAdvance(1, v)]),
    ...inc(CL.k, 1),
  ];
}

/**
 * The column kernel: with indices it first gathers the leaf's gradients (and hessians) in row order, as float32
 * bit copies; without, the leaf's rows are contiguous and read in place. Then one feature at a time, so its
 * histogram stays in L1.
 */
function columnBody(v: Variant): Code {
  const code: Code = [];
  if (v.useIdx) {
    const gather: Code = [
      ...set(CL.row, shl(load(get(CL.pi)), 2)),
      ...store(get(CL.p), load(add(get(C.grad), get(CL.row)))),
      ...(v.hess ? store(get(CL.ph), load(add(get(C.hess), get(CL.row)))) : []),
      ...inc(CL.p, 4),
      ...(v.hess ? inc(CL.ph, 4) : []),
      ...inc(CL.pi, 4),
    ];
    code.push(
      ...set(CL.pi, add(get(C.idx), shl(get(C.begin), 2))),
      ...set(CL.p, get(C.og)),
      ...set(CL.ph, get(C.oh)),
      ...set(CL.end, add(get(C.og), shl(get(C.cnt), 2))),
      ...loopUntil(geU(get(CL.p), get(CL.end)), gather),
      ...set(CL.src, get(C.og)),
      ...set(CL.srcH, get(C.oh)),
    );
  } else {
    code.push(
      ...set(CL.src, add(get(C.grad), shl(get(C.begin), 2))),
      ...set(CL.srcH, add(get(C.hess), shl(get(C.begin), 2))),
    );
  }
  code.push(
    ...set(CL.end, add(get(CL.src), shl(get(C.cnt), 2))),
    ...set(CL.k, i32(0)),
    ...loopUntil(geS(get(CL.k), get(C.nf)), columnFeature(v)),
    0x0b,
  );
  return code;
}

// The stable partition's parameters (partitionRows in hist-kernel.ts), then locals.
const Q = { idx: 0, tmp: 1, bin: 2, goLeft: 3, from: 4, to: 5, tmpStart: 6, out: 7 };
const QPARAM = 8;
const QL = { p: 8, end: 9, l: 10, r: 11, row: 12, g: 13 };

/**
 * partitionRows as WebAssembly: rows whose bin goLeft marks stay in idx from `from` on, the others go to tmp
 * from `tmpStart` on, both in order, branch-free; the left count is stored at `out`.
 */
function partitionBody(): Code {
  const step: Code = [
    ...set(QL.row, load(get(QL.p))),
    ...set(QL.g, loadU8(add(get(Q.goLeft), loadU8(add(get(Q.bin), get(QL.row)))))),
    ...store(get(QL.l), get(QL.row)),
    ...store(get(QL.r), get(QL.row)),
    ...set(QL.l, add(get(QL.l), shl(get(QL.g), 2))),
    ...set(QL.r, add(get(QL.r), sub(i32(4), shl(get(QL.g), 2)))),
    ...inc(QL.p, 4),
  ];
  return [
    ...set(QL.p, add(get(Q.idx), shl(get(Q.from), 2))),
    ...set(QL.end, add(get(Q.idx), shl(get(Q.to), 2))),
    ...set(QL.l, get(QL.p)),
    ...set(QL.r, add(get(Q.tmp), shl(get(Q.tmpStart), 2))),
    ...loopUntil(geU(get(QL.p), get(QL.end)), step),
    ...store(get(Q.out), shrU(sub(get(QL.l), add(get(Q.idx), shl(get(Q.from), 2))), i32(2))),
    0x0b,
  ];
}

const VARIANTS: Variant[] = [
  { useIdx: false, hess: false },
  { useIdx: false, hess: true },
  { useIdx: true, hess: false },
  { useIdx: true, hess: true },
];
const variantIndex = (useIdx: boolean, hess: boolean): number => (useIdx ? 2 : 0) + (hess ? 1 : 0);

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return wasmModule([
    { name: 'partition', params: QPARAM, locals: [[6, I32]], body: partitionBody() },
    ...VARIANTS.flatMap((v, i) => [
      {
        name: `rows${i}`,
        params: NPARAM,
        locals: [
          [NI32, I32],
          [2 * ROWS, F64],
        ] as [number, number][],
        body: rowBody(v),
      },
      {
        name: `cols${i}`,
        params: CPARAM,
        locals: [[CI32, I32]] as [number, number][],
        body: columnBody(v),
      },
    ]),
  ]);
}

export type HistFn = (
  rb: number,
  stride: number,
  pos: number,
  off: number,
  nf: number,
  idx: number,
  begin: number,
  cnt: number,
  grad: number,
  hess: number,
  hist: number,
) => void;
export type ColumnFn = (
  cb: number,
  n: number,
  pos: number,
  off: number,
  nf: number,
  idx: number,
  begin: number,
  cnt: number,
  grad: number,
  hess: number,
  og: number,
  oh: number,
  hist: number,
) => void;

export type PartitionFn = (
  idx: number,
  tmp: number,
  bin: number,
  goLeft: number,
  from: number,
  to: number,
  tmpStart: number,
  out: number,
) => void;

/** The kernels of one instance (one per thread, all on the same memory), the histograms' by variantIndex. */
export interface HistKernels {
  rows: HistFn[];
  cols: ColumnFn[];
  partition: PartitionFn;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernels' module, or null where WebAssembly (threads) is unavailable. */
export function histModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export function instantiateHist(module: WebAssembly.Module, memory: WebAssembly.Memory): HistKernels {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  return {
    rows: VARIANTS.map((_, i) => exports[`rows${i}`] as HistFn),
    cols: VARIANTS.map((_, i) => exports[`cols${i}`] as ColumnFn),
    partition: exports.partition as PartitionFn,
  };
}

/** Bump allocator over one shared WebAssembly.Memory sized up front (it never grows, so views stay valid). */
export class SharedArena {
  readonly memory: WebAssembly.Memory;
  private top = 64; // address 0 means "no hessians" to the kernel

  private constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
  }

  /** An arena for `bytes` bytes of 64-byte aligned allocations, or null when the memory cannot be had. */
  static create(bytes: number): SharedArena | null {
    const pages = Math.ceil((bytes + 64) / 65536);
    if (pages > 32768) return null; // stay under 2 GB: addresses are signed i32 in places
    try {
      return new SharedArena(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }));
    } catch {
      return null;
    }
  }

  /** Bytes a list of allocations takes with the arena's alignment. */
  static size(sizes: number[]): number {
    return sizes.reduce((s, n) => s + Math.ceil(n / 64) * 64, 0);
  }

  private take(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(bytes / 64) * 64;
    return at;
  }

  u8(n: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, this.take(n), n);
  }
  i32(n: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.take(4 * n), n);
  }
  f32(n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.take(4 * n), n);
  }
  f64(n: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.take(8 * n), n);
  }
}

/** What the column kernel needs besides the row kernel's buffers, all in the kernels' memory. */
export interface ColumnBuffers {
  /** Column-major copy of the row-major bins: byte position p of row r at p * numData + r. */
  colBins: Uint8Array;
  numData: number;
  /** This thread's gathered gradients and hessians (numData each). */
  og: Float32Array;
  oh: Float32Array;
  /** Where the partition kernel leaves its result. */
  scratch: Int32Array;
}

/** A leaf with at least 1/COLUMN_SHARE of the rows is built column by column (dense enough, see above). */
const COLUMN_SHARE = 25;

/** Whether buildHistWasm builds a leaf of `cnt` rows out of `numData` with the column kernel. */
export const usesColumns = (cnt: number, numData: number): boolean => cnt * COLUMN_SHARE >= numData;

/**
 * buildRowwise's contract (hist-kernel.ts) on the WebAssembly kernels: every array must be a view into the memory
 * the kernels were instantiated with. With `columns`, a dense leaf goes through the column kernel.
 */
export function buildHistWasm(
  k: HistKernels,
  rowBins: Uint8Array,
  stride: number,
  pos: Int32Array,
  off: Int32Array,
  len: Int32Array,
  nf: number,
  idx: Int32Array | null,
  begin: number,
  cnt: number,
  grad: Float32Array,
  hess: Float32Array | null,
  hist: Float64Array,
  columns: ColumnBuffers | null,
): void {
  for (let f = 0; f < nf; f++) {
    hist.fill(0, 2 * off[f], 2 * (off[f] + len[f]));
  }
  if (nf === 0 || cnt <= 0) return;
  const idxAt = idx === null ? 0 : idx.byteOffset,
    hessAt = hess === null ? 0 : hess.byteOffset;
  const v = variantIndex(idx !== null, hess !== null);
  if (columns !== null && usesColumns(cnt, columns.numData)) {
    k.cols[v](
      columns.colBins.byteOffset,
      columns.numData,
      pos.byteOffset,
      off.byteOffset,
      nf,
      idxAt,
      begin,
      cnt,
      grad.byteOffset,
      hessAt,
      columns.og.byteOffset,
      columns.oh.byteOffset,
      hist.byteOffset,
    );
  } else {
    k.rows[v](
      rowBins.byteOffset,
      stride,
      pos.byteOffset,
      off.byteOffset,
      nf,
      idxAt,
      begin,
      cnt,
      grad.byteOffset,
      hessAt,
      hist.byteOffset,
    );
  }
}

/**
 * partitionRows (hist-kernel.ts) on the WebAssembly kernel: idx, tmp, bin (a column of the column-major bins),
 * goLeft and out (one Int32 of scratch for the result) must be views into the kernel's memory.
 */
export function partitionWasm(
  k: HistKernels,
  idx: Int32Array,
  tmp: Int32Array,
  bin: Uint8Array,
  goLeft: Uint8Array,
  from: number,
  to: number,
  tmpStart: number,
  out: Int32Array,
): number {
  k.partition(idx.byteOffset, tmp.byteOffset, bin.byteOffset, goLeft.byteOffset, from, to, tmpStart, out.byteOffset);
  return out[0];
}

/**
 * The stable partition of idx[from, to) by the feature at byte position `pos` of a row, read from the
 * column-major bins: on the kernel when there is one, else partitionRows. Returns the left count.
 */
export function partitionColumn(
  k: HistKernels | null,
  cols: ColumnBuffers,
  pos: number,
  idx: Int32Array,
  tmp: Int32Array,
  goLeft: Uint8Array,
  from: number,
  to: number,
  tmpStart: number,
): number {
  const bin = cols.colBins.subarray(pos * cols.numData, (pos + 1) * cols.numData);
  return k
    ? partitionWasm(k, idx, tmp, bin, goLeft, from, to, tmpStart, cols.scratch)
    : partitionRows(idx, tmp, bin, goLeft, from, to, tmpStart);
}
