// dpm predict --evaluate on a tiny case computed by hand: ten accounts, one feature day, the outcomes, the
// baselines' inputs and the oracle written into the tables it joins, every figure checked against arithmetic
// done in the comments below. Runs on both targets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Database } from '../../runner/db/connect.ts';
import { migrateLatest } from '../../migrations/migrate.ts';
import { createLogger } from '../../runner/log.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { Dataset } from '../../trainer/io/dataset.ts';
import { evaluatePredictions } from '../../forecast/evaluate-model.ts';
import { registerModel } from '../../forecast/registry.ts';
import { TARGET_KINDS, freshTarget, type TestTarget } from '../helpers/databases.ts';

// Row i: account, actual PnL on 2024-01-11, prediction with interval, yesterday's PnL (2024-01-10), 7-day mean, oracle.
// a03 has no feature row, so its baselines fall back to 0 (as for an account without history).
// std30 is the trailing 30-day standard deviation (the naive risk score); the oracle's 5% and 95% quantiles are
// its median -100 and +100.
const ROWS = [
  { id: 'a01', actual: 100, pred: 80, lower: 0, upper: 150, yesterday: 50, mean7: 40, std30: 40, oracle: 30 },
  { id: 'a02', actual: -50, pred: -40, lower: -100, upper: 0, yesterday: -20, mean7: -10, std30: 60, oracle: -5 },
  { id: 'a03', actual: 0, pred: 5, lower: -10, upper: 10, yesterday: null, mean7: null, std30: null, oracle: 0 },
  { id: 'a04', actual: 20, pred: -10, lower: -50, upper: 30, yesterday: 10, mean7: 5, std30: 10, oracle: 0 },
  {
    id: 'a05',
    actual: -200,
    pred: -150,
    lower: -300,
    upper: -100,
    yesterday: -100,
    mean7: -60,
    std30: 50,
    oracle: -40,
  },
  { id: 'a06', actual: 300, pred: 100, lower: 0, upper: 200, yesterday: 200, mean7: 80, std30: 90, oracle: 50 },
  { id: 'a07', actual: 10, pred: 0, lower: -5, upper: 20, yesterday: 0, mean7: 2, std30: 5, oracle: 0 },
  { id: 'a08', actual: -10, pred: -20, lower: -30, upper: 0, yesterday: 10, mean7: -4, std30: 20, oracle: 0 },
  { id: 'a09', actual: 0, pred: 0, lower: -5, upper: 5, yesterday: 30, mean7: 6, std30: 15, oracle: 0 },
  { id: 'a10', actual: 50, pred: 110, lower: 0, upper: 40, yesterday: 20, mean7: 10, std30: 30, oracle: 10 },
];

