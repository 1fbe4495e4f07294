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
  ifElse,
  load,
  loadF32AsF64,
  loadF64,
  loadU8,
  loopUntil,
  mul,
  set,
  shl,
  storeF64,
  VOID,
  wasmModule,
  type Code,
} from '../wasm/wasm-asm.ts';

// Parameters, then locals.
const P = {
  rb: 0,
  stride: 1,
  pos: 2,
  off: 3,
  nf: 4,
  idx: 5,
  useIdx: 6,
  begin: 7,
  cnt: 8,
  grad: 9,
  hess: 10,
  hg: 11,
  hh: 12,
};
const NPARAM = 13;
const ROWS = 8;
const L = { i: 13, end: 14, k: 15, p: 16, o: 17, kk: 18, b: 19 };
const rowL = (r: number): number => 20 + 2 * r;
const baseL = (r: number): number => 21 + 2 * r;
const NI32 = 7 + 2 * ROWS;
const gL = (r: number): number => NPARAM + NI32 + 2 * r;
const hL = (r: number): number => NPARAM + NI32 + 2 * r + 1;

/** One pass over `rows` rows starting at row i: load each row, then every feature updates all of them. */
function rowGroup(rows: number): Code {
  const code: Code = [];
  for (let r = 0; r < rows; r++) {
    const at = add(get(L.i), i32(r));
    code.push(...set(rowL(r), ifElse(I32, get(P.useIdx), load(add(get(P.idx), shl(at, 2))), at)));
    code.push(...set(gL(r), loadF32AsF64(add(get(P.grad), shl(get(rowL(r)), 2)))));
    code.push(...set(hL(r), ifElse(F64, get(P.hess), loadF32AsF64(add(get(P.hess), shl(get(rowL(r)), 2))), f64(1))));
    code.push(...set(baseL(r), add(get(P.rb), mul(get(rowL(r)), get(P.stride)))));
  }
  const feature: Code = [
    ...set(L.kk, shl(get(L.k), 2)),
    ...set(L.p, load(add(get(P.pos), get(L.kk)))),
    ...set(L.o, load(add(get(P.off), get(L.kk)))),
  ];
  for (let r = 0; r < rows; r++) {
    feature.push(...set(L.b, shl(add(get(L.o), loadU8(add(get(baseL(r)), get(L.p)))), 3)));
    const hg = add(get(P.hg), get(L.b)),
      hh = add(get(P.hh), get(L.b));
    feature.push(...storeF64(hg, addF64(loadF64(hg), get(gL(r)))));
    feature.push(...storeF64(hh, addF64(loadF64(hh), get(hL(r)))));
  }
  feature.push(...set(L.k, add(get(L.k), i32(1))));
  code.push(...set(L.k, i32(0)), ...loopUntil(geU(get(L.k), get(P.nf)), feature));
  code.push(...set(L.i, add(get(L.i), i32(rows))));
  return code;
}

// The column kernel's parameters, then locals (all i32).
const C = {
  cb: 0,
  n: 1,
  pos: 2,
  off: 3,
  nf: 4,
  idx: 5,
  useIdx: 6,
  begin: 7,
  cnt: 8,
  grad: 9,
  hess: 10,
  og: 11,
  oh: 12,
  hg: 13,
  hh: 14,
};
const CPARAM = 15;
const CL = { i: 15, k: 16, kk: 17, col: 18, o: 19, b: 20, r: 21, at: 22 };
const CI32 = 8;
const COL_UNROLL = 4;

/** The row of leaf position `at` (a local): idx[begin + at], or begin + at over all rows. */
const leafRow = (at: number): Code =>
  ifElse(I32, get(C.useIdx), load(add(get(C.idx), shl(add(get(C.begin), get(at)), 2))), add(get(C.begin), get(at)));

/** One bin increment of the current feature for leaf position i + r, from the gathered gradients. */
function columnStep(r: number): Code {
  const hg = add(get(C.hg), get(CL.b)),
    hh = add(get(C.hh), get(CL.b));
  return [
    ...set(CL.at, add(get(CL.i), i32(r))),
    ...set(CL.b, shl(add(get(CL.o), loadU8(add(get(CL.col), leafRow(CL.at)))), 3)),
    ...storeF64(hg, addF64(loadF64(hg), loadF64(add(get(C.og), shl(get(CL.at), 3))))),
    ...storeF64(hh, addF64(loadF64(hh), ifElse(F64, get(C.hess), loadF64(add(get(C.oh), shl(get(CL.at), 3))), f64(1)))),
  ];
}

