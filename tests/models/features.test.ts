// The feature store on a small simulated firm, per target, with one database shared by the suite:
// 1. No look-ahead: the firm is landed only up to day D and built; every row of D is kept; then the rest of
//    the history is landed and the project rebuilt from scratch. Every feature row of D must be identical in
//    both builds (floats to 1e-9 relative): a feature that read anything after D would differ.
// 2. Correctness: rolling performance, behaviour, distances, calendar features and the training target are
//    recomputed in TypeScript from the simulator's own records (tests/models/_reference.ts) and compared
//    with every row the SQL produced.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isServer, TARGET_KINDS } from '../helpers/databases.ts';
import type { Database } from '../../runner/db/connect.ts';
import { landFirm } from './_land.ts';
import {
  close,
  dayOf,
  END,
  FEATURE_TABLES,
  FIRM,
  firm,
  keepCopies,
  keysOf,
  land,
  modelProject,
  ok,
  ROOT,
  tableDifferences,
  type ModelProject,
} from './_helpers.ts';
import { projectVars, Reference } from './_reference.ts';

// Late enough for funded accounts with 7 trading days (training rows), early enough that 5 later days of
// trades, metrics and regimes exist to leak into it.
const AS_OF = 19;
const TRAINING = 'training.model_training_input';
// The training table of D needs D + 1, so the truncated build has none; its features must equal the
// eligible rows of D (prediction_input) instead.
const AS_OF_TABLES = [...FEATURE_TABLES.filter((t) => t !== TRAINING), 'training.prediction_input'];
// Rolling sums and moments may differ in the last bits from the TypeScript order of summation.
const REL = 1e-9;
// Features about the day predicted (D + 1) and relative money: each must be known at the end of D, so each
// must be compared (non-NULL on D) by the no-look-ahead test.
const NEXT_DAY_FEATURES = [
  'next_day_of_week',
  'next_day_is_weekend',
  'next_day_event',
  'days_to_next_event',
  'days_to_next_payout',
  'weekend_active_rate_30d',
  'pnl_std_30d_rel',
  'pnl_per_active_day_30d_rel',
];

const vars = projectVars(ROOT);
let cachedReference: Reference | undefined;
const reference = () => (cachedReference ??= new Reference(firm(), FIRM.days, ROOT, vars));

