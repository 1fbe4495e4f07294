// `dpm run-operation MACRO --args '{...}'`, as dbt's: the macro runs with the database at hand, so its
// statement() and run_query() calls execute (DDL included) and its log() lines print; a failure exits 1 and says
// what failed. Runs on both targets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../runner/db/connect.ts';
import { freshTarget, TARGET_KINDS } from '../helpers/databases.ts';
import { dpm, removeDir, rowsOf, writeProject } from './_helpers.ts';

const MACROS = `{% macro create_audit(schema_name, tables) %}
  {% call statement('schema') %}create schema if not exists {{ schema_name }}{% endcall %}
  {% call statement('table') %}
    create table if not exists {{ schema_name }}.audit (name text, n int)
  {% endcall %}
  {% for t in tables %}
    {% do run_query("insert into " ~ schema_name ~ ".audit values ('" ~ t ~ "', " ~ loop.index ~ ")") %}
  {% endfor %}
  {% set n = run_query('select count(*) as n from ' ~ schema_name ~ '.audit') %}
  {% if execute %}{{ log('audit holds ' ~ n.rows[0].n ~ ' rows', info=True) }}{% endif %}
{% endmacro %}

{% macro fail_on(table) %}
  {% do run_query('select * from ' ~ table) %}
{% endmacro %}
`;

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] dpm run-operation`);

  test('runs the macro with its args: DDL and inserts execute once, log() prints once', async () => {
    const dir = writeProject({ 'macros/ops.sql': MACROS, 'models/m/a.sql': 'select 1 as id' });
    const target = await freshTarget(kind, dir);
    try {
      const r = await dpm(
        ['run-operation', 'create_audit', '--project-dir', dir, '--args', '{schema_name: ops, tables: [a, b, c]}'],
        target.env,
      );
      const out = `${r.out}\n${r.err}`;
      assert.is(r.code, 0, out);
      assert.is(out.match(/audit holds 3 rows/g)?.length, 1, out);
      assert.match(out, /Finished run-operation create_audit/);
      const db = await connect(target.target);
      try {
        assert.equal(await rowsOf(db, 'select name, n from ops.audit order by n'), [
          { name: 'a', n: 1 },
          { name: 'b', n: 2 },
          { name: 'c', n: 3 },
        ]);
      } finally {
        await db.close();
      }
    } finally {
      await target.dispose();
      removeDir(dir);
    }
  });

  test('a failing query exits 1 naming the operation and the SQL; bad names and --args exit 2', async () => {
    const dir = writeProject({ 'macros/ops.sql': MACROS, 'models/m/a.sql': 'select 1 as id' });
    const target = await freshTarget(kind, dir);
    try {
      const failed = await dpm(
        ['run-operation', 'fail_on', '--project-dir', dir, '--args', '{table: nowhere}'],
        target.env,
      );
      assert.is(failed.code, 1, failed.out + failed.err);
      assert.match(failed.err, /run-operation fail_on: run_query\(\) failed: relation "nowhere" does not exist/);
      assert.match(failed.err, /select \* from nowhere/);

      const unknown = await dpm(['run-operation', 'create_audt', '--project-dir', dir], target.env);
      assert.is(unknown.code, 2);
      assert.match(unknown.err, /the project has no macro 'create_audt'\. Did you mean 'create_audit'\?/);

      const badArgs = await dpm(['run-operation', 'fail_on', '--project-dir', dir, '--args', '[1, 2]'], target.env);
      assert.is(badArgs.code, 2);
      assert.match(badArgs.err, /--args must be a mapping of the macro's arguments/);
    } finally {
      await target.dispose();
      removeDir(dir);
    }
  });

  test.run();
}
