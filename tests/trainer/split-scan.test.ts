// The WebAssembly threshold scan (trainer/treelearner/split-wasm.ts) against split.ts's JavaScript scan: the same
// split, to the bit, for every missing type, default bin and most-frequent-bin case.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedArena } from '../../trainer/treelearner/hist-wasm.ts';
import { findBestThreshold, SplitInfo, type FeatureMeta, type SplitConfig } from '../../trainer/treelearner/split.ts';
import { instantiateScan, SCAN_ARGS, SCAN_OUT, scanModule } from '../../trainer/treelearner/split-wasm.ts';

const t = suite('trainer: split scan kernel');

const config = (minDataInLeaf: number, lambdaL2: number): SplitConfig => ({
  lambdaL1: 0,
  lambdaL2,
  maxDeltaStep: 0,
  minDataInLeaf,
  minSumHessianInLeaf: 1e-3,
  minGainToSplit: 0,
  catSmooth: 10,
  catL2: 10,
  maxCatThreshold: 32,
  minDataPerGroup: 100,
  maxCatToOnehot: 4,
});

t('finds the JavaScript scan split on random histograms (counts and hessians, all missing types)', () => {
  const module = scanModule();
  assert.ok(module !== null, 'WebAssembly is available');
  const maxBins = 300;
  const arena = SharedArena.create(SharedArena.size([16 * (maxBins + 7), 8 * (SCAN_ARGS + SCAN_OUT)]))!;
  const hist = arena.f64(2 * (maxBins + 7));
  const scanner = instantiateScan(module!, arena.memory, arena.f64(SCAN_ARGS + SCAN_OUT));
  let s = 7;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  let compared = 0,
    found = 0;
  for (let trial = 0; trial < 600; trial++) {
    const numBin = 2 + Math.floor(rnd() * (maxBins - 2));
    const meta: FeatureMeta = {
      numBin,
      missingType: trial % 3,
      defaultBin: Math.floor(rnd() * numBin),
      mostFreqBin: trial % 4 === 0 ? 0 : Math.floor(rnd() * numBin),
      isCategorical: false,
      offset: trial % 7,
    };
    const constHess = trial % 2 === 0;
    let sumG = 0,
      sumH = 0,
      numData = 0;
    for (let b = 0; b < numBin; b++) {
      const n = rnd() < 0.2 ? 0 : Math.floor(rnd() * 200);
      const g = (rnd() - 0.45) * n * (trial % 5 === 0 ? 1e-3 : 10);
      const h = constHess ? n : n * (0.1 + rnd());
      hist[2 * (meta.offset + b)] = g;
      hist[2 * (meta.offset + b) + 1] = h;
      sumG += g;
      sumH += h;
      numData += n;
    }
    const c = config(trial % 4 === 1 ? 5000 : 20, trial % 3 === 0 ? 0 : 1.5);
    const js = new SplitInfo(),
      wasm = new SplitInfo();
    const a = findBestThreshold(hist, meta, sumG, sumH, numData, 0, c, js, null);
    const b = findBestThreshold(hist, meta, sumG, sumH, numData, 0, c, wasm, scanner);
    assert.is(b, a, `trial ${trial}: splittable`);
    for (const k of ['gain', 'threshold', 'leftSumG', 'leftSumH', 'leftCount', 'rightCount', 'defaultLeft'] as const) {
      if (!Object.is(wasm[k], js[k])) assert.unreachable(`trial ${trial}: ${k} ${wasm[k]} vs ${js[k]}`);
    }
    compared++;
    if (a) found++;
  }
  assert.is(compared, 600);
  assert.ok(found > 200 && found < 600, `some histograms split and some do not (${found} split)`);
});

t.run();
