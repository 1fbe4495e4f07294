// A dbt project shaped like the public jaffle-shop examples (tests/fixtures/dbt-shop: dbt_project.yml with
// dbt-only keys, +-less and nested folder config, vars, a Jinja loop, schema.yml tests, a doc block) runs
// unmodified with `dpm build`: on PostgreSQL through its profiles.yml (env_var() settings, --profiles-dir), on
// the embedded database without one. Every figure is recomputed here from the seed CSVs.
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../runner/db/connect.ts';
import { runDpm } from '../helpers/cli.ts';
import { copyProject, freshTarget, isServer, TARGET_KINDS } from '../helpers/databases.ts';
import { rowsOf } from './_helpers.ts';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/dbt-shop');
const PROFILES = resolve(import.meta.dirname, '../fixtures/dbt-profiles');

const csv = (name: string) =>
  readFileSync(join(FIXTURE, 'seeds', `${name}.csv`), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
const customers = csv('raw_customers');
const orders = csv('raw_orders');
const payments = csv('raw_payments');
/** customer id -> lifetime value in dollars, as models/marts/customers.sql computes it. */
const lifetimeValue = new Map<number, number>();
for (const [, orderId, , amount] of payments) {
  const customer = Number(orders.find((o) => o[0] === orderId)![1]);
  lifetimeValue.set(customer, (lifetimeValue.get(customer) ?? 0) + Number(amount) / 100);
}

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] an unmodified dbt project`);

  test('dpm build runs it: every model and test, the rows and values dbt would give', async () => {
    const dir = copyProject(FIXTURE);
    const home = mkdtempSync(join(tmpdir(), 'dpm-home-'));
    const target = await freshTarget(kind, dir);
    try {
      const pg = new URL(target.env.DPM_DATABASE_URL ?? 'postgres://embedded');
      const env: Record<string, string> = isServer(kind)
        ? {
            HOME: home,
            SHOP_HOST: pg.hostname,
            SHOP_PORT: pg.port || '5432',
            SHOP_USER: decodeURIComponent(pg.username),
            SHOP_PASSWORD: decodeURIComponent(pg.password),
            SHOP_DB: pg.pathname.slice(1),
          }
        : { HOME: home };
      const args = ['build', '--project-dir', dir, ...(isServer(kind) ? ['--profiles-dir', PROFILES] : [])];
      const r = await runDpm(args, { cwd: dir, env, timeoutMs: 120_000 });
      assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
      // 3 seeds, 6 models, 16 data tests.
      assert.match(r.stdout, /Finished build in [\d.]+s: 25 ok, 0 warn, 0 error, 0 fail, 0 skipped/);
      if (isServer(kind)) assert.match(r.stdout, /PostgreSQL target 'dev'/);

      // dbt's schema naming: the target's schema (profiles.yml's `schema: analytics`; `public` on the embedded
      // database, which has no profile), and `<target schema>_<custom>` for a custom schema.
      const s = isServer(kind) ? 'analytics' : 'public';
      const db = await connect(target.target);
      try {
        const kinds = await rowsOf(
          db,
          "select table_schema || '.' || table_name as rel, table_type as type from information_schema.tables " +
            "where table_name in ('stg_orders', 'orders', 'customers', 'revenue_by_status', 'raw_orders') " +
            'order by 1',
        );
        assert.equal(kinds, [
          { rel: `${s}.customers`, type: 'BASE TABLE' },
          { rel: `${s}.orders`, type: 'BASE TABLE' },
          { rel: `${s}.raw_orders`, type: 'BASE TABLE' },
          { rel: `${s}.stg_orders`, type: 'VIEW' },
          { rel: `${s}_reporting.revenue_by_status`, type: 'BASE TABLE' },
        ]);
        // Seed columns typed as dbt-postgres types them: integer, date, text.
        const seedTypes = await rowsOf(
          db,
          `select column_name as c, data_type as t from information_schema.columns
           where table_schema = '${s}' and table_name = 'raw_orders' order by ordinal_position`,
        );
        assert.equal(seedTypes, [
          { c: 'id', t: 'integer' },
          { c: 'user_id', t: 'integer' },
          { c: 'order_date', t: 'date' },
          { c: 'status', t: 'text' },
        ]);
        const got = await rowsOf(
          db,
          'select customer_id::int as id, number_of_orders::int as n, customer_lifetime_value::float8 as clv ' +
            `from ${s}.customers order by 1`,
        );
        assert.is(got.length, customers.length);
        for (const row of got) {
          const id = row.id as number;
          const want = orders.filter((o) => Number(o[1]) === id).length;
          // A customer without orders has NULL from the left join, in dbt as in dpm.
          assert.is(row.n, want || null, `customer ${id}: orders`);
          const clv = lifetimeValue.get(id);
          if (clv === undefined) assert.is(row.clv, null, `customer ${id}: no payments`);
          else assert.ok(Math.abs((row.clv as number) - clv) < 1e-9, `customer ${id}: ${row.clv} vs ${clv}`);
        }
        const loop = await rowsOf(
          db,
          'select sum(credit_card_amount)::float8 as card, sum(gift_card_amount)::float8 as gift, count(*)::int as n ' +
            `from ${s}.orders`,
        );
        const byMethod = (m: string) => payments.filter((p) => p[2] === m).reduce((t, p) => t + Number(p[3]) / 100, 0);
        assert.equal(loop[0], { card: byMethod('credit_card'), gift: byMethod('gift_card'), n: orders.length });
        const doc = await rowsOf(
          db,
          `select col_description('${s}.orders'::regclass, (select attnum from pg_attribute ` +
            `where attrelid = '${s}.orders'::regclass and attname = 'status')) as d`,
        );
        assert.match(String(doc[0].d), /^Orders can be one of the following statuses: placed, shipped/);
        // Only what the project declares, and the runner's own log: none of dpm's product tables.
        const dpmTables = await rowsOf(
          db,
          "select table_schema || '.' || table_name as rel from information_schema.tables " +
            "where table_schema in ('raw', 'dpm') order by 1",
        );
        assert.equal(
          dpmTables.map((t) => t.rel),
          ['dpm.knex_migrations', 'dpm.knex_migrations_lock', 'dpm.run_nodes', 'dpm.runs'],
        );
      } finally {
        await db.close();
      }
    } finally {
      await target.dispose();
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  });

  test.run();
}
