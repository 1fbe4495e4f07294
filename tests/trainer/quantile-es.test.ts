import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Dataset, train, type IterationInfo } from '../../trainer/index.ts';
import { readTable } from './helpers.ts';

const tr = readTable('train.csv.gz');
const te = readTable('test.csv.gz');
const trainSet = Dataset.fromColumns({
  columns: tr.columns,
  featureNames: tr.names,
  categorical: ['f3'],
  label: tr.label,
});
const validSet = Dataset.fromColumns({
  columns: te.columns,
  featureNames: te.names,
  categorical: ['f3'],
  label: te.label,
});

const t = suite('trainer: quantile objective and early stopping');

t('quantile models give calibrated prediction intervals', async () => {
  const common = {
    objective: 'quantile',
    num_iterations: 60,
    learning_rate: 0.1,
    num_leaves: 15,
    min_data_in_leaf: 50,
    metric: 'quantile',
  };
  const hi = await train({ ...common, alpha: 0.9 }, trainSet, { valid: [validSet] });
  const lo = await train({ ...common, alpha: 0.1 }, trainSet, { valid: [validSet] });
  const ph = hi.predict(te.columns),
    pl = lo.predict(te.columns);
  let below = 0,
    above = 0;
  for (let i = 0; i < te.label.length; i++) {
    if (te.label[i] <= ph[i]) below++;
    if (te.label[i] < pl[i]) above++;
  }
  const n = te.label.length;
  assert.ok(Math.abs(below / n - 0.9) < 0.03, `P(y <= q90) = ${below / n}`);
  assert.ok(Math.abs(above / n - 0.1) < 0.03, `P(y < q10) = ${above / n}`);
  assert.match(hi.toString(), /objective=quantile/);
  const h = hi.evalHistory.filter((e) => e.metric === 'quantile');
  assert.is(h.length, 60);
  assert.ok(h[59].value < h[0].value);
});

t('early stopping keeps the best iteration (LightGBM core semantics)', async () => {
  const seen: IterationInfo[] = [];
  const b = await train(
    {
      objective: 'regression',
      num_iterations: 500,
      learning_rate: 0.5,
      num_leaves: 63,
      min_data_in_leaf: 5,
      early_stopping_round: 5,
      metric: 'l2',
    },
    trainSet,
    {
      valid: [validSet],
      callbacks: [
        (i) => {
          seen.push(i);
        },
      ],
    },
  );
  assert.ok(b.bestIteration > 0 && b.bestIteration < 100, `best ${b.bestIteration}`);
  assert.is(b.numTrees, b.bestIteration);
  assert.is(seen.length, b.bestIteration + 5);
  const l2 = b.evalHistory.map((e) => e.value);
  const best = Math.min(...l2);
  assert.is(l2[b.bestIteration - 1], best);
});

t('a callback returning true stops training', async () => {
  const b = await train({ num_iterations: 50, learning_rate: 0.1 }, trainSet, {
    valid: [validSet],
    callbacks: [(i) => i.iteration >= 3],
  });
  assert.is(b.numTrees, 3);
});

t.run();
