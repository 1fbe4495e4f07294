import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRowwise, partitionRows } from '../../trainer/treelearner/hist-kernel.ts';
import {
  buildHistWasm,
  histModule,
  instantiateHist,
  partitionWasm,
  SharedArena,
  usesColumns,
} from '../../trainer/treelearner/hist-wasm.ts';

const t = suite('trainer: histogram kernels');

t(
  'both WebAssembly kernels (rows, columns) sum exactly what the JavaScript kernel sums ' +
    '(indices or not, hessians or counts)',
  () => {
    const module = histModule();
    assert.ok(module !== null, 'WebAssembly with shared memory is available');
    const N = 10_007,
      S = 13,
      nf = 9,
      TB = nf * 256;
    const arena = SharedArena.create(
      SharedArena.size([N * S, N * S, 4 * N, 4 * N, 4 * N, 4 * N, 4 * N, 16 * TB, 12 * nf, 64]),
    )!;
    const rb = arena.u8(N * S),
      g = arena.f32(N),
      h = arena.f32(N),
      idx = arena.i32(N),
      hist = arena.f64(2 * TB);
    const columns = {
      colBins: arena.u8(N * S),
      numData: N,
      og: arena.f32(N),
      oh: arena.f32(N),
      scratch: arena.i32(16),
    };
    const feats = arena.i32(3 * nf);
    const pos = feats.subarray(0, nf),
      off = feats.subarray(nf, 2 * nf),
      len = feats.subarray(2 * nf);
    let s = 5;
    const rnd = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    for (let i = 0; i < N * S; i++) rb[i] = Math.floor(rnd() * 256);
    for (let r = 0; r < N; r++) for (let p = 0; p < S; p++) columns.colBins[p * N + r] = rb[r * S + p];
    for (let i = 0; i < N; i++) {
      g[i] = rnd() - 0.5;
      h[i] = rnd();
    }
    for (let k = 0; k < nf; k++) {
      pos[k] = (k * 7) % S;
      off[k] = 256 * ((k * 5) % nf);
      len[k] = 256;
    }
    let cnt = 0;
    for (let i = 0; i < N; i++) if (rnd() < 0.6) idx[cnt++] = i;
    const kernel = instantiateHist(module!, arena.memory);
    const js = new Float64Array(2 * TB);
    // A dense leaf (odd begin and count: the unrolled groups and the remainder loops both run) and a sparse one.
    const leaves = [
      { begin: 3, n: cnt - 5 },
      { begin: 101, n: 211 },
    ];
    assert.ok(usesColumns(leaves[0].n, N) && !usesColumns(leaves[1].n, N), 'the two leaves take different kernels');
    for (const { begin, n } of leaves) {
      for (const useIdx of [true, false]) {
        for (const hess of [h, null]) {
          buildRowwise(rb, S, pos, off, len, nf, useIdx ? idx : null, begin, n, g, hess, js);
          for (const cols of [columns, null]) {
            hist.fill(NaN);
            buildHistWasm(kernel, rb, S, pos, off, len, nf, useIdx ? idx : null, begin, n, g, hess, hist, cols);
            for (let i = 0; i < 2 * TB; i++) {
              if (!Object.is(hist[i], js[i]))
                assert.unreachable(
                  `rows ${begin}+${n}, idx ${useIdx}, hess ${hess !== null}, columns ${cols !== null}, bin ${i}`,
                );
            }
          }
        }
      }
    }
  },
);

t('the WebAssembly partition keeps the same rows in the same order as partitionRows', () => {
  const N = 5_003;
  const arena = SharedArena.create(SharedArena.size([4 * N, 4 * N, N, 256, 64]))!;
  const idx = arena.i32(N),
    tmp = arena.i32(N),
    bin = arena.u8(N),
    goLeft = arena.u8(256),
    out = arena.i32(16);
  const kernel = instantiateHist(histModule()!, arena.memory);
  let s = 11;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < N; i++) bin[i] = Math.floor(rnd() * 256);
  for (let b = 0; b < 256; b++) goLeft[b] = rnd() < 0.4 ? 1 : 0;
  const rows = Array.from({ length: N }, (_, i) => i).filter(() => rnd() < 0.7);
  for (const [from, to, tmpStart] of [
    [0, rows.length, 0],
    [17, rows.length - 3, 5],
    [40, 40, 0],
  ]) {
    idx.set(rows);
    tmp.fill(-1);
    const jsIdx = Int32Array.from(idx),
      jsTmp = Int32Array.from(tmp);
    const left = partitionRows(jsIdx, jsTmp, bin, goLeft, from, to, tmpStart);
    assert.is(partitionWasm(kernel, idx, tmp, bin, goLeft, from, to, tmpStart, out), left);
    assert.equal(Array.from(idx.subarray(from, from + left)), Array.from(jsIdx.subarray(from, from + left)));
    const right = to - from - left;
    assert.equal(
      Array.from(tmp.subarray(tmpStart, tmpStart + right)),
      Array.from(jsTmp.subarray(tmpStart, tmpStart + right)),
    );
    assert.ok(to === from || (left > 0 && right > 0), 'both sides get rows');
  }
});

t.run();
