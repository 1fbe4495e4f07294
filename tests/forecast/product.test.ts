// train, predict and the pipeline on a small simulated firm landed straight into raw.* and built once per target:
// the registry round-trips a model, predictions are reproducible per model version and idempotent per date,
// and `dpm pipeline` logs every stage, changes nothing on --dry-run, reruns finished stages with --force and
// otherwise resumes at a failed stage.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateFirm } from '../../sim/firm.ts';
import type { Database } from '../../runner/db/connect.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { toDataset } from '../../forecast/cross-validate.ts';
import { readMatrix } from '../../forecast/matrix.ts';
import { loadModel, registerModel } from '../../forecast/registry.ts';
import { trainAndRegister } from '../../forecast/train-model.ts';
import { predictDay } from '../../forecast/predict-model.ts';
import { createLogger } from '../../runner/log.ts';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { landFirm } from '../models/_land.ts';
import { modelProject, ok, type ModelProject } from '../models/_helpers.ts';

// 30 days leave about 20 feature days of eligible funded accounts (7 trading days of history first): enough for
// two folds of three days. A handful of trees keeps every fit quick.
const FIRM = { seed: 5, accounts: 40, days: 30, startDate: '2024-01-01' };
const END = '2024-01-31';
const TRAIN = ['--folds', '2', '--valid-days', '3'];
const PREDICTED_DAY = '2024-01-25';

const quiet = createLogger({ level: 'error' });
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const predictions = (db: Database, version: string) =>
  db.knex
    .raw(
      `select account_id, feature_date::text, prediction_date::text, predicted_net_profit,
       lower_bound, upper_bound, high_risk, top_reasons::text
     from dpm.model_predictions where model_version = ? and feature_date = ?::date order by account_id`,
      [version, PREDICTED_DAY],
    )
    .then((r: { rows: unknown[] }) => r.rows);
const activeVersion = (db: Database) =>
  db
    .knex('dpm.model_registry')
    .where({ is_active: true })
    .first()
    .then((r) => r.model_version as string);
