import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Booster } from '../../trainer/boosting/booster.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { Dataset } from '../../trainer/io/dataset.ts';
import { compileTrees, predictRows } from '../../trainer/predict/predict-kernel.ts';
import { predictParallel } from '../../trainer/predict/predict-pool.ts';
import { K_ZERO_THRESHOLD, Tree } from '../../trainer/io/tree.ts';
import { readFixture, readPredictions, readTable } from './helpers.ts';

const t = suite('trainer: compiled and parallel prediction');

/** Tree-by-tree prediction straight from Tree.decision, the reference for the compiled path. */
function reference(b: Booster, cols: Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n);
  for (const tree of b.trees) tree.addPrediction(cols, n, out);
  return out;
}

function compiledOn(b: Booster, cols: Float64Array[], n: number, threads: number): Float64Array {
  const m = compileTrees(b.trees, b.trees.length, b.numFeatures)!;
  assert.ok(m !== null);
  const out = new Float64Array(n);
  if (threads > 1) predictParallel(m, cols, n, out, threads);
  else predictRows(m, cols, n, out);
  return out;
}

function assertSame(a: Float64Array, b: Float64Array, what: string): void {
  assert.is(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: row ${i}: ${a[i]} vs ${b[i]}`);
}

// Values on and around every edge the routing has: thresholds, the zero range, signed zeros, infinities, NaN,
// fractional, negative, huge and unseen categories.
function tricky(b: Booster, base: Float64Array[], n: number, seed: number): Float64Array[] {
  const thresholds = b.trees.flatMap((tr) => Array.from(tr.threshold.subarray(0, tr.numLeaves - 1)));
  const specials = [
    NaN,
    0,
    -0,
    K_ZERO_THRESHOLD,
    -K_ZERO_THRESHOLD,
    2 * K_ZERO_THRESHOLD,
    -2 * K_ZERO_THRESHOLD,
    1e-300,
    -1e-300,
    Infinity,
    -Infinity,
    1e300,
    -1,
    -0.5,
    0.5,
    2.5,
    1e6,
    2 ** 31,
    2 ** 32 + 2,
  ];
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  return base.map((col) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = rnd();
      if (u < 0.2) out[i] = specials[Math.floor(rnd() * specials.length)];
      else if (u < 0.45) out[i] = thresholds[Math.floor(rnd() * thresholds.length)];
      else if (u < 0.5) out[i] = thresholds[Math.floor(rnd() * thresholds.length)] * (1 + 1e-16);
      else out[i] = col[i % col.length];
    }
    return out;
  });
}

t("LightGBM's model: large inputs predict as LightGBM does on 1 and 2 threads", () => {
  const b = Booster.fromString(readFixture('lightgbm_model_regression.txt.gz'));
  const test = readTable('test.csv.gz');
  const expected = readPredictions('regression');
  const n0 = test.label.length;
  // Enough copies of the test rows that predict takes the compiled (and parallel) path.
  const copies = Math.ceil(5_000_000 / (n0 * b.numTrees));
  const cols = test.columns.map((c) => {
    const out = new Float64Array(n0 * copies);
    for (let k = 0; k < copies; k++) out.set(c, k * n0);
    return out;
  });
  for (const numThreads of [1, 2]) {
    const got = b.predict(cols, { numThreads });
    for (let r = 0; r < got.length; r++) {
      const e = expected[r % n0];
      if (!(Math.abs(got[r] - e) <= 1e-9 * Math.abs(e)))
        assert.unreachable(`threads ${numThreads} row ${r}: ${got[r]} vs ${e}`);
    }
    assertSame(
      got.subarray(0, n0),
      b
        .predict(
          test.columns.map((c) => c.subarray(0, n0)),
          { numThreads: 1 },
        )
        .subarray(0, n0),
      'vs small path',
    );
  }
});

t('compiled routing equals Tree.decision on edge values (missing types None, Zero, NaN; categorical)', async () => {
  const n = 3000;
  let s = 99;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const x = new Float64Array(n),
    z = new Float64Array(n),
    cat = new Float64Array(n),
    y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rnd() < 0.1 ? NaN : rnd() * 4 - 2;
    z[i] = rnd() < 0.3 ? 0 : rnd() * 2 - 1;
    cat[i] = Math.floor(rnd() * 12);
    y[i] = (Number.isNaN(x[i]) ? 7 : 3 * x[i]) + (z[i] === 0 ? 5 : 10 * z[i]) + (cat[i] % 3 === 0 ? 4 : 0) + rnd();
  }
  const ds = Dataset.fromColumns({
    columns: [x, z, cat],
    featureNames: ['x', 'z', 'cat'],
    categorical: ['cat'],
    label: y,
  });
  const common = {
    num_iterations: 40,
    learning_rate: 0.2,
    num_leaves: 15,
    min_data_in_leaf: 10,
    min_data_per_group: 10,
    cat_smooth: 1,
    verbosity: -1,
  };
  const models = [
    await train(common, ds),
    await train({ ...common, zero_as_missing: true }, ds),
    await train({ ...common, use_missing: false }, ds),
    Booster.fromString(readFixture('lightgbm_model_huber.txt.gz')),
  ];
  const types = new Set(
    models.flatMap((b) => b.trees.flatMap((tr) => Array.from(tr.decisionType.subarray(0, tr.numLeaves - 1)))),
  );
  const has = (what: string, ok: (d: number) => boolean): void =>
    assert.ok([...types].some(ok), `a ${what} split is covered`);
  has('categorical', (d) => (d & 1) === 1);
  for (const [what, missing] of [
    ['missing None', 0],
    ['missing Zero', 1],
    ['missing NaN', 2],
  ] as const) {
    has(what, (d) => (d & 1) === 0 && ((d >> 2) & 3) === missing);
  }
  const table = readTable('test.csv.gz');
  for (const [i, b] of models.entries()) {
    const base = b.numFeatures === 3 ? [x, z, cat] : table.columns;
    const cols = tricky(b, base, 5000, 7 + i);
    const ref = reference(b, cols, 5000);
    assertSame(compiledOn(b, cols, 5000, 1), ref, `model ${i}, 1 thread`);
    assertSame(compiledOn(b, cols, 5000, 2), ref, `model ${i}, 2 threads`);
  }
});

t('the compiled model is cached and follows numIteration', () => {
  const b = Booster.fromString(readFixture('lightgbm_model_fair.txt.gz'));
  const test = readTable('test.csv.gz');
  const n0 = test.label.length;
  const cols = test.columns.map((c) => {
    const out = new Float64Array(20_000);
    for (let r = 0; r < out.length; r++) out[r] = c[r % n0];
    return out;
  });
  const all = b.predict(cols, { numThreads: 2 });
  const some = b.predict(cols, { numThreads: 2, numIteration: 150 });
  assertSame(all, reference(b, cols, cols[0].length), 'all trees');
  const first = new Booster({
    trees: b.trees.slice(0, 150),
    featureNames: b.featureNames,
    featureInfos: b.featureInfos,
    objective: b.objective,
  });
  assertSame(some, reference(first, cols, cols[0].length), '150 trees');
  assertSame(b.predict(cols, { numThreads: 1 }), all, 'again, 1 thread');
});

t(
  'the kernel on row counts off its groups and blocks, an unused feature, single-leaf trees, array and float32 columns',
  async () => {
    const n = 3000;
    let s = 5;
    const rnd = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const constant = new Float64Array(n).fill(1),
      x = new Float64Array(n),
      cat = new Float64Array(n),
      y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = rnd() < 0.1 ? NaN : rnd() * 4 - 2;
      cat[i] = Math.floor(rnd() * 9);
      y[i] = (Number.isNaN(x[i]) ? 2 : x[i] * x[i]) + (cat[i] % 2) * 3 + rnd();
    }
    // The constant first column is never split on: leaves must step on another feature's codes.
    const ds = Dataset.fromColumns({
      columns: [constant, x, cat],
      featureNames: ['c', 'x', 'cat'],
      categorical: ['cat'],
      label: y,
    });
    const trained = await train(
      {
        num_iterations: 20,
        learning_rate: 0.3,
        num_leaves: 31,
        min_data_in_leaf: 5,
        min_data_per_group: 5,
        verbosity: -1,
      },
      ds,
    );
    assert.ok(
      trained.trees.every((tr) => Array.from(tr.splitFeature.subarray(0, tr.numLeaves - 1)).every((f) => f !== 0)),
    );
    const stump = (v: number): Tree => {
      const tr = new Tree(1);
      tr.leafValue[0] = v;
      return tr;
    };
    const trees = [stump(0.25), ...trained.trees.slice(0, 10), stump(-1.5), ...trained.trees.slice(10)];
    const b = new Booster({
      trees,
      featureNames: trained.featureNames,
      featureInfos: trained.featureInfos,
      objective: trained.objective,
    });
    // One compiled model, fewer rows each time: a smaller chunk puts the codes where earlier inputs were, so the
    // code slots of the unused feature hold stale bytes.
    const m = compileTrees(b.trees, b.trees.length, b.numFeatures)!;
    for (const rows of [1003, 129, 127, 9, 7, 1]) {
      const cols = tricky(b, [constant, x, cat], rows, rows);
      const ref = reference(b, cols, rows);
      for (const threads of [1, 3]) {
        const out = new Float64Array(rows);
        predictParallel(m, cols, rows, out, threads);
        assertSame(out, ref, `${rows} rows, ${threads} threads`);
      }
    }
    const cols = tricky(b, [constant, x, cat], 1003, 1);
    const ref = reference(b, cols, 1003);
    assertSame(
      compiledOn(b, cols.map((c) => Array.from(c)) as unknown as Float64Array[], 1003, 2),
      ref,
      'array columns',
    );
    const f32 = cols.map((c) => Float32Array.from(c));
    assertSame(
      compiledOn(b, f32 as unknown as Float64Array[], 1003, 2),
      reference(b, f32 as unknown as Float64Array[], 1003),
      'float32 columns',
    );
  },
);

t('rows beyond one chunk, and two models taking turns on the workers', () => {
  // 30 trees each: enough row x tree visits for the parallel path, few enough for a quick reference.
  const first30 = (name: string): Booster => {
    const full = Booster.fromString(readFixture(name));
    return new Booster({
      trees: full.trees.slice(0, 30),
      featureNames: full.featureNames,
      featureInfos: full.featureInfos,
      objective: full.objective,
    });
  };
  const a = first30('lightgbm_model_regression.txt.gz'),
    b = first30('lightgbm_model_huber.txt.gz');
  const test = readTable('test.csv.gz');
  const n0 = test.label.length;
  // Over two chunks of rows (a chunk holds 2^21 values: 87 381 rows of 24 features), ending off a block.
  const n = 180_001;
  const cols = test.columns.map((c) => {
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = c[r % n0];
    return out;
  });
  const refA = reference(a, cols, n),
    refB = reference(b, cols, n);
  assertSame(a.predict(cols, { numThreads: 2 }), refA, 'model a');
  assertSame(b.predict(cols, { numThreads: 2 }), refB, 'model b');
  assertSame(a.predict(cols, { numThreads: 2 }), refA, 'model a again');
});

t.run();
