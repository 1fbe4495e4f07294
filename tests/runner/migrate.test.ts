// The bookkeeping migrations: a new database gets all of them, an up-to-date one none (answered by one query
// instead of knex's migrator), and one rolled back gets them again, on both targets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../runner/db/connect.ts';
import { migrateLatest, migrateRollback } from '../../migrations/migrate.ts';
import { migrations } from '../../migrations/index.ts';
import { freshTarget, TARGET_KINDS } from '../helpers/databases.ts';

for (const kind of TARGET_KINDS) {
  test(`[${kind}] migrations apply once, and again after a rollback`, async () => {
    const t = await freshTarget(kind);
    const db = await connect(t.target);
    try {
      const all = migrations.map(([name]) => name);
      assert.equal(await migrateLatest(db.knex), all, 'a new database gets every migration');
      assert.equal(await migrateLatest(db.knex), [], 'an up-to-date database gets none');
      assert.ok((await migrateRollback(db.knex)).length > 0);
      assert.equal(await migrateLatest(db.knex), all, 'the rolled-back ones are applied again');
      const { rows } = await db.knex.raw('select count(*)::int as n from dpm.knex_migrations');
      assert.is(rows[0].n, all.length);
    } finally {
      await db.close();
      await t.dispose();
    }
  });
}

test.run();
