// The models on a small simulated firm, per target: a full build and `--select features+` pass every data
// test, `--full-refresh` likewise, and a day-by-day incremental run (raw data arriving one day at a time)
// leaves every feature table identical to a full refresh (same rows and keys; floats to 1e-9 relative, as
// a float sum's last bit depends on the order the plan feeds rows in). Every model's yml lists exactly the
// columns it builds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProject } from '../../runner/project/load.ts';
import type { ModelNode } from '../../runner/project/nodes.ts';
import type { Database } from '../../runner/db/connect.ts';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { landFirm } from './_land.ts';
import {
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
  tableDifferences,
  type ModelProject,
} from './_helpers.ts';

/** Tables of the pipeline's schemas with more than 1 000 rows that Citus neither distributes nor replicates. */
async function coordinatorOnlyTables(db: Database): Promise<string[]> {
  const { rows } = await db.knex.raw(
    `select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition
       and n.nspname in ('raw', 'staging', 'intermediate', 'features', 'marts', 'training', 'seeds')
       and not exists (select 1 from pg_dist_partition p where p.logicalrelid = c.oid)`,
  );
  const big: string[] = [];
  for (const { name } of rows as { name: string }[]) {
    const n = Number((await db.knex.raw(`select count(*)::int as n from ${name}`)).rows[0].n);
    if (n > 1000) big.push(`${name} (${n} rows)`);
  }
  return big;
}

const FIRST_INCREMENTAL_DAY = 19; // build days 0-18 at once, then 19-24 one invocation per day

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] models build`);
  const ctx: { p?: ModelProject } = {};
  test.after(async () => {
    await ctx.p?.dispose();
  });

  test(`[${kind}] dpm build on a fresh database, then --select features+: all models and data tests pass`, async () => {
    ctx.p = await modelProject(kind);
    await land(ctx.p, 0, FIRM.days - 1);
    const full = await ctx.p.dpm(['build', '--start-date', FIRM.startDate, '--end-date', END]);
    ok(full, 'dpm build');
    assert.match(full.stdout, / 0 error, 0 fail, 0 skipped/);
    const selected = await ctx.p.dpm(['build', '--select', 'features+', '--end-date', END]);
    ok(selected, 'dpm build --select features+');
    assert.match(selected.stdout, /features\.feature_store_account_daily/);
    assert.match(selected.stdout, /training\.model_training_input/);
    assert.not.match(
      selected.stdout,
      /intermediate\.int_account_snapshots_daily/,
      'staging is upstream of features and not selected',
    );
    assert.match(selected.stdout, / 0 error, 0 fail, 0 skipped/);
    const rows = await ctx.p.withDb(async (db) =>
      Number((await db.knex.raw('select count(*)::int as n from features.feature_store_account_daily')).rows[0].n),
    );
    assert.ok(rows > FIRM.accounts * 10, `feature store has ${rows} rows`);
  });

  test(`[${kind}] every model's documented columns are its built columns (a contract, as dbt's)`, async () => {
    const models = [...loadProject(ctx.p!.dir).nodes.values()].filter(
      (n): n is ModelNode => n.resourceType === 'model' && n.config.materialized !== 'ephemeral',
    );
    assert.ok(models.length >= 15, `${models.length} models`);
    const drift = await ctx.p!.withDb(async (db) => {
      const out: string[] = [];
      for (const m of models) {
        const { rows } = await db.knex.raw(
          'select column_name from information_schema.columns ' +
            'where table_schema = ? and table_name = ? order by ordinal_position',
          [m.relation.schema, m.relation.identifier],
        );
        const built: string[] = rows.map((r: { column_name: string }) => r.column_name);
        const documented = Object.keys(m.columns);
        assert.ok(built.length > 0, `${m.relation} was not built`);
        const undocumented = built.filter((c) => !documented.includes(c));
        const gone = documented.filter((c) => !built.includes(c));
        if (undocumented.length) out.push(`${m.path}: built but not in its yml: ${undocumented.join(', ')}`);
        if (gone.length) out.push(`${m.path}: in its yml but not built: ${gone.join(', ')}`);
      }
      return out;
    });
    assert.equal(drift, []);
  });

  test(`[${kind}] dpm build --full-refresh passes every data test`, async () => {
    const r = await ctx.p!.dpm(['build', '--full-refresh', '--end-date', END]);
    ok(r, 'dpm build --full-refresh');
    assert.match(r.stdout, / 0 error, 0 fail, 0 skipped/);
  });

  test(`[${kind}] day-by-day incremental runs give the same tables as a full refresh`, async () => {
    await ctx.p!.dispose();
    const p = await modelProject(kind);
    ctx.p = p;
    await land(p, 0, FIRST_INCREMENTAL_DAY - 1);
    ok(await p.dpm(['build', '--end-date', dayOf(FIRST_INCREMENTAL_DAY)]), 'initial dpm build');
    for (let d = FIRST_INCREMENTAL_DAY; d < FIRM.days; d++) {
      await p.withDb((db) => landFirm(db, firm(), d, d, false));
      ok(await p.dpm(['run', '--start-date', dayOf(d), '--end-date', dayOf(d + 1)]), `dpm run for ${dayOf(d)}`);
    }
    ok(await p.dpm(['test']), 'dpm test after the incremental days');
    if (kind === 'citus') assert.equal(await p.withDb(coordinatorOnlyTables), [], 'tables left on the coordinator');
    await p.withDb((db) => keepCopies(db, 'day_by_day', FEATURE_TABLES));
    ok(await p.dpm(['run', '--full-refresh', '--end-date', END]), 'dpm run --full-refresh');
    await p.withDb(async (db) => {
      for (const t of FEATURE_TABLES) {
        const n = Number((await db.knex.raw(`select count(*)::int as n from ${t}`)).rows[0].n);
        assert.ok(n > 0, `${t} is empty`);
        const diff = await tableDifferences(db, t, `day_by_day.${t.split('.')[1]}`, keysOf(t));
        assert.is(
          diff.count,
          0,
          `${t}: full refresh vs day by day differ in ${diff.count} rows, e.g. ${JSON.stringify(diff.examples)}`,
        );
      }
    });
  });

  test.run();
}