/** Gathers the leaf's gradients (and hessians) in row order, then builds one feature's histogram at a time. */
function columnBody(): Code {
  const gather: Code = [
    ...set(CL.r, leafRow(CL.i)),
    ...storeF64(add(get(C.og), shl(get(CL.i), 3)), loadF32AsF64(add(get(C.grad), shl(get(CL.r), 2)))),
    ...ifElse(
      VOID,
      get(C.hess),
      storeF64(add(get(C.oh), shl(get(CL.i), 3)), loadF32AsF64(add(get(C.hess), shl(get(CL.r), 2)))),
      [],
    ),
    ...set(CL.i, add(get(CL.i), i32(1))),
  ];
  const unrolled: Code = [];
  for (let r = 0; r < COL_UNROLL; r++) unrolled.push(...columnStep(r));
  unrolled.push(...set(CL.i, add(get(CL.i), i32(COL_UNROLL))));
  const feature: Code = [
    ...set(CL.kk, shl(get(CL.k), 2)),
    ...set(CL.col, add(get(C.cb), mul(load(add(get(C.pos), get(CL.kk))), get(C.n)))),
    ...set(CL.o, load(add(get(C.off), get(CL.kk)))),
    ...set(CL.i, i32(0)),
    ...loopUntil(gtS(add(get(CL.i), i32(COL_UNROLL)), get(C.cnt)), unrolled),
    ...loopUntil(geS(get(CL.i), get(C.cnt)), [...columnStep(0), ...set(CL.i, add(get(CL.i), i32(1)))]),
    ...set(CL.k, add(get(CL.k), i32(1))),
  ];
  return [
    ...set(CL.i, i32(0)),
    ...loopUntil(geS(get(CL.i), get(C.cnt)), gather),
    ...set(CL.k, i32(0)),
    ...loopUntil(geU(get(CL.k), get(C.nf)), feature),
    0x0b,
  ];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const rowBody: Code = [
    ...set(L.i, get(P.begin)),
    ...set(L.end, add(get(P.begin), get(P.cnt))),
    ...loopUntil(gtS(add(get(L.i), i32(ROWS)), get(L.end)), rowGroup(ROWS)),
    ...loopUntil(geS(get(L.i), get(L.end)), rowGroup(1)),
    0x0b,
  ];
  return wasmModule([
    {
      name: 'hist',
      params: NPARAM,
      locals: [
        [NI32, I32],
        [2 * ROWS, F64],
      ],
      body: rowBody,
    },
    { name: 'cols', params: CPARAM, locals: [[CI32, I32]], body: columnBody() },
  ]);
}

export type HistFn = (
  rb: number,
  stride: number,
  pos: number,
  off: number,
  nf: number,
  idx: number,
  useIdx: number,
  begin: number,
  cnt: number,
  grad: number,
  hess: number,
  hg: number,
  hh: number,
) => void;
export type ColumnFn = (
  cb: number,
  n: number,
  pos: number,
  off: number,
  nf: number,
  idx: number,
  useIdx: number,
  begin: number,
  cnt: number,
  grad: number,
  hess: number,
  og: number,
  oh: number,
  hg: number,
  hh: number,
) => void;

/** The two kernels of one instance (one per thread, all on the same memory). */
export interface HistKernels {
  rows: HistFn;
  cols: ColumnFn;
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
  return { rows: exports.hist as HistFn, cols: exports.cols as ColumnFn };
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
  og: Float64Array;
  oh: Float64Array;
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
  hg: Float64Array,
  hh: Float64Array,
  columns: ColumnBuffers | null,
): void {
  for (let f = 0; f < nf; f++) {
    hg.fill(0, off[f], off[f] + len[f]);
    hh.fill(0, off[f], off[f] + len[f]);
  }
  if (nf === 0 || cnt <= 0) return;
  const idxAt = idx === null ? 0 : idx.byteOffset,
    useIdx = idx === null ? 0 : 1,
    hessAt = hess === null ? 0 : hess.byteOffset;
  if (columns !== null && usesColumns(cnt, columns.numData)) {
    k.cols(
      columns.colBins.byteOffset,
      columns.numData,
      pos.byteOffset,
      off.byteOffset,
      nf,
      idxAt,
      useIdx,
      begin,
      cnt,
      grad.byteOffset,
      hessAt,
      columns.og.byteOffset,
      columns.oh.byteOffset,
      hg.byteOffset,
      hh.byteOffset,
    );
  } else {
    k.rows(
      rowBins.byteOffset,
      stride,
      pos.byteOffset,
      off.byteOffset,
      nf,
      idxAt,
      useIdx,
      begin,
      cnt,
      grad.byteOffset,
      hessAt,
      hg.byteOffset,
      hh.byteOffset,
    );
  }
}
