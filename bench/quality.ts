// Forecast quality on the default demo firm: runs the demo's pipeline (simulated API, embedded database,
// ingest, build, train on all but the held-out days, predict and evaluate each held-out day) and prints the
// holdout MAE of the model, each naive baseline and the simulator's oracle, pooled over every held-out
// account-day, with the model's improvement over each. Reports numbers; never fails on them.
// Usage: npx tsx bench/quality.ts [--accounts 150] [--days 90] [--holdout-days 14] [--seed 1]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../runner/log.ts';
import { demoOptions, runDemo } from '../cli/demo.ts';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string' },
    days: { type: 'string' },
    'holdout-days': { type: 'string' },
    seed: { type: 'string' },
  },
});
// The demo command's defaults: the firm the README's figures are about.
const options = demoOptions.parse({
  seed: Number(values.seed ?? 1),
  accounts: Number(values.accounts ?? 150),
  days: Number(values.days ?? 90),
  holdoutDays: Number(values['holdout-days'] ?? 14),
  keep: false,
});
const log = createLogger({ level: 'warn' });
const t0 = Date.now();
const result = await runDemo(
  { projectDir: resolve(import.meta.dirname, '..'), logLevel: 'warn', json: false, lockWait: 0 },
  options,
  log,
  true,
);
if (result.code !== 0 || !result.db) {
  console.error(`the demo pipeline failed (exit code ${result.code}); run npx dpm demo to see why`);
  process.exit(1);
}
try {
  const { rows } = await result.db.knex.raw(
    'select e.n, e.metrics from dpm.model_evaluations e join dpm.model_registry r using (model_version) ' +
      'where r.is_active order by e.feature_date',
  );
  type Scores = { n: number; mae: number };
  const days = (rows as { n: number; metrics: unknown }[]).map(
    (r) =>
      (typeof r.metrics === 'string' ? JSON.parse(r.metrics) : r.metrics) as Scores & {
        baselines: Record<string, Scores>;
        oracle: Scores | null;
      },
  );
  // A day's MAE times its row count is its sum of absolute errors, so this is the MAE over all held-out rows.
  const pooled = (pick: (d: (typeof days)[number]) => Scores | null | undefined) => {
    const scores = days.map(pick).filter((s): s is Scores => !!s && s.n > 0);
    const n = scores.reduce((a, s) => a + s.n, 0);
    return { n, mae: scores.reduce((a, s) => a + s.mae * s.n, 0) / n };
  };
  const model = pooled((d) => d);
  const lines: [string, { n: number; mae: number }][] = [
    ['model', model],
    ['zero', pooled((d) => d.baselines.zero)],
    ['yesterday', pooled((d) => d.baselines.yesterday)],
    ['7-day mean', pooled((d) => d.baselines.mean_7d)],
    ['oracle', pooled((d) => d.oracle)],
  ];
  console.log(
    `firm: seed ${options.seed}, ${options.accounts} account slots, ${options.days} days; ` +
      `held out ${result.holdout.start}..${result.holdout.end} (${days.length} days, ${model.n} account-days)`,
  );
  console.log('forecast     holdout MAE   model vs it');
  for (const [name, s] of lines) {
    const note = name === 'oracle' ? '(negative: model is worse than the best achievable)' : 'lower';
    const vs = name === 'model' ? '' : `${(((s.mae - model.mae) / s.mae) * 100).toFixed(1).padStart(6)}% ${note}`;
    console.log(`${name.padEnd(12)} ${s.mae.toFixed(2).padStart(11)}   ${vs}`);
  }
  const oracle = lines[4][1];
  const zero = lines[1][1];
  console.log(
    `model closes ${(((zero.mae - model.mae) / (zero.mae - oracle.mae)) * 100).toFixed(0)}% ` +
      'of the gap between the zero forecast and the oracle',
  );
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)}s in all)`);
} finally {
  await result.db.close();
}
