// The prediction kernel as WebAssembly, assembled here from opcodes as hist-wasm.ts assembles the histogram
// kernels (no toolchain, no binary blob). It walks the model predict-kernel.ts compiles into a shared
// WebAssembly.Memory; the calling thread and the workers (predict-pool.ts) run the same module on that memory.
// It is WebAssembly because WebAssembly addresses the memory directly where V8's JavaScript re-checks every typed
// array access.
//
// One call takes blocks of PREDICT_BLOCK rows from a counter shared by the threads (an atomic add) until the
// chunk is done. Each block is first encoded, feature by feature, into u16 codes (a numerical value: the number
// of the feature's bounds below it, by a branch-free binary search over its bounds padded to 2^k - 1, four rows
// at a time; a categorical one: its integer value, or the "other" code). The codes of ROWS consecutive rows are
// stored feature by feature, ROWS codes side by side, so that a node's feature offset plus 2k addresses row k's
// code: the ROWS rows walked together share one base address (cheaper than a base address per row).
//
// Then every tree in order walks the block, ROWS rows interleaved so that the CPU overlaps their independent
// load chains. A node is a 16-byte record: [its feature's code offset, address of its go-right bitset, address
// of its left child's record, unused]; the right child's record follows the left one, so a step is
//
//   node = left + 16 * (bitset[code >> 5] >>> code & 1)
//
// with no load after the bitset's (bitsets, a bit per code rather than a byte, keep the model's tables in L2). A
// leaf's record points to itself with an all-zero bitset, so a row that reached its leaf stays there while the
// others go on; the rows stop when every row's node is its own left child. The first steps, as many as the tree's
// shallowest leaf is deep, run without that check, since no row can have reached a leaf before them. A leaf's
// value is the f64 at (record >> 1) + valueOffset, added to the row's output slot, so each row sums its trees in
// tree order.

import {
  add,
  and,
  atomicAdd,
  eq,
  eqF64,
  eqz,
  F64,
  geS,
  geU,
  get,
  gtS,
  I32,
  i32,
  ifThen,
  inc,
  load,
  load16,
  loadF64,
  loopUntil,
  ltF64,
  ltU,
  mul,
  neF64,
  or,
  select,
  set,
  shl,
  shrU,
  store16,
  storeF64,
  sub,
  truncSat,
  wasmModule,
  addF64,
  type Code,
} from '../wasm/wasm-asm.ts';

/** Rows per block: a block's codes (128 x 50 x 2 bytes) and the tree being walked stay in L1. */
export const PREDICT_BLOCK = 128;
/** Rows a thread takes from the shared counter at a time. */
const GRAB = 8 * PREDICT_BLOCK;
/** Rows walked together through a tree: the count measured fastest, fewer and more both slower. */
const ROWS = 8;
/** Rows whose binary searches run together. */
const ENCODE_ROWS = 4;

export const NODE_BYTES = 16;
/** Per feature: [kind (0 unused, 1 numerical, 2 categorical), bounds address, top step in bytes, code count]. */
export const FEATURE_BYTES = 16;
/** Per tree: [root record address, depth of its shallowest leaf]. */
export const TREE_BYTES = 8;
/** Where feature f's code of the first of ROWS rows sits from their base address (see rowCodes). */
export const codeOffset = (f: number): number => 2 * ROWS * f;

// Parameters (all i32 byte addresses or counts), then locals.
const P = {
  trees: 0,
  numTrees: 1,
  feats: 2,
  numFeatures: 3,
  valueOffset: 4,
  input: 5,
  rows: 6,
  out: 7,
  codes: 8,
  counter: 9,
};
const NPARAM = 10;
const L = {
  lo: 10,
  hi: 11,
  st: 12,
  len: 13,
  t: 14,
  root: 15,
  r: 16,
  f: 17,
  rec: 18,
  col: 19,
  dst: 20,
  cnt: 21,
  base: 22,
  step: 23,
  stride: 24,
  code: 25,
  codesAt: 26,
  depth: 27,
};
const NAMED = 18;
const nodeL = (k: number): number => NPARAM + NAMED + k;
const leftL = (k: number): number => NPARAM + NAMED + ROWS + k;
/** A row's search position while encoding. */
const posL = (k: number): number => NPARAM + NAMED + 2 * ROWS + k;
const NI32 = NAMED + 2 * ROWS + ENCODE_ROWS;
const xL = (k: number): number => NPARAM + NI32 + k;
const NF64 = ENCODE_ROWS;

