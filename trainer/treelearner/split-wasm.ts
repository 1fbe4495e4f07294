// The numerical threshold scan of split.ts (scan(), the plain gain without lambda_l1 or max_delta_step) as
// WebAssembly, assembled from opcodes like the histogram kernels and run on the same shared memory: the same
// float64 operations in the same order, so the same split to the bit. It runs once per feature, leaf and
// direction, a few thousand times per tree, where the JavaScript loop cost a tenth of the training time.
import {
  add,
  addF64,
  and,
  block,
  brIf,
  divF64,
  eq,
  F64,
  f64,
  f64FromI32,
  get,
  gtF64,
  gtS,
  I32,
  i32,
  ifElse,
  ifThen,
  leF64,
  loadF64,
  loopUntil,
  ltF64,
  mulF64,
  or,
  set,
  shl,
  storeF64,
  sub,
  subF64,
  truncF64,
  VOID,
  wasmModule,
  type Code,
} from '../wasm/wasm-asm.ts';

const K_EPSILON = 1.0000000036274937e-15;

// Parameters (i32), then locals.
const P = { hist: 0, nb: 1, skipDefault: 2, defaultBin: 3, naAsMissing: 4, mfbZero: 5, args: 6, out: 7 };
const NPARAM = 8;
const L = { t: 8, addFrom: 9, splittable: 10 };
const NI32 = 3;
const F = {
  sumG: 11,
  sumH: 12,
  numData: 13,
  cntFactor: 14,
  minData: 15,
  minHess: 16,
  l2: 17,
  minGainShift: 18,
  g: 19,
  h: 20,
  accG: 21,
  accH: 22,
  accC: 23,
  otherC: 24,
  otherH: 25,
  otherG: 26,
  gain: 27,
  bestGain: 28,
  bestThreshold: 29,
  bestG: 30,
  bestH: 31,
  bestC: 32,
};
const NF64 = 22;

/** Inputs, as float64 slots at `args`. */
export const SCAN_ARGS = 8;
/** Outputs at `out`: splittable (0/1), best gain, threshold, left sum of gradients, of hessians, left count. */
export const SCAN_OUT = 6;

/** Bin t's gradient and hessian sums into g and h. */
const loadBin = (t: Code): Code => [
  ...set(F.g, loadF64(add(get(P.hist), shl(t, 4)))),
  ...set(F.h, loadF64(add(get(P.hist), shl(t, 4)), 8)),
];
/** Math.trunc(h * cntFactor + 0.5): LightGBM's RoundInt of the bin's count. */
const binCount = (): Code => truncF64(addF64(mulF64(get(F.h), get(F.cntFactor)), f64(0.5)));

/**
 * The body of one candidate threshold at t: accumulate bin t into the running side (acc*), derive the other
 * side, and keep the best gain. Inside block $cont (depth 0) in loop (1) in block $exit (2).
 */
function candidate(reverse: boolean, accumulate: Code): Code {
  const sideGain = (g: number, h: number): Code => divF64(mulF64(get(g), get(g)), addF64(get(h), get(F.l2)));
  return [
    ...brIf(0, and(get(P.skipDefault), eq(get(L.t), get(P.defaultBin)))),
    ...accumulate,
    ...brIf(0, or(ltF64(get(F.accC), get(F.minData)), ltF64(get(F.accH), get(F.minHess)))),
    ...set(F.otherC, subF64(get(F.numData), get(F.accC))),
    ...brIf(2, ltF64(get(F.otherC), get(F.minData))),
    ...set(F.otherH, subF64(get(F.sumH), get(F.accH))),
    ...brIf(2, ltF64(get(F.otherH), get(F.minHess))),
    ...set(F.otherG, subF64(get(F.sumG), get(F.accG))),
    // scan(): (lg * lg) / (lh + l2) + (rg * rg) / (rh + l2), left first.
    ...set(
      F.gain,
      reverse
        ? addF64(sideGain(F.otherG, F.otherH), sideGain(F.accG, F.accH))
        : addF64(sideGain(F.accG, F.accH), sideGain(F.otherG, F.otherH)),
    ),
    ...brIf(0, leF64(get(F.gain), get(F.minGainShift))),
    ...set(L.splittable, i32(1)),
    ...ifThen(gtF64(get(F.gain), get(F.bestGain)), [
      ...set(F.bestC, reverse ? get(F.otherC) : get(F.accC)),
      ...set(F.bestG, reverse ? get(F.otherG) : get(F.accG)),
      ...set(F.bestH, reverse ? get(F.otherH) : get(F.accH)),
      ...set(F.bestThreshold, f64FromI32(reverse ? sub(get(L.t), i32(1)) : get(L.t))),
      ...set(F.bestGain, get(F.gain)),
    ]),
  ];
}