// By hand (n = 10; decile capture takes k = 1 row: the single most extreme one):
// model      errors 20,-10,-5,30,-50,200,10,10,0,-60  |e| sum 395  e² sum 47725
//            signs agree on a01 a02 a05 a06 a08 a09 a10 = 7
//            worst predicted a05 = worst actual a05 -> bottom 1; best predicted a10 (110) != best actual a06 -> top 0
//            inside the interval: all but a06 (300 > 200) and a10 (50 > 40) = 8
//            widths 150+100+20+80+200+200+25+30+10+40 = 855
// zero       |e| sum 740  e² sum 145600  sign hits a03 a09 = 2; ties all at 0 pick a01 first -> bottom 0, top 0
// yesterday  errors 50,-30,0,10,-100,100,10,-20,-30,30  |e| 380  e² 25800
//            misses a07 a08 a09 -> 7; a05 and a06 extreme -> 1, 1
// 7-day mean errors 60,-40,0,15,-140,220,8,-6,-6,40  |e| 535  e² 75161
//            miss a09 only -> 9; a05 and a06 extreme -> 1, 1
// oracle     errors 70,-45,0,20,-160,250,10,-10,0,40  |e| 605  e² 97225
//            misses a04 a07 a08 -> 7; a05 and a06 extreme -> 1, 1
//            outside [q05, q95]: a05 (-200 < -140), a06 (300 > 150) -> 0.8; every width 200
// Risk (k = 1): the largest loss is a05's. The model's risk score is -lower, highest for a05 -> capture 1/1;
// the oracle's -q05 is highest for a05 (140) -> 1/1; the naive std30 is highest for a06 (90) -> 0/1.
// Spearman with max(0, -actual), ranks from 0 with ties averaged; loss ranks 3 x7 (the zeros), a08 7, a02 8,
// a05 9 (mean 4.5, sum of squared deviations 54.5):
//   model  -lower ranks a01 a06 a10 1, a07 a09 3.5, a03 5, a08 6, a04 7, a02 8, a05 9: cross 50.5, sxx 80
//   naive  ranks a03 0, a07 1, a04 2, a09 3, a08 4, a10 5, a01 6, a05 7, a02 8, a06 9: cross 30.5, sxx 82.5
//   oracle ranks a06 0, a01 1, a10 2, five at 100 5, a02 8, a05 9: cross 46.5, sxx 72.5
// Pinball: model lower, actual - lower all >= 0, sum 720 -> 0.05 x 720 / 10 = 3.6; upper: above a06 100,
//   a10 10 -> 0.95 x 110, below sum 245 -> 0.05 x 245: 116.75 / 10. Oracle q05: a05 60 below (0.95 x 60),
//   the rest 1235 above (0.05 x 1235): 118.75 / 10; q95: a06 150 above, the rest 975 below: 191.25 / 10.
const spearmanOf = (cross: number, sxx: number) => cross / Math.sqrt(sxx * 54.5);
const EXPECTED = {
  model: {
    n: 10,
    mae: 39.5,
    rmse: Math.sqrt(4772.5),
    directional_accuracy: 0.7,
    bottom_decile_capture: 1,
    top_decile_capture: 0,
    interval_coverage: 0.8,
    mean_interval_width: 85.5,
    pinball_05: 3.6,
    pinball_95: 11.675,
    downside_hits: 1,
    downside_losses: 1,
    downside_capture: 1,
    spearman_loss: spearmanOf(50.5, 80),
  },
  zero: {
    n: 10,
    mae: 74,
    rmse: Math.sqrt(14560),
    directional_accuracy: 0.2,
    bottom_decile_capture: 0,
    top_decile_capture: 0,
  },
  yesterday: {
    n: 10,
    mae: 38,
    rmse: Math.sqrt(2580),
    directional_accuracy: 0.7,
    bottom_decile_capture: 1,
    top_decile_capture: 1,
  },
  mean_7d: {
    n: 10,
    mae: 53.5,
    rmse: Math.sqrt(7516.1),
    directional_accuracy: 0.9,
    bottom_decile_capture: 1,
    top_decile_capture: 1,
  },
  oracle: {
    n: 10,
    mae: 60.5,
    rmse: Math.sqrt(9722.5),
    directional_accuracy: 0.7,
    bottom_decile_capture: 1,
    top_decile_capture: 1,
    interval_coverage: 0.8,
    mean_interval_width: 200,
    pinball_05: 11.875,
    pinball_95: 19.125,
    downside_hits: 1,
    downside_losses: 1,
    downside_capture: 1,
    spearman_loss: spearmanOf(46.5, 72.5),
  },
  naiveRisk: {
    downside_hits: 0,
    downside_losses: 1,
    downside_capture: 0,
    spearman_loss: spearmanOf(30.5, 82.5),
  },
};

