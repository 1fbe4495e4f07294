import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Booster } from '../../trainer/boosting/booster.ts';
import { OBJECTIVES, readFixture, readPredictions, readTable } from './helpers.ts';

const t = suite('trainer: LightGBM model files predict like LightGBM');

for (const objective of OBJECTIVES) {
  t(`${objective}: predictions match lightgbm_pred to 1e-9 relative`, () => {
    const booster = Booster.fromString(readFixture(`lightgbm_model_${objective}.txt.gz`));
    assert.is(booster.numTrees, 200);
    const test = readTable('test.csv.gz');
    const expected = readPredictions(objective);
    const got = booster.predict(test.columns);
    assert.is(got.length, expected.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      const rel = Math.abs(got[i] - expected[i]) / Math.max(1e-12, Math.abs(expected[i]));
      if (rel > worst) worst = rel;
    }
    assert.ok(worst <= 1e-9, `worst relative error ${worst}`);
  });
}

t('writing a loaded LightGBM model reproduces its tree blocks byte for byte', () => {
  for (const objective of OBJECTIVES) {
    const text = readFixture(`lightgbm_model_${objective}.txt.gz`);
    const booster = Booster.fromString(text);
    const ours = booster.toString();
    const cut = (s: string) => s.slice(s.indexOf('tree_sizes='), s.indexOf('end of trees'));
    assert.is(cut(ours), cut(text));
    const imp = (s: string) => s.slice(s.indexOf('feature_importances:'), s.indexOf('parameters:'));
    assert.is(imp(ours), imp(text));
  }
});

t('row and column inputs give the same predictions', () => {
  const booster = Booster.fromString(readFixture('lightgbm_model_huber.txt.gz'));
  const test = readTable('test.csv.gz');
  const rows = Array.from({ length: 50 }, (_, r) => test.columns.map((c) => c[r]));
  const a = booster.predict(rows);
  const b = booster.predict(test.columns);
  for (let r = 0; r < 50; r++) assert.is(a[r], b[r]);
});

t.run();