const count = async (db: Database, sql: string) =>
  Number((await db.knex.raw(`select count(*)::int as n from ${sql}`)).rows[0].n);

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] model features`);
  const ctx: { p?: ModelProject } = {};
  test.after(async () => {
    await ctx.p?.dispose();
  });

  test(`[${kind}] features of day D built from data truncated at D equal those built from all data`, async () => {
    const p = await modelProject(kind);
    ctx.p = p;
    // A session time zone far from UTC: features of UTC days and hours must not follow it.
    if (isServer(kind))
      await p.withDb((db) =>
        db.knex.raw(
          `do $$ begin
             execute format('alter database %I set timezone to %L', current_database(), 'America/New_York');
           end $$`,
        ),
      );
    await land(p, 0, AS_OF);
    // Seeds and models in one process; the data tests run in tests/models/build.test.ts.
    ok(
      await p.dpm(['build', '--exclude', 'resource_type:test', '--end-date', dayOf(AS_OF + 1)]),
      `dpm build on data up to ${dayOf(AS_OF)}`,
    );
    await p.withDb((db) => keepCopies(db, 'as_of_d', AS_OF_TABLES));
    await p.withDb((db) => landFirm(db, firm(), AS_OF + 1, FIRM.days - 1, false));
    ok(await p.dpm(['run', '--full-refresh', '--end-date', END]), 'dpm run --full-refresh on all data');
    const onD = `date = date '${dayOf(AS_OF)}'`;
    await p.withDb(async (db) => {
      for (const t of AS_OF_TABLES) {
        const kept = `as_of_d.${t.split('.')[1]}`;
        assert.ok((await count(db, `${kept} where ${onD}`)) > 0, `${t} has no rows on ${dayOf(AS_OF)}`);
        const full = t === 'training.prediction_input' ? TRAINING : t;
        // Columns of the kept table are compared, so the training table's target columns are left out.
        const diff = await tableDifferences(db, kept, full, keysOf(t), onD, REL);
        assert.is(
          diff.count,
          0,
          `${full} on ${dayOf(AS_OF)}: ${diff.count} rows differ between data truncated at D and all data, ` +
            `e.g. ${JSON.stringify(diff.examples)}`,
        );
      }
      assert.ok(
        (await count(db, `${TRAINING} where date > date '${dayOf(AS_OF)}'`)) > 0,
        'the full build has later training rows',
      );
      for (const c of NEXT_DAY_FEATURES)
        assert.ok(
          (await count(db, `as_of_d.feature_store_account_daily where ${onD} and ${c} is not null`)) > 0,
          `${c} is NULL on every row of ${dayOf(AS_OF)}: the no-look-ahead comparison proves nothing for it`,
        );
    });
  });

  test(
    `[${kind}] rolling, behaviour, distance and calendar features ` +
      'equal a TypeScript recomputation from the simulator',
    async () => {
      const ref = reference();
      const columns = Object.keys(ref.features(ref.accountIds()[0], 0));
      const rows = await ctx.p!.withDb(
        async (db) =>
          (
            await db.knex.raw(
              `select account_id, date, ${columns.join(', ')} from features.feature_store_account_daily`,
            )
          ).rows as Record<string, unknown>[],
      );
      const sql = new Map(rows.map((r) => [`${r.account_id}|${r.date}`, r]));
      const mismatches: string[] = [];
      const nonNull = Object.fromEntries(columns.map((c) => [c, 0]));
      let compared = 0;
      for (const id of ref.accountIds()) {
        for (const [i, date] of ref.dates(id).entries()) {
          const got = sql.get(`${id}|${date}`);
          if (!got) {
            mismatches.push(`${id} ${date}: no feature row`);
            continue;
          }
          compared++;
          for (const [c, want] of Object.entries(ref.features(id, i))) {
            if (want !== null) nonNull[c]++;
            if (!close(want, got[c] === null ? null : Number(got[c]), REL))
              mismatches.push(`${id} ${date} ${c}: sql ${got[c]}, expected ${want}`);
          }
        }
      }
      assert.is(compared, rows.length, 'the feature store has rows for days the simulator has no metrics');
      assert.is(
        mismatches.length,
        0,
        `${mismatches.length} feature values differ, e.g.\n${mismatches.slice(0, 10).join('\n')}`,
      );
      for (const [c, n] of Object.entries(nonNull))
        assert.ok(n > 0, `${c} is NULL on every row: the comparison proves nothing`);
    },
  );

  test(`[${kind}] Sharpe-like ratios reach the ratio_cap var and are clipped to it`, async () => {
    const capped = await ctx.p!.withDb((db) =>
      count(db, `features.feature_store_account_daily where abs(pnl_sharpe_3d) = ${vars.ratioCap}`),
    );
    assert.ok(capped > 0, `no 3-day Sharpe at ±${vars.ratioCap}: the cap is untested on this firm`);
  });

  test(`[${kind}] training table: exactly the eligible rows of D, the next day's net profit as target`, async () => {
    const ref = reference();
    const rows = await ctx.p!.withDb(
      async (db) =>
        (await db.knex.raw(`select account_id, date, prediction_date, target_net_profit from ${TRAINING}`)).rows,
    );
    const sql = new Map((rows as Record<string, string>[]).map((r) => [`${r.account_id}|${r.date}`, r]));
    const problems: string[] = [];
    let expected = 0;
    for (const id of ref.accountIds()) {
      for (const [i, date] of ref.dates(id).entries()) {
        const want = ref.trainingRow(id, i);
        const got = sql.get(`${id}|${date}`);
        if (!want) {
          if (got) problems.push(`${id} ${date}: not eligible or no next day, yet in the training table`);
          continue;
        }
        expected++;
        if (!got) {
          problems.push(`${id} ${date}: eligible with a next day, missing from the training table`);
          continue;
        }
        if (
          got.prediction_date !== want.prediction_date ||
          !close(want.target_net_profit, Number(got.target_net_profit), REL)
        ) {
          problems.push(
            `${id} ${date}: sql ${got.prediction_date} ${got.target_net_profit}, ` +
              `expected ${want.prediction_date} ${want.target_net_profit}`,
          );
        }
      }
    }
    assert.ok(
      expected > FIRM.accounts,
      `only ${expected} training rows expected: the firm is too small to test the target`,
    );
    assert.is(rows.length, expected);
    assert.is(problems.length, 0, `${problems.length} training rows differ, e.g.\n${problems.slice(0, 10).join('\n')}`);
  });

  test.run();
}
