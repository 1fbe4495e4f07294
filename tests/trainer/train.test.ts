import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Booster } from '../../trainer/boosting/booster.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { loadTrainingFile, loadValidFile, readTextColumns } from '../../trainer/io/text-loader.ts';
import { resolveParams } from '../../trainer/io/params.ts';
import { Dataset } from '../../trainer/io/dataset.ts';
import { FIXTURES, l1, OBJECTIVES, readFixture } from './helpers.ts';

// Holdout l1 of LightGBM 4.x after 200 trees (tests/fixtures/gbdt-reference/README.md).
const LIGHTGBM_L1: Record<string, number> = {
  regression: 154.114,
  regression_l1: 152.887,
  huber: 153.257,
  fair: 152.951,
};

const read = async (name: string) => {
  const t = await readTextColumns(FIXTURES + name, { header: true, labelColumn: '0' });
  return { ...t, label: t.label! };
};
const trainData = await read('train.csv.gz');
const testData = await read('test.csv.gz');
const trainSet = Dataset.fromColumns({
  columns: trainData.columns,
  featureNames: trainData.names,
  categorical: [3],
  label: trainData.label,
});
const params = (objective: string) => ({
  objective,
  alpha: 150,
  fair_c: 50,
  num_iterations: 200,
  learning_rate: 0.05,
  num_leaves: 31,
  min_data_in_leaf: 50,
  seed: 7,
});
const models = new Map<string, Booster>();
async function model(objective: string): Promise<Booster> {
  if (!models.has(objective)) models.set(objective, await train(params(objective), trainSet));
  return models.get(objective)!;
}
const line = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(`${key}=`));
const treeBlock = (text: string, i: number) => text.split(/\nTree=/)[i + 1].split('\n\n')[0];

const t = suite('trainer: training matches LightGBM');

for (const objective of OBJECTIVES) {
  t(`${objective}: holdout l1 within 1% of LightGBM's, same bins as LightGBM`, async () => {
    const b = await model(objective);
    assert.is(b.numTrees, 200);
    const ours = l1(b.predict(testData.columns), testData.label);
    const ref = LIGHTGBM_L1[objective];
    assert.ok(Math.abs(ours - ref) / ref < 0.01, `l1 ${ours} vs LightGBM ${ref}`);
    const refText = readFixture(`lightgbm_model_${objective}.txt.gz`);
    const text = b.toString();
    assert.is(line(text, 'feature_infos'), line(refText, 'feature_infos'));
    assert.is(line(text, 'objective'), line(refText, 'objective'));
  });
}

t("regression_l1: the first trees are identical to LightGBM's, leaf renewal included", async () => {
  const refText = readFixture('lightgbm_model_regression_l1.txt.gz');
  const text = (await model('regression_l1')).toString();
  for (let i = 0; i < 10; i++) assert.is(treeBlock(text, i), treeBlock(refText, i), `tree ${i}`);
});

t("huber: tree 0 has LightGBM's structure, thresholds, leaf values and counts", async () => {
  const refTree = treeBlock(readFixture('lightgbm_model_huber.txt.gz'), 0).split('\n');
  const ours = treeBlock((await model('huber')).toString(), 0).split('\n');
  for (const key of [
    'split_feature',
    'threshold',
    'decision_type',
    'left_child',
    'right_child',
    'leaf_value',
    'leaf_count',
    'cat_threshold',
  ]) {
    assert.is(
      ours.find((l) => l.startsWith(key)),
      refTree.find((l) => l.startsWith(key)),
      key,
    );
  }
});

t('model text round trip: parsing our output predicts identically', async () => {
  for (const objective of OBJECTIVES) {
    const b = await model(objective);
    const back = Booster.fromString(b.toString());
    const a = b.predict(testData.columns),
      c = back.predict(testData.columns);
    for (let i = 0; i < a.length; i++)
      if (a[i] !== c[i]) assert.unreachable(`${objective} row ${i}: ${a[i]} vs ${c[i]}`);
    assert.is(back.toString(), b.toString());
  }
});

t('tree_sizes in our header are the exact byte sizes of the tree blocks', async () => {
  const text = (await model('fair')).toString();
  const sizes = line(text, 'tree_sizes')!.slice('tree_sizes='.length).split(' ').map(Number);
  let pos = text.indexOf('Tree=0');
  for (const s of sizes) {
    assert.ok(text.startsWith('Tree=', pos));
    pos += s;
  }
  assert.ok(text.startsWith('end of trees', pos));
});

t("SHAP contributions sum to the prediction (ours and LightGBM's models)", async () => {
  const rows = testData.columns.map((c) => c.subarray(0, 300));
  for (const b of [await model('huber'), Booster.fromString(readFixture('lightgbm_model_regression.txt.gz'))]) {
    const pred = b.predict(rows);
    const contrib = b.contributions(rows);
    assert.is(contrib[0].length, 25);
    for (let r = 0; r < 300; r++) {
      const s = contrib[r].reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(s - pred[r]) <= 1e-9 * Math.max(1, Math.abs(pred[r])), `row ${r}: ${s} vs ${pred[r]}`);
    }
  }
});

t('feature importance: split counts match the feature_importances block; gains are positive', async () => {
  const b = Booster.fromString(readFixture('lightgbm_model_huber.txt.gz'));
  const split = b.featureImportance('split');
  assert.is(split[3], 1298);
  assert.is(split[0], 1058);
  const gain = b.featureImportance('gain');
  assert.ok(gain[0] > gain[23] && gain[23] > 0);
});

t('training is deterministic and independent of the thread count', async () => {
  const small = { ...params('fair'), num_iterations: 15 };
  const a = (await train({ ...small, num_threads: 2 }, trainSet)).toString();
  const b = (await train({ ...small, num_threads: 1 }, trainSet)).toString();
  const c = (await train({ ...small, num_threads: 2 }, trainSet)).toString();
  assert.is(a, c);
  const trees = (s: string) => s.slice(0, s.indexOf('parameters:'));
  assert.is(trees(a), trees(b));
});

t(
  'with bagging and a binned validation file the worker shares gradients and tree walks: same as 1 thread',
  async () => {
    // 60 000 rows and a 20 000-row validation file: over the size from which the worker takes half of the
    // gradients, of the out-of-bag rows and of the validation rows.
    const p = { ...params('huber'), num_iterations: 12, bagging_fraction: 0.8, bagging_freq: 1, metric: ['l1'] };
    const files = { header: true, labelColumn: '0', categorical: ['3'] };
    const ds = await loadTrainingFile(`${FIXTURES}train.csv.gz`, files, resolveParams(p));
    const valid = await loadValidFile(`${FIXTURES}test.csv.gz`, files, ds);
    const run = async (threads: number) => {
      const b = await train({ ...p, num_threads: threads }, ds, { valid: [valid] });
      const text = b.toString();
      return { text, trees: text.slice(0, text.indexOf('parameters:')), evals: b.evalHistory.map((e) => e.value) };
    };
    const one = await run(1),
      two = await run(2);
    assert.is(two.trees, one.trees);
    assert.equal(two.evals, one.evals);
    assert.is(two.evals.length, 12);
    // The validation scores the walk accumulated are the model's own predictions of that file.
    const direct = l1(Booster.fromString(two.text).predict(testData.columns), testData.label);
    assert.ok(Math.abs(two.evals[11] - direct) < 1e-6 * direct, `${two.evals[11]} vs ${direct}`);
  },
);

t.run();