/** Base address of row r's codes in the block: row r & (ROWS - 1) of a group of ROWS rows. */
const rowCodes = (r: Code): Code =>
  add(add(get(P.codes), mul(shrU(r, i32(Math.log2(ROWS))), get(L.stride))), shl(and(r, i32(ROWS - 1)), i32(1)));
/** Address of the code slot of row (r + k) of the block for the current feature. */
const codeAt = (k: number): Code => add(rowCodes(add(get(L.r), i32(k))), get(L.dst));

/** Binary search of `rows` values of a numerical feature: the number of bounds below each (NaN: count + 1). */
function searchRows(rows: number): Code {
  const code: Code = [];
  for (let k = 0; k < rows; k++) {
    code.push(...set(xL(k), loadF64(add(get(L.col), shl(add(get(L.r), i32(k)), i32(3))))));
    code.push(...set(posL(k), get(L.base)));
  }
  const halve: Code = [];
  for (let k = 0; k < rows; k++) {
    // base is the bounds address minus 8, so pos + step reads bounds[(pos - base + step) / 8 - 1].
    halve.push(
      ...set(
        posL(k),
        add(get(posL(k)), select(get(L.step), i32(0), ltF64(loadF64(add(get(posL(k)), get(L.step))), get(xL(k))))),
      ),
    );
  }
  halve.push(...set(L.step, shrU(get(L.step), i32(1))));
  code.push(...set(L.step, load(get(L.rec), 8)), ...loopUntil(ltU(get(L.step), i32(8)), halve));
  for (let k = 0; k < rows; k++) {
    const found = shrU(sub(get(posL(k)), get(L.base)), i32(3));
    code.push(...store16(codeAt(k), select(found, add(get(L.cnt), i32(1)), eqF64(get(xL(k)), get(xL(k))))));
  }
  return [...code, ...inc(L.r, rows)];
}

/** A categorical value's code: its integer part when below the code count, else the count ("other"). */
function categoricalRow(): Code {
  return [
    ...set(xL(0), loadF64(add(get(L.col), shl(get(L.r), i32(3))))),
    ...set(L.code, truncSat(get(xL(0)))),
    ...store16(
      codeAt(0),
      select(get(L.cnt), get(L.code), or(neF64(get(xL(0)), get(xL(0))), geU(get(L.code), get(L.cnt)))),
    ),
    ...inc(L.r, 1),
  ];
}

/** Codes of rows [st, st + len) into the thread's block. */
function encodeBlock(): Code {
  const feature: Code = [
    ...set(L.rec, add(get(P.feats), mul(get(L.f), i32(FEATURE_BYTES)))),
    ...set(L.col, add(get(P.input), shl(add(mul(get(L.f), get(P.rows)), get(L.st)), i32(3)))),
    ...set(L.dst, mul(get(L.f), i32(2 * ROWS))),
    ...set(L.cnt, load(get(L.rec), 12)),
    ...set(L.r, i32(0)),
    ...ifThen(eq(load(get(L.rec)), i32(1)), [
      ...set(L.base, sub(load(get(L.rec), 4), i32(8))),
      ...loopUntil(gtS(add(get(L.r), i32(ENCODE_ROWS)), get(L.len)), searchRows(ENCODE_ROWS)),
      ...loopUntil(geS(get(L.r), get(L.len)), searchRows(1)),
    ]),
    ...ifThen(eq(load(get(L.rec)), i32(2)), loopUntil(geS(get(L.r), get(L.len)), categoricalRow())),
    ...inc(L.f, 1),
  ];
  return [...set(L.f, i32(0)), ...loopUntil(geU(get(L.f), get(P.numFeatures)), feature)];
}

/** Row k's step down the current tree; `left` is its node's left child. */
function step(k: number, left: Code): Code {
  const node = get(nodeL(k));
  // The code's word of the bitset, shifted by the code itself: wasm takes shift counts modulo 32.
  const word = load(add(load(node, 4), shl(shrU(get(L.code), i32(5)), i32(2))));
  return [
    ...set(L.code, load16(add(get(L.codesAt), load(node)), 2 * k)),
    ...set(nodeL(k), add(left, shl(and(shrU(word, get(L.code)), i32(1)), i32(4)))),
  ];
}

