import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Booster } from '../../trainer/boosting/booster.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { Dataset } from '../../trainer/io/dataset.ts';
import { DataError, ModelFormatError, ParameterError } from '../../trainer/utils/errors.ts';
import { resolveParams } from '../../trainer/io/params.ts';
import { readFixture } from './helpers.ts';

const t = suite('trainer: bad input is a clear error');

function throwsClass(fn: () => unknown, cls: new (...a: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, cls);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected an error');
}
async function rejectsClass(
  fn: () => Promise<unknown>,
  cls: new (...a: never[]) => Error,
  pattern: RegExp,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, cls);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected an error');
}

const cols = [Float64Array.from([1, 2, 3, 4]), Float64Array.from([0, 1, 0, 1])];

t('NaN and infinite labels are rejected with the row number', () => {
  throwsClass(() => Dataset.fromColumns({ columns: cols, label: [1, NaN, 2, 3] }), DataError, /label of row 1 is NaN/);
  throwsClass(() => Dataset.fromColumns({ columns: cols, label: [1, 2, Infinity, 3] }), DataError, /row 2 is Infinity/);
  // Finite as a double but infinite as LightGBM's float32 label.
  throwsClass(() => Dataset.fromColumns({ columns: cols, label: [1, 2, 3, 1e300] }), DataError, /row 3/);
});

t('an empty dataset and mismatched column lengths are rejected', () => {
  throwsClass(
    () => Dataset.fromColumns({ columns: [new Float64Array(0)], label: new Float64Array(0) }),
    DataError,
    /empty \(0 rows\)/,
  );
  throwsClass(() => Dataset.fromColumns({ columns: [], label: [1] }), DataError, /no feature columns/);
  throwsClass(
    () => Dataset.fromColumns({ columns: [Float64Array.from([1, 2])], label: [1, 2, 3] }),
    DataError,
    /column 0 .* has 2 values but the label has 3/,
  );
  throwsClass(
    () => Dataset.fromColumns({ columns: cols, label: [1, 2, 3, 4], categorical: ['nope'] }),
    DataError,
    /categorical feature "nope"/,
  );
});

t('predicting with a different feature count is rejected', () => {
  const b = Booster.fromString(readFixture('lightgbm_model_huber.txt.gz'));
  throwsClass(() => b.predict(cols), DataError, /expects 24 features but the input has 2 columns/);
  throwsClass(
    () => b.predict([[1, 2, 3]], { layout: 'rows' }),
    DataError,
    /row 0 has 3 values but the model expects 24/,
  );
});

t('validation sets must have the training columns', async () => {
  const ds = Dataset.fromColumns({ columns: cols, label: [1, 2, 3, 4] });
  const v = Dataset.fromColumns({ columns: [cols[0]], label: [1, 2, 3, 4] });
  await rejectsClass(
    () => train({ num_iterations: 2 }, ds, { valid: [v] }),
    DataError,
    /validation set 1 has 1 features but the training set has 2/,
  );
});

t('truncated model files are rejected', () => {
  const text = readFixture('lightgbm_model_huber.txt.gz');
  throwsClass(() => Booster.fromString(text.slice(0, Math.floor(text.length / 2))), ModelFormatError, /truncated/);
  const cut = text.indexOf('leaf_value=', text.indexOf('Tree=199'));
  throwsClass(
    () => Booster.fromString(`${text.slice(0, cut + 40)}\nend of trees\n`),
    ModelFormatError,
    /tree 199: .*(leaf_value|missing|truncated)/,
  );
  throwsClass(() => Booster.fromString(''), ModelFormatError, /empty/);
  throwsClass(() => Booster.fromString('hello world'), ModelFormatError, /not a LightGBM text model/);
});

t('model files of another format version or kind are rejected', () => {
  const text = readFixture('lightgbm_model_huber.txt.gz');
  throwsClass(
    () => Booster.fromString(text.replace('version=v4', 'version=v2')),
    ModelFormatError,
    /version "v2" is not supported/,
  );
  throwsClass(() => Booster.fromString(text.replace('version=v4', 'version=v5')), ModelFormatError, /v5/);
  throwsClass(() => Booster.fromString(text.replace('num_class=1', 'num_class=3')), ModelFormatError, /num_class=3/);
  throwsClass(
    () => Booster.fromString(text.replace('objective=huber', 'objective=binary sigmoid:1')),
    ModelFormatError,
    /objective "binary sigmoid:1" is not supported/,
  );
});

t('unknown and out-of-range parameters name the parameter and its range', () => {
  throwsClass(
    () => resolveParams({ num_leaf: 1 }),
    ParameterError,
    /"num_leaves" \(given as "num_leaf"\) must be an integer in \[2, 131072\], got 1/,
  );
  throwsClass(
    () => resolveParams({ learning_rate: 0 }),
    ParameterError,
    /"learning_rate" must be a number in \(0, inf\]/,
  );
  throwsClass(() => resolveParams({ bagging_fraction: 1.5 }), ParameterError, /bagging_fraction.*\(0, 1\]/);
  throwsClass(
    () => resolveParams({ objective: 'poisson' }),
    ParameterError,
    /objective.*one of regression, regression_l1, huber, fair, quantile/,
  );
  throwsClass(() => resolveParams({ num_leavs: 31 }), ParameterError, /unknown parameter "num_leavs"/);
  throwsClass(() => resolveParams({ num_trees: 5, n_estimators: 6 }), ParameterError, /given twice/);
  throwsClass(() => resolveParams({ metric: 'auc' }), ParameterError, /unknown metric "auc"/);
  throwsClass(() => resolveParams({ objective: 'quantile', alpha: 1.5 }), ParameterError, /alpha.*\(0, 1\)/);
  const p = resolveParams({ n_estimators: '7', objective: 'mae', metric: 'mse,l2_root', header: 'true' });
  assert.is(p.num_iterations, 7);
  assert.is(p.objective, 'regression_l1');
  assert.equal(p.metric, ['l2', 'rmse']);
  assert.is(p.header, true);
});

t.run();
