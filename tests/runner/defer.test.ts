// dbt's --defer --state DIR: a selected model that refs an unselected one missing from this database reads the
// relation the state manifest recorded. Production builds under schema `prod` (the state), a developer under
// `dev` in the same database selects only the child. Both targets, through the CLI.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../runner/db/connect.ts';
import { freshTarget, TARGET_KINDS, type TestTarget } from '../helpers/databases.ts';
import { dpm, removeDir, writeProject } from './_helpers.ts';

const FILES: Record<string, string> = {
  'models/core/parent.sql': `{{ config(materialized='table', schema=var('env')) }}
select g as id, '{{ var('env') }}' as built_in from generate_series(1, 3) g`,
  'models/core/child.sql': `{{ config(materialized='table', schema=var('env')) }}
select id, built_in from {{ ref('parent') }}`,
  'models/core/_props.yml': `version: 2
models:
  - name: child
    columns:
      - name: id
        data_tests:
          - relationships: { to: "ref('parent')", field: id }
`,
};

const prod = ['--vars', '{env: prod}'];
const dev = ['--vars', '{env: dev}'];

for (const kind of TARGET_KINDS) {
  const s = suite(`[${kind}] --defer --state`);
  let t: TestTarget;
  let dir: string;
  let state: string;
  s.before(async () => {
    dir = writeProject({ ...FILES });
    state = mkdtempSync(join(tmpdir(), 'dpm-state-'));
    t = await freshTarget(kind, dir);
  });
  s.after(async () => {
    await t.dispose();
    removeDir(dir);
    removeDir(state);
  });
  const rows = async (sql: string) => {
    const db = await connect(t.target);
    try {
      return (await db.knex.raw(sql)).rows as Record<string, unknown>[];
    } finally {
      await db.close();
    }
  };

  s('without --defer the child fails: its parent was never built in dev', async () => {
    let r = await dpm(['build', '--project-dir', dir, ...prod], t.env);
    assert.is(r.code, 0, r.out + r.err);
    cpSync(join(dir, 'target/manifest.json'), join(state, 'manifest.json'));
    r = await dpm(['run', '--project-dir', dir, '-s', 'child', ...dev], t.env);
    assert.is(r.code, 1, r.out + r.err);
    assert.match(r.out + r.err, 'relation "dev.parent" does not exist');
  });

  s('run --defer: the child reads prod.parent, recorded in the state manifest; dev.parent stays unbuilt', async () => {
    const r = await dpm(['run', '--project-dir', dir, '-s', 'child', ...dev, '--defer', '--state', state], t.env);
    assert.is(r.code, 0, r.out + r.err);
    assert.match(r.out, 'Deferring parent to prod.parent (from the --state manifest)');
    assert.equal(await rows('select id, built_in from dev.child order by id'), [
      { id: 1, built_in: 'prod' },
      { id: 2, built_in: 'prod' },
      { id: 3, built_in: 'prod' },
    ]);
    assert.equal(await rows(`select to_regclass('dev.parent')::text as r`), [{ r: null }]);
    assert.match(readFileSync(join(dir, 'target/run/models/core/child.sql'), 'utf8'), 'from prod.parent');
  });

  s("build --defer: the child's relationships test reads the deferred parent too", async () => {
    const r = await dpm(['build', '--project-dir', dir, '-s', 'child', ...dev, '--defer', '--state', state], t.env);
    assert.is(r.code, 0, r.out + r.err);
    assert.match(r.out, 'PASS test relationships_child_id');
    const sql = readFileSync(join(dir, 'target/compiled/tests/relationships_child_id.sql'), 'utf8');
    assert.match(sql, 'prod.parent');
  });

  s('compile --defer renders the ref to the state relation', async () => {
    const r = await dpm(['compile', '--project-dir', dir, '-s', 'child', ...dev, '--defer', '--state', state], t.env);
    assert.is(r.code, 0, r.out + r.err);
    assert.match(readFileSync(join(dir, 'target/compiled/models/core/child.sql'), 'utf8'), 'from prod.parent');
  });

  s('a parent that exists in dev is read there, as dbt does without --favor-state', async () => {
    let r = await dpm(['run', '--project-dir', dir, '-s', 'parent', ...dev], t.env);
    assert.is(r.code, 0, r.out + r.err);
    r = await dpm(['run', '--project-dir', dir, '-s', 'child', ...dev, '--defer', '--state', state], t.env);
    assert.is(r.code, 0, r.out + r.err);
    assert.not.match(r.out, 'Deferring');
    assert.equal(await rows('select distinct built_in from dev.child'), [{ built_in: 'dev' }]);
  });

  s('a state relation in another database is refused before anything runs', async () => {
    const other = mkdtempSync(join(tmpdir(), 'dpm-state-'));
    try {
      const manifest = JSON.parse(readFileSync(join(state, 'manifest.json'), 'utf8'));
      for (const n of Object.values(manifest.nodes) as { database: string }[]) n.database = 'elsewhere';
      writeFileSync(join(other, 'manifest.json'), JSON.stringify(manifest));
      const r = await dpm(
        ['run', '--project-dir', dir, '-s', 'child', '--vars', '{env: qa}', '--defer', '--state', other],
        t.env,
      );
      assert.is(r.code, 2, r.out + r.err);
      assert.match(r.err, "--defer: parent is missing here and the --state manifest has it in database 'elsewhere'");
      assert.match(r.err, 'PostgreSQL cannot read across databases');
    } finally {
      removeDir(other);
    }
  });
  s.run();
}

const usage = suite('--defer usage errors');
usage('--defer without --state, with a folder without a manifest, with a manifest of another shape', async () => {
  const dir = writeProject({ ...FILES });
  const empty = mkdtempSync(join(tmpdir(), 'dpm-state-'));
  try {
    let r = await dpm(['run', '--project-dir', dir, '-s', 'child', ...dev, '--defer']);
    assert.is(r.code, 2);
    assert.match(r.err, 'Error: --defer needs --state DIR');
    r = await dpm(['compile', '--project-dir', dir, ...dev, '--defer']);
    assert.is(r.code, 2);
    assert.match(r.err, '--defer needs --state DIR');
    r = await dpm(['build', '--project-dir', dir, '-s', 'child', ...dev, '--defer', '--state', empty]);
    assert.is(r.code, 2);
    assert.match(r.err, `--defer reads ${join(empty, 'manifest.json')}, which does not exist`);
    mkdirSync(join(empty, 'old'));
    writeFileSync(
      join(empty, 'old/manifest.json'),
      JSON.stringify({
        metadata: { dbt_schema_version: 'x' },
        nodes: { 'model.t.parent': { resource_type: 'model', database: null, schema: 'prod', alias: 'parent' } },
      }),
    );
    r = await dpm(['run', '--project-dir', dir, '-s', 'child', ...dev, '--defer', '--state', join(empty, 'old')]);
    assert.is(r.code, 2);
    assert.match(r.err, `${join(empty, 'old/manifest.json')} is not a dbt manifest (v12) that dpm can read`);
    assert.match(r.err, 'nodes["model.t.parent"].checksum');
    writeFileSync(join(empty, 'manifest.json'), '{"nodes": ');
    r = await dpm(['test', '--project-dir', dir, ...dev, '--defer', '--state', empty]);
    assert.is(r.code, 2);
    assert.match(r.err, `${join(empty, 'manifest.json')} is not readable JSON`);
  } finally {
    removeDir(dir);
    removeDir(empty);
  }
});
usage.run();