/** `rows` rows from row r of the block walk the current tree together, then add their leaves' values. */
function walkRows(rows: number): Code {
  const code: Code = [...set(L.codesAt, rowCodes(get(L.r)))];
  for (let k = 0; k < rows; k++) code.push(...set(nodeL(k), get(L.root)));
  const unchecked: Code = [...set(L.step, sub(get(L.step), i32(1)))];
  for (let k = 0; k < rows; k++) unchecked.push(...step(k, load(get(nodeL(k)), 8)));
  code.push(...set(L.step, get(L.depth)), ...loopUntil(eqz(get(L.step)), unchecked));
  const checked: Code = [];
  let atLeaves = i32(1);
  for (let k = 0; k < rows; k++) {
    checked.push(...set(leftL(k), load(get(nodeL(k)), 8)));
    atLeaves = and(atLeaves, eq(get(leftL(k)), get(nodeL(k))));
  }
  const steps: Code = [];
  for (let k = 0; k < rows; k++) steps.push(...step(k, get(leftL(k))));
  code.push(...loopUntil([...checked, ...atLeaves], steps));
  for (let k = 0; k < rows; k++) {
    const o = add(get(P.out), shl(add(add(get(L.st), get(L.r)), i32(k)), i32(3)));
    code.push(...storeF64(o, addF64(loadF64(o), loadF64(add(shrU(get(nodeL(k)), i32(1)), get(P.valueOffset))))));
  }
  return [...code, ...inc(L.r, rows)];
}

/** Every tree over the encoded block, in tree order. */
function walkBlock(): Code {
  const tree: Code = [
    ...set(L.root, load(add(get(P.trees), mul(get(L.t), i32(TREE_BYTES))))),
    ...set(L.depth, load(add(get(P.trees), mul(get(L.t), i32(TREE_BYTES))), 4)),
    ...set(L.r, i32(0)),
    ...loopUntil(gtS(add(get(L.r), i32(ROWS)), get(L.len)), walkRows(ROWS)),
    ...loopUntil(geS(get(L.r), get(L.len)), walkRows(1)),
    ...inc(L.t, 1),
  ];
  return [...set(L.t, i32(0)), ...loopUntil(geU(get(L.t), get(P.numTrees)), tree)];
}

function predictBody(): Code {
  const block: Code = [
    ...set(L.len, sub(get(L.hi), get(L.st))),
    ...set(L.len, select(i32(PREDICT_BLOCK), get(L.len), gtS(get(L.len), i32(PREDICT_BLOCK)))),
    ...encodeBlock(),
    ...walkBlock(),
    ...inc(L.st, PREDICT_BLOCK),
  ];
  const grab: Code = [
    ...set(L.hi, add(get(L.lo), i32(GRAB))),
    ...set(L.hi, select(get(P.rows), get(L.hi), gtS(get(L.hi), get(P.rows)))),
    ...set(L.st, get(L.lo)),
    ...loopUntil(geS(get(L.st), get(L.hi)), block),
  ];
  return [
    ...set(L.stride, mul(get(P.numFeatures), i32(2 * ROWS))),
    ...loopUntil([...set(L.lo, atomicAdd(get(P.counter), i32(GRAB))), ...geS(get(L.lo), get(P.rows))], grab),
    0x0b,
  ];
}

const moduleBytes = (): Uint8Array<ArrayBuffer> =>
  wasmModule([
    {
      name: 'predict',
      params: NPARAM,
      locals: [
        [NI32, I32],
        [NF64, F64],
      ],
      body: predictBody(),
    },
  ]);

/**
 * Predicts rows of the chunk at `input` (column-major f64, `rows` per column) into `out`, taking blocks from
 * `counter`.
 */
export type PredictFn = (
  trees: number,
  numTrees: number,
  feats: number,
  numFeatures: number,
  valueOffset: number,
  input: number,
  rows: number,
  out: number,
  codes: number,
  counter: number,
) => void;

let compiled: WebAssembly.Module | undefined;

export function predictModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(moduleBytes());
  return compiled;
}

export function instantiatePredict(module: WebAssembly.Module, memory: WebAssembly.Memory): PredictFn {
  return new WebAssembly.Instance(module, { env: { memory } }).exports.predict as PredictFn;
}