function assertScores(actual: Record<string, unknown>, expected: Record<string, number>, what: string): void {
  assert.equal(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: figures`);
  for (const [k, v] of Object.entries(expected))
    assert.ok(Math.abs(Number(actual[k]) - v) < 1e-9, `${what}.${k}: ${actual[k]} != ${v}`);
}

/**
 * The tables evaluatePredictions joins, holding just the hand-made rows; a tiny registered model to own the
 * predictions.
 */
async function prepare(db: Database, artifacts: string): Promise<string> {
  await migrateLatest(db.knex);
  await db.knex.raw('create schema intermediate; create schema features');
  await db.knex.raw(
    'create table intermediate.int_account_snapshots_daily (account_id text, date date, net_profit double precision)',
  );
  await db.knex.raw(
    'create table features.feature_store_account_daily ' +
      '(account_id text, date date, net_profit double precision, pnl_avg_7d double precision, ' +
      'pnl_std_30d double precision)',
  );
  await db
    .knex('intermediate.int_account_snapshots_daily')
    .insert(ROWS.map((r) => ({ account_id: r.id, date: '2024-01-11', net_profit: r.actual })));
  await db.knex('features.feature_store_account_daily').insert(
    ROWS.filter((r) => r.yesterday !== null).map((r) => ({
      account_id: r.id,
      date: '2024-01-10',
      net_profit: r.yesterday,
      pnl_avg_7d: r.mean7,
      pnl_std_30d: r.std30,
    })),
  );
  const x = Float64Array.from({ length: 40 }, (_, i) => i);
  const model = await train(
    { objective: 'regression_l1', num_iterations: 2, min_data_in_leaf: 5, verbosity: -1 },
    Dataset.fromColumns({ columns: [x], featureNames: ['x'], label: x }),
  );
  const version = 'v1_hand_case';
  await registerModel(
    db.knex,
    {
      modelVersion: version,
      objective: 'regression_l1',
      trainStart: '2024-01-01',
      trainEnd: '2024-01-09',
      params: {},
      features: [{ name: 'x' }],
      cvMetrics: {},
      baselineMetrics: {},
      featureImportance: [],
      model,
    },
    artifacts,
  );
  await db.knex('dpm.model_predictions').insert(
    ROWS.map((r) => ({
      model_version: version,
      account_id: r.id,
      feature_date: '2024-01-10',
      prediction_date: '2024-01-11',
      predicted_net_profit: r.pred,
      lower_bound: r.lower,
      upper_bound: r.upper,
      high_risk: false,
      top_reasons: '[]',
    })),
  );
  // A prediction whose outcome has not arrived yet is not evaluated.
  await db.knex('dpm.model_predictions').insert({
    model_version: version,
    account_id: 'a01',
    feature_date: '2024-01-11',
    prediction_date: '2024-01-12',
    predicted_net_profit: 1,
    high_risk: false,
    top_reasons: '[]',
  });
  return version;
}

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] product: evaluation`);
  const dir = mkdtempSync(join(tmpdir(), 'dpm-eval-'));
  let target: TestTarget;
  let db: Database;
  let version: string;
  test.before(async () => {
    target = await freshTarget(kind, dir);
    db = await connect(target.target);
    version = await prepare(db, join(dir, 'model_artifacts'));
  });
  test.after(async () => {
    await db?.close();
    await target?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    `[${kind}] MAE, RMSE, direction, interval coverage, decile capture ` +
      'and the baselines equal the hand computation',
    async () => {
      const oracle = new Map(
        ROWS.map((r) => [r.id, { median: r.oracle, q05: r.oracle - 100, q95: r.oracle + 100, expectedAbs: 0 }]),
      );
      const asked: string[] = [];
      const evaluations = await evaluatePredictions(
        db.knex,
        {
          oracle: async (day) => {
            asked.push(day);
            return oracle;
          },
        },
        createLogger({ level: 'error' }),
      );
      assert.is(evaluations.length, 1, 'only the feature day whose outcomes are known');
      assert.equal(asked, ['2024-01-11'], 'the oracle is asked about the predicted day');
      const [e] = evaluations;
      assert.is(e.featureDate, '2024-01-10');
      assert.is(e.n, 10);
      assertScores({ ...e.model }, EXPECTED.model, 'model');
      for (const name of ['zero', 'yesterday', 'mean_7d'] as const)
        assertScores({ ...e.baselines[name] }, EXPECTED[name], name);
      assertScores({ ...e.oracle }, EXPECTED.oracle, 'oracle');
      assertScores({ ...e.naiveRisk }, EXPECTED.naiveRisk, 'naive risk');
      assert.is(e.weekend, false, 'the predicted 2024-01-11 is a Thursday');

      const stored = await db.knex('dpm.model_evaluations').where({ model_version: version });
      assert.is(stored.length, 1);
      const metrics = typeof stored[0].metrics === 'string' ? JSON.parse(stored[0].metrics) : stored[0].metrics;
      const { baselines, oracle: storedOracle, naive_risk, weekend, ...model } = metrics;
      assertScores(model, EXPECTED.model, 'stored model');
      assertScores(naive_risk, EXPECTED.naiveRisk, 'stored naive risk');
      assert.is(weekend, false);
      assertScores(baselines.yesterday, EXPECTED.yesterday, 'stored yesterday');
      assertScores(storedOracle, EXPECTED.oracle, 'stored oracle');
    },
  );

  test(`[${kind}] evaluating again replaces the stored row; without a simulator there is no oracle`, async () => {
    const [e] = await evaluatePredictions(db.knex, { date: '2024-01-10' }, createLogger({ level: 'error' }));
    assert.is(e.oracle, undefined);
    const stored = await db.knex('dpm.model_evaluations').where({ model_version: version });
    assert.is(stored.length, 1);
    const metrics = typeof stored[0].metrics === 'string' ? JSON.parse(stored[0].metrics) : stored[0].metrics;
    assert.is(metrics.oracle, null);
    assert.is(metrics.mae, 39.5);
  });

  test.run();
}
