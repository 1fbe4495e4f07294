import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Booster } from '../../trainer/boosting/booster.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { Dataset } from '../../trainer/io/dataset.ts';
import { readFixture, readPredictions, readTable } from './helpers.ts';

const t = suite('trainer: categorical and missing values route as in LightGBM');

t('test rows with missing values and every category predict as LightGBM does', () => {
  const b = Booster.fromString(readFixture('lightgbm_model_regression.txt.gz'));
  const test = readTable('test.csv.gz');
  const expected = readPredictions('regression');
  const got = b.predict(test.columns);
  let missingRows = 0;
  const cats = new Set<number>();
  for (let r = 0; r < got.length; r++) {
    if (test.columns.some((c) => Number.isNaN(c[r]))) {
      missingRows++;
      assert.ok(Math.abs(got[r] - expected[r]) <= 1e-9 * Math.abs(expected[r]), `row ${r}`);
    }
    cats.add(test.columns[3][r]);
  }
  assert.ok(missingRows > 100, `only ${missingRows} rows with missing values`);
  assert.ok(cats.size >= 25);
});

t('unseen, negative and missing categories go right; NaN follows default_left', () => {
  const b = Booster.fromString(readFixture('lightgbm_model_regression.txt.gz'));
  const tree = b.trees[0];
  const node = Array.from(tree.decisionType.subarray(0, tree.numLeaves - 1)).findIndex((d) => d === 1 || d === 9);
  assert.ok(node >= 0);
  assert.is(tree.decision(NaN, node), tree.rightChild[node]);
  assert.is(tree.decision(-3, node), tree.rightChild[node]);
  assert.is(tree.decision(1e6, node), tree.rightChild[node]);
  const nanNode = Array.from(tree.decisionType.subarray(0, tree.numLeaves - 1)).indexOf(10);
  assert.is(tree.decision(NaN, nanNode), tree.leftChild[nanNode]);
  const rightNode = Array.from(tree.decisionType.subarray(0, tree.numLeaves - 1)).indexOf(8);
  if (rightNode >= 0) assert.is(tree.decision(NaN, rightNode), tree.rightChild[rightNode]);
});

t('a trained model learns what missingness and categories mean', async () => {
  const n = 4000;
  const x = new Float64Array(n),
    cat = new Float64Array(n),
    y = new Float64Array(n);
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    const missing = rnd() < 0.2;
    x[i] = missing ? NaN : rnd() * 10;
    cat[i] = Math.floor(rnd() * 8);
    // NaN rows behave like large x; categories 2 and 5 add 50.
    y[i] = (missing ? 100 : x[i] * 5) + (cat[i] === 2 || cat[i] === 5 ? 50 : 0);
  }
  const ds = Dataset.fromColumns({ columns: [x, cat], featureNames: ['x', 'cat'], categorical: ['cat'], label: y });
  const b = await train(
    {
      num_iterations: 60,
      learning_rate: 0.3,
      num_leaves: 15,
      min_data_in_leaf: 20,
      min_data_per_group: 20,
      cat_smooth: 1,
    },
    ds,
  );
  const text = b.toString();
  assert.match(text, /decision_type=[^\n]*\b(9|1)\b/); // a categorical split exists
  const p = b.predict(
    [
      [NaN, 0],
      [1, 0],
      [1, 2],
      [1, 5],
      [1, 7],
      [1, 99],
      [1, -1],
    ],
    { layout: 'rows' },
  );
  assert.ok(Math.abs(p[0] - 100) < 8, `NaN row ${p[0]}`);
  assert.ok(Math.abs(p[1] - 5) < 8, `x=1 ${p[1]}`);
  assert.ok(Math.abs(p[2] - 55) < 8 && Math.abs(p[3] - 55) < 8, `cats 2/5: ${p[2]} ${p[3]}`);
  assert.ok(Math.abs(p[4] - 5) < 8, `cat 7 ${p[4]}`);
  // Unseen (99) and negative (-1) categories route like the "other" bin: not with {2, 5}.
  assert.ok(p[5] < 30 && p[6] < 30, `unseen ${p[5]}, negative ${p[6]}`);
  const back = Booster.fromString(text).predict(
    [
      [NaN, 0],
      [1, 5],
      [1, 99],
    ],
    { layout: 'rows' },
  );
  assert.is(back[0], p[0]);
  assert.is(back[1], p[3]);
  assert.is(back[2], p[5]);
});

t.run();
