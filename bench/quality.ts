// Forecast quality on the default demo firm: runs the demo's pipeline (simulated API, embedded database,
// ingest, build, train on all but the held-out days, predict and evaluate each held-out day) and prints, pooled
// over every held-out account-day: the MAE of the model, each naive baseline and the simulator's oracle (all
// days and weekend days), downside capture and Spearman of the risk scores (model, oracle, trailing 30-day std),
// pinball losses and 90% coverage by weekday and weekend, and the train stage's time. The last line sums it up.
// Reports numbers; never fails on them.
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
    'select e.metrics from dpm.model_evaluations e join dpm.model_registry r using (model_version) ' +
      'where r.is_active order by e.feature_date',
  );
  type Scores = { n: number; mae: number; interval_coverage?: number; pinball_05?: number; pinball_95?: number };
  type Risk = { downside_hits: number; downside_losses: number; spearman_loss: number };
  type Day = Scores &
    Risk & { weekend: boolean; baselines: Record<string, Scores>; oracle: (Scores & Risk) | null; naive_risk: Risk };
  const days = (rows as { metrics: unknown }[]).map(
    (r) => (typeof r.metrics === 'string' ? JSON.parse(r.metrics) : r.metrics) as Day,
  );
  // Each figure is a mean over its day's rows, so weighting by the rows gives the mean over all held-out rows.
  const pooled = <T extends { n?: number }>(
    pick: (d: Day) => T | null | undefined,
    figure: (s: T) => number | undefined,
    only: (d: Day) => boolean = () => true,
  ) => {
    const scores = days.filter(only).map((d) => ({ s: pick(d), n: d.n }));
    const known = scores.filter((x) => x.s && Number.isFinite(figure(x.s!)));
    const n = known.reduce((a, x) => a + x.n, 0);
    return known.reduce((a, x) => a + figure(x.s!)! * x.n, 0) / n;
  };
  const capture = (pick: (d: Day) => Risk | null | undefined) => {
    const risks = days.map(pick).filter((r): r is Risk => !!r);
    return risks.reduce((a, r) => a + r.downside_hits, 0) / risks.reduce((a, r) => a + r.downside_losses, 0);
  };
  const weekend = (d: Day) => d.weekend;
  const weekday = (d: Day) => !d.weekend;
  const mae = (pick: (d: Day) => Scores | null | undefined, only?: (d: Day) => boolean) =>
    pooled(pick, (s) => s.mae, only);
  const n = days.reduce((a, d) => a + d.n, 0);
  const forecasts: [string, (d: Day) => Scores | null | undefined][] = [
    ['model', (d) => d],
    ['zero', (d) => d.baselines.zero],
    ['yesterday', (d) => d.baselines.yesterday],
    ['7-day mean', (d) => d.baselines.mean_7d],
    ['oracle', (d) => d.oracle],
  ];
  console.log(
    `firm: seed ${options.seed}, ${options.accounts} account slots, ${options.days} days; ` +
      `held out ${result.holdout.start}..${result.holdout.end} (${days.length} days, ${n} account-days, ` +
      `${days.filter(weekend).length} weekend days)`,
  );
  console.log('forecast     holdout MAE   model vs it   weekday MAE   weekend MAE');
  const model = mae((d) => d);
  for (const [name, pick] of forecasts) {
    const all = mae(pick);
    const vs = name === 'model' ? ''.padEnd(11) : `${(((all - model) / all) * 100).toFixed(1).padStart(6)}% lower`;
    const [wd, we] = [mae(pick, weekday), mae(pick, weekend)];
    console.log(
      `${name.padEnd(12)} ${all.toFixed(2).padStart(11)}   ${vs}   ` +
        `${wd.toFixed(2).padStart(11)}   ${we.toFixed(2).padStart(11)}`,
    );
  }
  const [zero, oracle] = [mae((d) => d.baselines.zero), mae((d) => d.oracle)];
  const gap = ((zero - model) / (zero - oracle)) * 100;
  console.log(`model closes ${gap.toFixed(0)}% of the gap between the zero forecast and the oracle`);
  console.log('risk score                         downside capture   Spearman with loss');
  const risks: [string, (d: Day) => Risk | null | undefined][] = [
    ['model (5% quantile)', (d) => d],
    ['oracle (true 5% quantile)', (d) => d.oracle],
    ['naive (trailing 30-day std)', (d) => d.naive_risk],
  ];
  for (const [name, pick] of risks) {
    const rho = pooled(
      (d) => pick(d) && { ...pick(d)!, n: d.n },
      (r) => r.spearman_loss,
    );
    console.log(
      `${name.padEnd(34)} ${(capture(pick) * 100).toFixed(1).padStart(15)}%   ${rho.toFixed(3).padStart(18)}`,
    );
  }
  console.log('interval          pinball 5%   pinball 95%   coverage90 all   weekday   weekend');
  for (const [name, pick] of [forecasts[0], forecasts[4]]) {
    const cov = (only?: (d: Day) => boolean) => `${(pooled(pick, (s) => s.interval_coverage, only) * 100).toFixed(1)}%`;
    console.log(
      `${name.padEnd(16)} ${pooled(pick, (s) => s.pinball_05)
        .toFixed(2)
        .padStart(11)}   ` +
        `${pooled(pick, (s) => s.pinball_95)
          .toFixed(2)
          .padStart(11)}   ${cov().padStart(14)}   ` +
        `${cov(weekday).padStart(7)}   ${cov(weekend).padStart(7)}`,
    );
  }
  const { rows: stages } = await result.db.knex.raw(
    "select extract(epoch from ended_at - started_at)::float as s from dpm.pipeline_runs where stage = 'train' " +
      'order by id desc limit 1',
  );
  console.log(`train stage ${Number(stages[0]?.s).toFixed(1)}s; ${((Date.now() - t0) / 1000).toFixed(0)}s in all`);
  console.log(
    `quality: gap closed ${gap.toFixed(0)}%; weekend MAE model ${mae((d) => d, weekend).toFixed(2)} ` +
      `zero ${mae((d) => d.baselines.zero, weekend).toFixed(2)}; downside capture model ` +
      `${(capture((d) => d) * 100).toFixed(0)}% oracle ${(capture((d) => d.oracle) * 100).toFixed(0)}%; ` +
      `coverage90 ${(
        pooled(
          (d) => d,
          (s) => s.interval_coverage,
        ) * 100
      ).toFixed(1)}%`,
  );
} finally {
  await result.db.close();
}
