// A few WebAssembly opcodes as functions that return byte arrays, and a module builder: enough to assemble the
// histogram and prediction kernels (hist-wasm.ts, predict-wasm.ts) here, with no toolchain and no binary blob.
// An expression is the bytes that leave its value on the stack, so `add(get(a), i32(1))` reads as it computes.

export const I32 = 0x7f,
  F64 = 0x7c,
  VOID = 0x40;

export type Code = number[];

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const get = (l: number): Code => [0x20, ...uleb(l)];
export const set = (l: number, e: Code): Code => [...e, 0x21, ...uleb(l)];
export const i32 = (v: number): Code => [0x41, ...sleb(v)];
export const f64 = (v: number): Code => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)];
const op =
  (code: number) =>
  (a: Code, b: Code): Code => [...a, ...b, code];
export const eqz = (a: Code): Code => [...a, 0x45];
export const eq = op(0x46),
  ltU = op(0x49),
  gtS = op(0x4a),
  geS = op(0x4e),
  geU = op(0x4f);
export const add = op(0x6a),
  sub = op(0x6b),
  mul = op(0x6c),
  and = op(0x71),
  or = op(0x72),
  shrU = op(0x76);
/** a << s, s an expression or a constant. */
export const shl = (a: Code, s: Code | number): Code => [...a, ...(typeof s === 'number' ? i32(s) : s), 0x74];
export const eqF64 = op(0x61),
  neF64 = op(0x62),
  ltF64 = op(0x63),
  gtF64 = op(0x64),
  leF64 = op(0x65),
  addF64 = op(0xa0),
  subF64 = op(0xa1),
  mulF64 = op(0xa2),
  divF64 = op(0xa3);
export const truncF64 = (a: Code): Code => [...a, 0x9d];
export const f64FromI32 = (a: Code): Code => [...a, 0xb7];
/** br_if to the enclosing block or loop `depth` levels out (0 = innermost). */
export const brIf = (depth: number, c: Code): Code => [...c, 0x0d, ...uleb(depth)];
export const block = (body: Code): Code => [0x02, VOID, ...body, 0x0b];
export const load = (a: Code, offset = 0): Code => [...a, 0x28, 2, ...uleb(offset)];
export const load16 = (a: Code, offset = 0): Code => [...a, 0x2f, 1, ...uleb(offset)];
export const loadU8 = (a: Code, offset = 0): Code => [...a, 0x2d, 0, ...uleb(offset)];
export const loadF32AsF64 = (a: Code, offset = 0): Code => [...a, 0x2a, 2, ...uleb(offset), 0xbb];
export const loadF64 = (a: Code, offset = 0): Code => [...a, 0x2b, 3, ...uleb(offset)];
export const store = (a: Code, v: Code, offset = 0): Code => [...a, ...v, 0x36, 2, ...uleb(offset)];
export const store16 = (a: Code, v: Code): Code => [...a, ...v, 0x3b, 1, 0];
export const storeF64 = (a: Code, v: Code, offset = 0): Code => [...a, ...v, 0x39, 3, ...uleb(offset)];
/** Sets local l to e and leaves e on the stack. */
export const tee = (l: number, e: Code): Code => [...e, 0x22, ...uleb(l)];
/** c ? a : b */
export const select = (a: Code, b: Code, c: Code): Code => [...a, ...b, ...c, 0x1b];
export const truncSat = (a: Code): Code => [...a, 0xfc, 0x02];
export const atomicAdd = (a: Code, v: Code): Code => [...a, ...v, 0xfe, 0x1e, 2, 0];
export const ifThen = (c: Code, body: Code): Code => [...c, 0x04, VOID, ...body, 0x0b];
export const ifElse = (type: number, c: Code, t: Code, e: Code): Code => [...c, 0x04, type, ...t, 0x05, ...e, 0x0b];
/** block { loop { br_if(exit) 1; body; br 0 } }: exit may do work before its test. */
export const loopUntil = (exit: Code, body: Code): Code => [
  0x02,
  VOID,
  0x03,
  VOID,
  ...exit,
  0x0d,
  1,
  ...body,
  0x0c,
  0,
  0x0b,
  0x0b,
];
export const inc = (l: number, by: number): Code => set(l, add(get(l), i32(by)));

export interface WasmFunction {
  name: string;
  /** Parameter count; every parameter is an i32. */
  params: number;
  /** Local declarations after the parameters: [count, type]. */
  locals: [number, number][];
  /** The body, ending with 0x0b. */
  body: Code;
}

/** A module of exported functions (no results) over an imported shared memory env.memory of up to 4 GB. */
export function wasmModule(fns: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: Code): Code => [id, ...uleb(content.length), ...content];
  const name = (s: string): Code => [...uleb(s.length), ...Buffer.from(s)];
  const fnType = (params: number): Code => [0x60, ...uleb(params), ...new Array<number>(params).fill(I32), 0];
  const code = fns.map((f) => [...uleb(f.locals.length), ...f.locals.flatMap(([n, t]) => [...uleb(n), t]), ...f.body]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...uleb(fns.length), ...fns.flatMap((f) => fnType(f.params))]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]),
    ...section(3, [...uleb(fns.length), ...fns.map((_, i) => i)]),
    ...section(7, [...uleb(fns.length), ...fns.flatMap((f, i) => [...name(f.name), 0x00, i])]),
    ...section(10, [...uleb(fns.length), ...code.flatMap((c) => [...uleb(c.length), ...c])]),
  ]);
}