const accumulateBin = (): Code => [
  ...loadBin(get(L.t)),
  ...set(F.accG, addF64(get(F.accG), get(F.g))),
  ...set(F.accH, addF64(get(F.accH), get(F.h))),
  ...set(F.accC, addF64(get(F.accC), binCount())),
];

function scanBody(reverse: boolean): Code {
  const code: Code = [];
  const args = [F.sumG, F.sumH, F.numData, F.cntFactor, F.minData, F.minHess, F.l2, F.minGainShift];
  for (const [i, l] of args.entries()) code.push(...set(l, loadF64(get(P.args), 8 * i)));
  code.push(
    ...set(F.bestGain, f64(-Infinity)),
    ...set(F.bestG, f64(NaN)),
    ...set(F.bestH, f64(NaN)),
    ...set(F.bestC, f64(0)),
    ...set(F.bestThreshold, f64FromI32(get(P.nb))),
    ...set(F.accG, f64(0)),
    ...set(F.accH, f64(K_EPSILON)),
    ...set(F.accC, f64(0)),
  );
  if (reverse) {
    code.push(
      ...set(L.t, sub(sub(get(P.nb), i32(1)), get(P.naAsMissing))),
      ...loopUntil(gtS(i32(1), get(L.t)), [
        ...block(candidate(true, accumulateBin())),
        ...set(L.t, sub(get(L.t), i32(1))),
      ]),
    );
  } else {
    // The most frequent bin is not stored when it is bin 0 (split.ts scan(): rebuilt or skipped).
    const rebuild: Code = [
      ...set(F.accG, get(F.sumG)),
      ...set(F.accH, subF64(get(F.sumH), f64(K_EPSILON))),
      ...set(F.accC, get(F.numData)),
      ...set(L.t, i32(1)),
      ...loopUntil(gtS(i32(1), sub(get(P.nb), get(L.t))), [
        ...loadBin(get(L.t)),
        ...set(F.accG, subF64(get(F.accG), get(F.g))),
        ...set(F.accH, subF64(get(F.accH), get(F.h))),
        ...set(F.accC, subF64(get(F.accC), binCount())),
        ...set(L.t, add(get(L.t), i32(1))),
      ]),
      ...set(L.addFrom, i32(1)),
      ...set(L.t, i32(0)),
    ];
    code.push(
      ...set(L.t, i32(0)),
      ...set(L.addFrom, i32(0)),
      // NaN-type features rebuild bin 0 from the leaf total; the others start the scan at bin 1.
      ...ifThen(get(P.mfbZero), ifElse(VOID, get(P.naAsMissing), rebuild, set(L.t, i32(1)))),
      ...loopUntil(gtS(get(L.t), sub(get(P.nb), i32(2))), [
        ...block(candidate(false, [...ifThen(gtS(i32(1), sub(get(L.addFrom), get(L.t))), accumulateBin())])),
        ...set(L.t, add(get(L.t), i32(1))),
      ]),
    );
  }
  const outs = [F.bestGain, F.bestThreshold, F.bestG, F.bestH, F.bestC];
  code.push(...storeF64(get(P.out), f64FromI32(get(L.splittable))));
  for (const [i, l] of outs.entries()) code.push(...storeF64(get(P.out), get(l), 8 * (i + 1)));
  code.push(0x0b);
  return code;
}

let compiled: WebAssembly.Module | null | undefined;

/** The scan kernels' module, or null where WebAssembly is unavailable. */
export function scanModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const locals: [number, number][] = [
        [NI32, I32],
        [NF64, F64],
      ];
      compiled = new WebAssembly.Module(
        wasmModule([
          { name: 'reverse', params: NPARAM, locals, body: scanBody(true) },
          { name: 'forward', params: NPARAM, locals, body: scanBody(false) },
        ]),
      );
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

type ScanFn = (
  hist: number,
  nb: number,
  skipDefault: number,
  defaultBin: number,
  naAsMissing: number,
  mfbZero: number,
  args: number,
  out: number,
) => void;

/** One thread's scan kernels on the shared memory, with their argument and result slots. */
export interface Scanner {
  reverse: ScanFn;
  forward: ScanFn;
  args: Float64Array;
  out: Float64Array;
}

/** The scanner for one thread: `io` is that thread's SCAN_ARGS + SCAN_OUT float64 slots in the memory. */
export function instantiateScan(module: WebAssembly.Module, memory: WebAssembly.Memory, io: Float64Array): Scanner {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  return {
    reverse: exports.reverse as ScanFn,
    forward: exports.forward as ScanFn,
    args: io.subarray(0, SCAN_ARGS),
    out: io.subarray(SCAN_ARGS, SCAN_ARGS + SCAN_OUT),
  };
}