const stageRows = (db: Database) =>
  db
    .knex('dpm.pipeline_runs')
    .orderBy('id')
    .select('run_id', 'stage', 'status', 'started_at', 'ended_at', 'rows', 'error');

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] product: train, predict, pipeline`);
  const ctx: { p?: ModelProject } = {};
  const p = () => ctx.p!;
  test.before(async () => {
    ctx.p = await modelProject(kind);
    await p().withDb((db) => landFirm(db, generateFirm(FIRM), 0, FIRM.days - 1));
    ok(await p().dpm(['build', '--start-date', FIRM.startDate, '--end-date', END]), 'dpm build');
  });
  test.after(async () => {
    await ctx.p?.dispose();
  });

  test(`[${kind}] the registry round-trips a model: text, parameters, features, metrics and predictions`, async () => {
    await p().withDb(async (db) => {
      const m = await readMatrix(db.knex, { schema: 'training', table: 'model_training_input' });
      assert.ok(m.n > 300, `${m.n} training rows`);
      const params = {
        objective: 'huber',
        alpha: 50,
        num_iterations: 8,
        num_leaves: 7,
        min_data_in_leaf: 10,
        verbosity: -1,
      };
      const model = await train(params, toDataset(m));
      const [lower, upper] = [
        await train({ ...params, objective: 'quantile', alpha: 0.05 }, toDataset(m)),
        await train({ ...params, objective: 'quantile', alpha: 0.95 }, toDataset(m)),
      ];
      const cvMetrics = { mean_mae: 12.5, folds: [{ mae: 12.5 }] };
      const importance = m.features.map((f, i) => ({
        feature: f.name,
        gain: model.featureImportance('gain')[i],
        split: model.featureImportance('split')[i],
      }));
      const dir = await registerModel(
        db.knex,
        {
          modelVersion: 'v1_round_trip',
          objective: 'huber',
          trainStart: m.dates[0],
          trainEnd: m.dates[m.n - 1],
          params,
          features: m.features,
          cvMetrics,
          baselineMetrics: { zero: { mae: 13 } },
          featureImportance: importance,
          model,
          lower,
          upper,
        },
        join(p().dir, 'model_artifacts'),
      );
      const back = await loadModel(db.knex, 'v1_round_trip');
      assert.is(back.model.toString(), model.toString());
      assert.is(back.lower!.toString(), lower.toString());
      assert.is(back.upper!.toString(), upper.toString());
      assert.equal(back.params, params);
      assert.equal(back.features, m.features);
      assert.ok(
        m.features.some((f) => f.levels?.length),
        'categorical levels are part of the round trip',
      );
      assert.equal(back.model.predict(m.columns), model.predict(m.columns));
      assert.equal(back.upper!.predict(m.columns), upper.predict(m.columns));
      const row = await db.knex('dpm.model_registry').where({ model_version: 'v1_round_trip' }).first();
      assert.is(row.is_active, true);
      assert.equal(json(row.cv_metrics), cvMetrics);
      assert.equal(json(row.baseline_metrics), { zero: { mae: 13 } });
      assert.is(readFileSync(join(dir, 'model.txt'), 'utf8'), model.toString());
      assert.equal(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).features, m.features);
    });
  });

  test(`[${kind}] predictions are reproducible for a model version; re-running a date replaces its rows`, async () => {
    // In process (the functions dpm train / dpm predict call) on one connection, sparing a CLI start per step.
    await p().withDb(async (db) => {
      const base = {
        folds: 2,
        validDays: 3,
        earlyStopping: 10,
        tune: false,
        trials: 1,
        intervals: true,
        artifactsDir: join(p().dir, 'model_artifacts'),
        seed: 42,
      };
      const first = (await trainAndRegister(db.knex, base, quiet)).modelVersion;
      const predict = (modelVersion?: string) =>
        predictDay(db.knex, { date: PREDICTED_DAY, modelVersion, topReasons: 5 }, quiet);
      await predict();
      const once = await predictions(db, first);
      assert.ok(once.length > 5, `${once.length} accounts predicted`);
      const row = once[0] as {
        lower_bound: number;
        upper_bound: number;
        predicted_net_profit: number;
        top_reasons: string;
      };
      assert.ok(
        row.lower_bound <= row.predicted_net_profit && row.predicted_net_profit <= row.upper_bound,
        'the interval holds the forecast',
      );
      const reasons = JSON.parse(row.top_reasons);
      assert.ok(reasons.length > 0 && reasons.length <= 5, 'top reasons');
      await predict();
      assert.equal(await predictions(db, first), once, 'same rows, not duplicated');
      // A newer model becomes active; the old version, loaded back from the registry, still predicts exactly
      // what it did.
      await new Promise((r) => setTimeout(r, 1100)); // versions are named to the second
      const second = (await trainAndRegister(db.knex, { ...base, intervals: false, seed: 7 }, quiet)).modelVersion;
      assert.is.not(second, first);
      assert.is(await activeVersion(db), second);
      await predict(first);
      assert.equal(await predictions(db, first), once);
      const total = await db.knex('dpm.model_predictions').where({ feature_date: PREDICTED_DAY }).count({ n: '*' });
      assert.is(Number(total[0].n), once.length, 'the new model has not predicted this date yet');
    });
  });

  test(
    `[${kind}] dpm train --tune: the trials run and are logged, the best one's parameters are registered; ` +
      '--tune needs two folds',
    async () => {
      const r = await p().dpm(['train', '--tune', '--trials', '3', ...TRAIN, '--no-intervals', '--seed', '5']);
      ok(r, 'dpm train --tune');
      const out = r.stdout + r.stderr;
      for (const t of [1, 2, 3]) assert.match(out, new RegExp(`trial ${t}/3: (MAE \\d|pruned)`));
      const best = /best trial: MAE [\d.]+ with (\{.*\})/.exec(out);
      assert.ok(best, out.slice(-1500));
      const chosen = JSON.parse(best![1]) as Record<string, number | string>;
      const row = await p().withDb((db) => db.knex('dpm.model_registry').where({ is_active: true }).first());
      const params = json(row.params) as Record<string, number | string>;
      for (const k of ['objective', 'num_leaves', 'learning_rate', 'min_data_in_leaf'])
        assert.is(params[k], chosen[k], k);
      const refused = await p().dpm(['train', '--tune', '--trials', '2', '--folds', '1', '--valid-days', '3']);
      assert.is(refused.code, 2);
      assert.match(refused.stderr, '--tune needs --folds 2 or more');
    },
  );

  test(
    `[${kind}] dpm pipeline: --dry-run runs nothing; a failed build is logged, ` +
      '--force reruns finished stages, a rerun resumes at the failure',
    async () => {
      const stages = ['--stages', 'seed', 'build', 'train', 'predict', '--end-date', END, ...TRAIN];
      const before = await p().withDb(stageRows);
      const dry = await p().dpm(['pipeline', ...stages, '--dry-run']);
      ok(dry, 'dpm pipeline --dry-run');
      for (const s of ['seed', 'build', 'train', 'predict'])
        assert.match(dry.stdout, new RegExp(`\\[dry-run\\] ${s}: `));
      assert.equal(await p().withDb(stageRows), before, '--dry-run writes no stage row');

      // A staging model that references a missing column fails the build stage honestly (and early: all else is
      // downstream).
      const file = join(p().dir, 'models', 'staging', 'stg_plans.sql');
      const good = readFileSync(file, 'utf8');
      writeFileSync(file, good.replace('description as plan_name', 'no_such_column as plan_name'));
      const failed = await p().dpm(['pipeline', ...stages]);
      assert.is(failed.code, 1, failed.stdout.slice(-2000));
      assert.match(failed.stdout + failed.stderr, /Rerun the same command to resume at build/);
      const afterFail = (await p().withDb(stageRows)).slice(before.length);
      assert.equal(
        afterFail.map((r) => [r.stage, r.status]),
        [
          ['seed', 'success'],
          ['build', 'failed'],
        ],
      );
      assert.ok(
        afterFail.every((r) => r.started_at && r.ended_at && r.ended_at >= r.started_at),
        'start and end recorded',
      );
      assert.match(afterFail[1].error, /dpm build finished with exit code 1/);
      assert.is(afterFail[0].error, null);

      // --force does not resume: the seed stage the failed run had finished runs again.
      const forced = await p().dpm(['pipeline', ...stages, '--force']);
      assert.is(forced.code, 1);
      const afterForce = (await p().withDb(stageRows)).slice(before.length + 2);
      assert.equal(
        afterForce.map((r) => [r.stage, r.status]),
        [
          ['seed', 'success'],
          ['build', 'failed'],
        ],
      );

      writeFileSync(file, good);
      ok(await p().dpm(['pipeline', ...stages]), 'resumed dpm pipeline');
      const resumed = (await p().withDb(stageRows)).slice(before.length + 4);
      assert.equal(
        resumed.map((r) => [r.stage, r.status]),
        [
          ['build', 'success'],
          ['train', 'success'],
          ['predict', 'success'],
        ],
        'seed, finished by the failed run, is skipped',
      );
      assert.ok(Number(resumed[1].rows) > 300, 'train logs its training rows');
      assert.ok(Number(resumed[2].rows) > 5, 'predict logs its predicted rows');
      assert.ok(
        new Set(resumed.map((r) => r.run_id)).size === 1 && resumed[0].run_id !== afterForce[0].run_id,
        'a new run id',
      );
    },
  );

  test.run();
}
