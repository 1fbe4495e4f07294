// dpm gbdt's data files, streamed (trainer/io/text-loader.ts): every format gives the model that the in-memory
// path (Dataset.fromColumns) trains on the same values, and line breaks at any chunk edge change nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { train } from '../../trainer/boosting/boosting.ts';
import { Dataset } from '../../trainer/io/dataset.ts';
import { resolveParams } from '../../trainer/io/params.ts';
import { loadTrainingFile, readTextColumns } from '../../trainer/io/text-loader.ts';
import { g6 } from '../../trainer/utils/format.ts';
import { readFixture, runGbdt } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpm-data-files-'));
const write = (name: string, text: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

// 3 000 rows of the reference data (label first, 24 features, feature 3 categorical, empty cells missing);
// the bins come from a 1 000-row sample, so the sampled rows must be the same ones on both paths.
const lines = readFixture('train.csv.gz').trim().split('\n');
const header = lines[0];
const rows = lines.slice(1, 3001);
const validRows = lines.slice(3001, 4001);
const csv = write('train.csv', `${[header, ...rows].join('\n')}\n`);
const validCsv = write('valid.csv', `${[header, ...validRows].join('\n')}\n`);
const PARAMS = {
  objective: 'huber',
  alpha: 150,
  num_iterations: 8,
  num_leaves: 15,
  min_data_in_leaf: 20,
  bin_construct_sample_cnt: 1000,
  bagging_fraction: 0.8,
  bagging_freq: 1,
  feature_fraction: 0.8,
  seed: 3,
  num_threads: 1,
  verbosity: -1,
};
const confLines = Object.entries(PARAMS).map(([k, v]) => `${k} = ${v}`);

let modelNo = 0;
/** dpm gbdt on a file with the test's parameters plus `extra` config lines; returns the model text. */
async function cliModel(data: string, extra: string[]): Promise<string> {
  const out = join(dir, `model-${modelNo++}.txt`);
  const conf = write(`train-${modelNo}.conf`, [...confLines, ...extra].join('\n'));
  const r = await runGbdt([`config=${conf}`, `data=${data}`, `output_model=${out}`]);
  assert.is(r.code, 0, r.stderr);
  return readFileSync(out, 'utf8');
}

/** The in-memory path on the CSV's values: label column 0, feature 3 categorical. */
const table = await readTextColumns(csv, { header: true, labelColumn: '0' });
async function memoryModel(names: string[] | undefined, change?: (columns: Float64Array[]) => void): Promise<string> {
  const columns = table.columns.map((c) => c.slice());
  change?.(columns);
  const ds = Dataset.fromColumns({ columns, featureNames: names, categorical: [3], label: table.label! });
  return (await train({ ...PARAMS, categorical_feature: '3' }, ds)).toString();
}
const named = await memoryModel(table.names);
const unnamed = await memoryModel(undefined);

const t = suite('trainer: data files, streamed');

t('CSV with a header: the model text of the in-memory path', async () => {
  const text = await cliModel(csv, ['header = true', 'categorical_feature = 3']);
  assert.is(text, named);
});

t('gzip, TSV, space-separated and LibSVM give the same model', async () => {
  const noHeader = rows.map((r) => r.split(','));
  const gz = write('train.csv.gz', gzipSync(`${[header, ...rows].join('\n')}\n`));
  assert.is(await cliModel(gz, ['header = true', 'categorical_feature = 3']), named);
  const tsv = write('train.tsv', `${noHeader.map((c) => c.join('\t')).join('\n')}\n`);
  assert.is(await cliModel(tsv, ['categorical_feature = 3']), unnamed);
  const spaces = write('train.txt', `${noHeader.map((c) => c.map((v) => v || 'nan').join(' ')).join('\n')}\n`);
  assert.is(await cliModel(spaces, ['categorical_feature = 3']), unnamed);
  const svm = noHeader.map((c) => {
    const pairs = c.slice(1).flatMap((v, i) => (v === '' ? [`${i}:nan`] : Number(v) === 0 ? [] : [`${i}:${v}`]));
    return [c[0], ...pairs].join(' ');
  });
  const libsvm = write('train.svm', `${svm.join('\n')}\n`);
  assert.is(await cliModel(libsvm, ['categorical_feature = 3']), unnamed);
});

t('label_column by name in the middle, categorical_feature and ignore_column by name', async () => {
  const cells = [header, ...rows].map((r) => r.split(','));
  // Move the label to the 6th column: the features keep their order.
  const moved = cells.map((c) => [...c.slice(1, 6), c[0] === 'label' ? 'target' : c[0], ...c.slice(6)].join(','));
  const path = write('moved.csv', `${moved.join('\n')}\n`);
  const text = await cliModel(path, ['header = true', 'label_column = name:target', 'categorical_feature = name:f3']);
  assert.is(text.replace('[categorical_feature: name:f3]', '[categorical_feature: 3]'), named);
  const ignored = await cliModel(path, [
    'header = true',
    'label_column = name:target',
    'categorical_feature = 3',
    'ignore_column = name:f0,f7',
  ]);
  // An ignored feature keeps its place (feature_infos "none") and is never split on: as an all-zero column.
  const zeroed = await memoryModel(table.names, (c) => {
    c[0].fill(0);
    c[7].fill(0);
  });
  assert.is(ignored, zeroed);
  assert.match(ignored, /feature_infos=none /);
});

t("a validation file is binned with the training set's mappers and scored like the in-memory path", async () => {
  const conf = write(
    'valid.conf',
    [...confLines, 'header = true', 'categorical_feature = 3', 'verbosity = 1'].join('\n'),
  );
  const r = await runGbdt([`config=${conf}`, `data=${csv}`, `valid=${validCsv}`, `output_model=${join(dir, 'v.txt')}`]);
  assert.is(r.code, 0, r.stderr);
  const v = await readTextColumns(validCsv, { header: true, labelColumn: '0' });
  const ds = Dataset.fromColumns({ columns: table.columns, categorical: [3], label: table.label! });
  const vs = Dataset.fromColumns({ columns: v.columns, categorical: [3], label: v.label! });
  const logged = [...r.stdout.matchAll(/Iteration:(\d+), valid_1 huber : (\S+)/g)].map((m) => m[2]);
  const want = (await train(PARAMS, ds, { valid: [vs] })).evalHistory.map((e) => g6(e.value));
  assert.is(logged.length, PARAMS.num_iterations);
  assert.equal(logged, want);
});

t('line breaks at chunk edges, CRLF, empty lines and no final line break change nothing', async () => {
  const p = resolveParams(PARAMS);
  const o = { header: true, labelColumn: '0', categorical: ['3'] };
  const few = rows.slice(0, 150);
  const plain = write('few.csv', `${[header, ...few].join('\n')}\n`);
  const want = await loadTrainingFile(plain, o, p);
  const crlf = write('crlf.csv', [header, ...few.slice(0, 10), '', ...few.slice(10)].join('\r\n'));
  for (const chunkSize of [1, 7, 64, 1000]) {
    for (const path of [plain, crlf]) {
      const got = await loadTrainingFile(path, { ...o, chunkSize }, p);
      assert.equal(got.label, want.label, `${path} chunk ${chunkSize}`);
      assert.equal(got.binned!.rowBins, want.binned!.rowBins, `${path} chunk ${chunkSize}`);
    }
  }
  const gz = write('crlf.csv.gz', gzipSync(readFileSync(crlf)));
  const got = await loadTrainingFile(gz, { ...o, chunkSize: 5 }, p);
  assert.equal(got.binned!.rowBins, want.binned!.rowBins);
});

t('two_round is accepted and gives the same model', async () => {
  assert.is(await cliModel(csv, ['header = true', 'categorical_feature = 3', 'two_round = true']), named);
});

t('a bad line names file:line and what is expected; bad column options exit 2', async () => {
  const bad = [header, ...rows.slice(0, 5)];
  bad.push(rows[5].replace(/^[^,]*/, 'abc'));
  const badToken = write('bad-token.csv', `${bad.join('\n')}\n`);
  let r = await runGbdt([`data=${badToken}`, 'header=true']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /bad-token\.csv:7: unknown token "abc"; numbers, empty cells or na\/nan\/null are expected/);
  // A bad row outside the bin sample (2 of 60 rows) is still found, by the pass that bins every row.
  const late = [header, ...rows.slice(0, 60)];
  late[45] = late[45].replace(/,[^,]*$/, ',abc');
  const lateBad = write('late-bad.csv', `${late.join('\n')}\n`);
  const lateModel = join(dir, 'late-model.txt');
  r = await runGbdt([`data=${lateBad}`, 'header=true', 'bin_construct_sample_cnt=2', `output_model=${lateModel}`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /late-bad\.csv:46: unknown token "abc"/);
  assert.not.ok(existsSync(lateModel), 'no model is written');
  const short = write('short.csv', `${[header, rows[0], rows[1].split(',').slice(0, 10).join(',')].join('\n')}\n`);
  r = await runGbdt([`data=${short}`, 'header=true']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /short\.csv:3: 10 fields, expected 25/);
  const nanLabel = write('nan-label.csv', `${[header, rows[0], rows[1].replace(/^[^,]*/, '')].join('\n')}\n`);
  r = await runGbdt([`data=${nanLabel}`, 'header=true']);
  assert.match(r.stderr, /nan-label\.csv:3: the label is NaN; labels must be finite/);
  r = await runGbdt([`data=${csv}`, 'header=true', 'label_column=name:nope']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /label_column=name:nope: no column named "nope"/);
  r = await runGbdt([`data=${csv}`, 'header=true', 'ignore_column=99']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /ignore_column: "99" is not a feature index 0\.\.23/);
  r = await runGbdt([`data=${csv}`, 'header=true', 'weight_column=2']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /sample weights are not implemented/);
});

t.run();
