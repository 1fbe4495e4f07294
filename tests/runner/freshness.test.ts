// `dpm source freshness`, as dbt's: the newest loaded_at_field of each source table against warn_after and
// error_after (a table's rule overrides its source's; null turns it off), exit 1 on an error, target/sources.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../runner/db/connect.ts';
import { freshTarget, TARGET_KINDS } from '../helpers/databases.ts';
import { dpm, removeDir, writeProject } from './_helpers.ts';

const SOURCES = `sources:
  - name: land
    schema: land
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: fresh
      - name: lagging
      - name: stale
      - name: ruleless
        freshness: null
      - name: filtered
        freshness:
          error_after: {count: 12, period: hour}
          filter: "kind = 'live'"
`;

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] dpm source freshness`);

  test('pass, warn and error by the age of the newest row; exit 1 on an error; sources.json', async () => {
    const dir = writeProject({ 'models/m/sources.yml': SOURCES, 'models/m/a.sql': 'select 1 as id' });
    const target = await freshTarget(kind, dir);
    try {
      const db = await connect(target.target);
      try {
        await db.knex.raw(`create schema land;
          create table land.fresh as select now() - interval '5 minutes' as loaded_at;
          create table land.lagging as select now() - interval '3 hours' as loaded_at;
          create table land.stale as select now() - interval '2 days' as loaded_at;
          create table land.ruleless as select now() - interval '30 days' as loaded_at;
          create table land.filtered (loaded_at timestamptz, kind text);
          insert into land.filtered values (now() - interval '1 hour', 'live'), (now(), 'test');`);
      } finally {
        await db.close();
      }
      const r = await dpm(['source', 'freshness', '--project-dir', dir], target.env);
      const out = `${r.out}\n${r.err}`;
      assert.is(r.code, 1, out);
      assert.match(out, /PASS freshness of land\.fresh \.\.\. \d+m old \(warn after 1h, error after 1d\)/);
      assert.match(out, /WARN freshness of land\.lagging \.\.\. 3h( \d+m)? old/);
      assert.match(out, /ERROR freshness of land\.stale \.\.\. 2d( \d+[hm])* old/);
      assert.match(out, /PASS freshness of land\.filtered \.\.\. 1h( \d+m)? old \(error after 12h\)/);
      assert.not.match(out, /land\.ruleless/);
      assert.match(out, /Finished source freshness: 3 ok, 1 error/);
      const artifact = JSON.parse(readFileSync(join(dir, 'target', 'sources.json'), 'utf8'));
      const statuses = Object.fromEntries(
        (artifact.results as { unique_id: string; status: string }[]).map((x) => [x.unique_id, x.status]),
      );
      assert.equal(statuses, {
        'source.t.land.fresh': 'pass',
        'source.t.land.lagging': 'warn',
        'source.t.land.stale': 'error',
        'source.t.land.filtered': 'pass',
      });

      const only = await dpm(
        ['source', 'freshness', '--project-dir', dir, '--select', 'source:land.fresh'],
        target.env,
      );
      assert.is(only.code, 0, `${only.out}\n${only.err}`);
      assert.match(only.out + only.err, /Finished source freshness: 1 ok, 0 error/);
    } finally {
      await target.dispose();
      removeDir(dir);
    }
  });

  test.run();
}
