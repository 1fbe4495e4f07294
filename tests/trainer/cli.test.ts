import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseConfigText } from '../../trainer/application/gbdt.ts';
import { Booster } from '../../trainer/boosting/booster.ts';
import { FIXTURES, readFixture, readPredictions, runGbdt } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpm-gbdt-'));

const t = suite('trainer: dpm gbdt (LightGBM CLI)');

t('--help prints usage with an example', async () => {
  const r = await runGbdt(['--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /Usage: dpm gbdt config=/);
  assert.match(r.stdout, /Example:/);
});

t('the reference LightGBM config parses (comments, spaces)', () => {
  const kv = parseConfigText(`${readFixture('params_huber.conf')}\n# comment\n`, 'params_huber.conf');
  assert.is(kv.objective, 'huber');
  assert.is(kv.num_trees, '200');
  assert.is(kv.categorical_feature, '3');
});

t('task=train logs validation metrics like LightGBM and writes a model LightGBM-format', async () => {
  const model = join(dir, 'model.txt');
  const r = await runGbdt([
    `config=${FIXTURES}dpm_small.conf`,
    `data=${FIXTURES}train.csv.gz`,
    `valid=${FIXTURES}test.csv.gz`,
    `output_model=${model}`,
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\[LightGBM\] \[Info\] Iteration:10, valid_1 l1 : \d+(\.\d+)?\n\[LightGBM\] \[Info\] Iteration:10, valid_1 l2 : /,
  );
  assert.match(r.stdout, /Iteration:20, valid_1 l1 : /);
  assert.not.match(r.stdout, /Iteration:5,/);
  const text = readFileSync(model, 'utf8');
  assert.ok(text.startsWith('tree\nversion=v4\n'));
  assert.is(Booster.fromString(text).numTrees, 20);
  assert.match(text, /\[objective: huber\]/);
});

t("task=predict with a LightGBM model writes LightGBM's predictions", async () => {
  const modelPath = join(dir, 'lgb_model.txt');
  writeFileSync(modelPath, readFixture('lightgbm_model_fair.txt.gz'));
  const outPath = join(dir, 'pred.txt');
  const r = await runGbdt([
    'task=predict',
    `data=${FIXTURES}test.csv.gz`,
    'header=true',
    `input_model=${modelPath}`,
    `output_result=${outPath}`,
  ]);
  assert.is(r.code, 0, r.stderr);
  const got = readFileSync(outPath, 'utf8').trim().split('\n').map(Number);
  const want = readPredictions('fair');
  assert.is(got.length, want.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-9 * Math.abs(want[i]), `row ${i}`);
});

t('predict_contrib writes features + expected value per row', async () => {
  const modelPath = join(dir, 'lgb_model2.txt');
  writeFileSync(modelPath, readFixture('lightgbm_model_huber.txt.gz'));
  const small = join(dir, 'small.csv.gz');
  writeFileSync(small, gzipSync(`${readFixture('test.csv.gz').split('\n').slice(0, 11).join('\n')}\n`));
  const outPath = join(dir, 'contrib.txt');
  const r = await runGbdt([
    'task=predict',
    'predict_contrib=true',
    `data=${small}`,
    'header=true',
    `input_model=${modelPath}`,
    `output_result=${outPath}`,
  ]);
  assert.is(r.code, 0, r.stderr);
  const rows = readFileSync(outPath, 'utf8').trim().split('\n');
  assert.is(rows.length, 10);
  const first = rows[0].split('\t').map(Number);
  assert.is(first.length, 25);
  const want = readPredictions('huber')[0];
  assert.ok(Math.abs(first.reduce((a, b) => a + b, 0) - want) < 1e-9 * Math.abs(want));
});

t('usage errors exit 2, data errors exit 1, each with a message', async () => {
  let r = await runGbdt(['num_leaves=1', `data=${FIXTURES}train.csv.gz`]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /num_leaves.*\[2, 131072\]/);
  r = await runGbdt(['bogus_key=3']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown parameter "bogus_key"/);
  r = await runGbdt(['notkeyvalue']);
  assert.is(r.code, 2);
  r = await runGbdt(['task=train', `data=${join(dir, 'missing.csv')}`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot read data file/);
  const trunc = join(dir, 'trunc.txt');
  writeFileSync(trunc, readFixture('lightgbm_model_fair.txt.gz').slice(0, 5000));
  r = await runGbdt([
    'task=predict',
    `data=${FIXTURES}test.csv.gz`,
    'header=true',
    `input_model=${trunc}`,
    `output_result=${join(dir, 'x.txt')}`,
  ]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /truncated/);
});

t.run();
