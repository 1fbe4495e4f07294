// Session settings of PostgreSQL targets: applied to every pooled connection, JIT off unless the target
// says otherwise, and a bad setting named in the error. (PGlite targets have no settings: one embedded
// session whose defaults dpm does not change.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProjectConfig } from '../../runner/config/project-config.ts';
import { connect } from '../../runner/db/connect.ts';
import { postgresTarget, resolveTarget } from '../../runner/db/target.ts';
import { freshTarget, TARGET_KINDS } from '../helpers/databases.ts';
import { removeDir, writeProject } from './_helpers.ts';

const show = async (db: Awaited<ReturnType<typeof connect>>, name: string) =>
  String((await db.knex.raw(`select current_setting(?) as v`, [name])).rows[0].v);

if (TARGET_KINDS.includes('postgres')) {
  test('[postgres] every connection gets the target settings, and jit is off by default', async () => {
    const t = await freshTarget('postgres');
    if (t.target.kind !== 'postgres') throw new Error('expected a PostgreSQL target');
    const db = await connect(postgresTarget('s', t.target.url, 3, { work_mem: '77MB', statement_timeout: 600000 }));
    try {
      // Several connections at once: each one of the pool must carry the settings, not only the first.
      const values = await Promise.all(
        [1, 2, 3].map(() =>
          db.knex.transaction(async (trx) => {
            await trx.raw('select pg_sleep(0.05)');
            return String(
              (
                await trx.raw(
                  `select current_setting('work_mem') || ' ' || current_setting('jit') || ' ' ||
                     current_setting('statement_timeout') as v`,
                )
              ).rows[0].v,
            );
          }),
        ),
      );
      assert.equal(values, ['77MB off 10min', '77MB off 10min', '77MB off 10min']);
    } finally {
      await db.close();
    }
    const jitOn = await connect(postgresTarget('s', t.target.url, 2, { jit: true }));
    try {
      assert.is(await show(jitOn, 'jit'), 'on', 'a target can turn jit back on');
    } finally {
      await jitOn.close();
      await t.dispose();
    }
  });

  test('[postgres] a setting the server rejects is an error naming the settings', async () => {
    const t = await freshTarget('postgres');
    if (t.target.kind !== 'postgres') throw new Error('expected a PostgreSQL target');
    try {
      await connect(postgresTarget('s', t.target.url, 2, { work_mem: 'lots' }));
      assert.unreachable('connect should fail');
    } catch (err) {
      assert.match((err as Error).message, 'session settings (jit, work_mem)');
      assert.match((err as Error).message, 'work_mem');
    } finally {
      await t.dispose();
    }
  });
}

test('dpm.yml settings reach the target; a malformed name is a config error with its line', () => {
  const dir = writeProject({
    'dpm.yml':
      'name: t\ntarget: wh\ntargets:\n  wh:\n    type: postgres\n    url: postgres://u@h:5432/d\n' +
      '    settings:\n      work_mem: 256MB\n      max_parallel_workers_per_gather: 4\n',
  });
  const bad = writeProject({
    'dpm.yml': 'name: t\ntargets:\n  wh:\n    type: postgres\n    settings:\n      "work mem; drop": 1\n',
  });
  try {
    const target = resolveTarget(loadProjectConfig(dir), undefined, {});
    assert.equal(target.kind === 'postgres' && target.settings, {
      jit: 'off',
      work_mem: '256MB',
      max_parallel_workers_per_gather: '4',
    });
    assert.throws(() => loadProjectConfig(bad), /dpm\.yml:6: targets\.wh\.settings\.work mem; drop/);
  } finally {
    removeDir(dir);
    removeDir(bad);
  }
});

test.run();
