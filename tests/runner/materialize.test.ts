// Materializations, incremental strategies, incremental equivalence and the atomic swap, on both
// targets. One database per target; every test drops the schemas it made.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Database } from '../../runner/db/connect.ts';
import { indexName, scratchName } from '../../runner/materialize/model.ts';
import { columnsOf } from '../../runner/materialize/relations.ts';
import { freshTarget, isServer, TARGET_KINDS, type TestTarget } from '../helpers/databases.ts';
import { build, removeDir, resetSchemas, rowsOf, scratchRelations, writeProject } from './_helpers.ts';

const EVENTS = `{{ config(materialized='table') }}
-- three ids per day from 2024-01-01 to var('end'); amounts scale with var('version')
select g::date as day, k as id, (k * 100 + extract(day from g)::int) * {{ var('version', 1) }} as amount
from generate_series('2024-01-01'::date, '{{ var("end", "2024-01-05") }}'::date, interval '1 day') g
cross join generate_series(1, 3) k
`;

const INCREMENTAL = {
  'models/src/events.sql': EVENTS,
  'models/inc/inc_append.sql': `{{ config(materialized='incremental') }}
select * from {{ ref('events') }}
{% if is_incremental() %}where day > (select max(day) from {{ this }}){% endif %}`,
  'models/inc/inc_delins.sql': `{{ config(materialized='incremental', incremental_strategy='delete+insert',
    unique_key=['day', 'id']) }}
select * from {{ ref('events') }}
{% if is_incremental() %}where day >= (select max(day) from {{ this }}) - 1{% endif %}`,
  'models/inc/inc_merge.sql': `{{ config(materialized='incremental', incremental_strategy='merge',
    unique_key=['day', 'id']) }}
select * from {{ ref('events') }}
{% if is_incremental() %}where day >= (select max(day) from {{ this }}) - 1{% endif %}`,
  'models/inc/inc_micro.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch',
    event_time='day', begin='2024-01-01', batch_size='day', lookback=1) }}
select * from {{ ref('events') }}
where day >= '{{ batch_start }}' and day < '{{ batch_end }}'`,
};

const day = (n: number) => `2024-01-${String(n).padStart(2, '0')}`;

for (const kind of TARGET_KINDS) {
  let t: TestTarget;
  let db: Database;
  const dirs: string[] = [];
  const project = (files: Record<string, string>) => {
    const d = writeProject({ ...files });
    dirs.push(d);
    return d;
  };
  const table = async (rel: string, order = 'day, id') => rowsOf(db, `select * from ${rel} order by ${order}`);
  const amounts = async (rel: string) =>
    Object.fromEntries(
      (
        await rowsOf(
          db,
          `select day, min(amount / (id * 100 + extract(day from day::date)::int)) as version
           from ${rel} group by day order by day`,
        )
      ).map((r) => [r.day, Number(r.version)]),
    );

  const s = suite(`[${kind}] materializations`);
  s.before(async () => {
    t = await freshTarget(kind);
    db = await connect(t.target);
  });
  s.after(async () => {
    await db.close();
    await t.dispose();
    for (const d of dirs) removeDir(d);
  });
  s.before.each(async () => resetSchemas(db));

  s('view, table and ephemeral; indexes, hooks and docs from config', async () => {
    const dir = project({
      'models/m/tbl.sql': `{{ config(materialized='table',
    indexes=[{'columns': ['id'], 'unique': True}, {'columns': ['g', 'id']}],
    pre_hook="create table if not exists m.audit (what text, n int)",
    post_hook="insert into m.audit select 'post', count(*) from {{ this }}") }}
select id, id % 2 as g from generate_series(1, 10) id`,
      'models/m/vw.sql': `select id from {{ ref('tbl') }} where g = 0`,
      'models/m/eph.sql': `{{ config(materialized='ephemeral') }}\nselect id * 10 as id from {{ ref('vw') }}`,
      'models/m/uses_eph.sql': `{{ config(materialized='table') }}\nselect * from {{ ref('eph') }}`,
      'models/m/props.yml':
        'version: 2\nmodels:\n' +
        '  - name: tbl\n    description: The table.\n    columns:\n      - name: g\n        description: Parity.\n' +
        `  - name: vw\n    description: "Even ids? It's the view."\n` +
        '    columns:\n      - name: id\n        description: The id.\n',
    });
    const viewDocs = async () =>
      (
        await rowsOf(
          db,
          `select obj_description('m.vw'::regclass, 'pg_class') as t, col_description('m.vw'::regclass, 1) as c`,
        )
      )[0];
    for (let round = 1; round <= 2; round++) {
      const r = await build(dir, db);
      assert.ok(r.ok, JSON.stringify(r.results));
      const kinds = await rowsOf(
        db,
        `select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'm' and c.relkind in ('r','v') order by 1`,
      );
      assert.equal(
        kinds.map((k) => `${k.relname}:${k.relkind}`),
        ['audit:r', 'tbl:r', 'uses_eph:r', 'vw:v'],
      );
      assert.equal(
        (await rowsOf(db, 'select id from m.uses_eph order by id')).map((x) => x.id),
        [20, 40, 60, 80, 100],
      );
      const idx = await rowsOf(
        db,
        `select indexdef from pg_indexes where schemaname = 'm' and tablename = 'tbl' order by indexdef`,
      );
      assert.is(idx.length, 2, 'indexes are recreated, not accumulated');
      assert.match(String(idx[0].indexdef), 'CREATE INDEX');
      assert.match(String(idx[0].indexdef), '(g, id)');
      assert.match(String(idx[1].indexdef), 'CREATE UNIQUE INDEX');
      assert.equal(
        await rowsOf(db, `select what, n from m.audit`),
        Array.from({ length: round }, () => ({ what: 'post', n: 10 })),
      );
      const docs = await rowsOf(
        db,
        `select obj_description('m.tbl'::regclass, 'pg_class') as t, col_description('m.tbl'::regclass, 2) as c`,
      );
      assert.equal(docs[0], { t: 'The table.', c: 'Parity.' });
      assert.equal(
        await viewDocs(),
        { t: "Even ids? It's the view.", c: 'The id.' },
        'a view replaced in place keeps its comments',
      );
    }
    // A changed description is written over the kept one.
    writeFileSync(
      join(dir, 'models/m/props.yml'),
      readFileSync(join(dir, 'models/m/props.yml'), 'utf8').replace('The id.', 'The id; even.'),
    );
    assert.ok((await build(dir, db)).ok);
    assert.equal(await viewDocs(), { t: "Even ids? It's the view.", c: 'The id; even.' });
    assert.equal(await scratchRelations(db), []);
  });

  s(
    'SQL runs as written: a ? in a jsonb operator, a literal, a data test or a description is no bind parameter',
    async () => {
      const dir = project({
        'models/q/qv.sql': `select '{"a": 1}'::jsonb ? 'a' as has_a, 'why?' as question`,
        'models/q/qt.sql': `{{ config(materialized='table') }}\nselect * from {{ ref('qv') }} where question like '%?'`,
        'models/q/qi.sql':
          "{{ config(materialized='incremental', unique_key=['question'], incremental_strategy='merge') }}\n" +
          `select * from {{ ref('qv') }} where has_a and '?' = '?'`,
        'models/q/props.yml':
          'version: 2\nmodels:\n  - name: qt\n    description: "Any question?"\n' +
          '    columns:\n      - name: has_a\n        description: "Has key a?"\n',
        'tests/data/every_question_asked.sql':
          "select * from {{ ref('qi') }} where question <> 'why?' " + `or not ('{"b": 2}'::jsonb ?| array['b'])`,
      });
      for (let round = 1; round <= 2; round++) {
        const r = await build(dir, db);
        assert.ok(r.ok, JSON.stringify(r.results));
        assert.equal(await rowsOf(db, 'select has_a, question from q.qt'), [{ has_a: true, question: 'why?' }]);
        assert.equal(
          await rowsOf(db, 'select has_a, question from q.qi'),
          [{ has_a: true, question: 'why?' }],
          `round ${round}: the merge keeps one row`,
        );
        assert.equal(
          await rowsOf(
            db,
            `select obj_description('q.qt'::regclass, 'pg_class') as t, col_description('q.qt'::regclass, 1) as c`,
          ),
          [{ t: 'Any question?', c: 'Has key a?' }],
        );
        assert.is(r.results.find((x) => x.unique_id.includes('every_question_asked'))?.status, 'pass');
      }
    },
  );

  s(
    'a new table has statistics on its keys and indexed columns right away; a table without keys on every column',
    async () => {
      const dir = project({
        'models/st/keyed.sql': `{{ config(materialized='table', unique_key=['id'], indexes=[{'columns': ['g']}]) }}
select id, id % 3 as g, id * 1.5 as wide from generate_series(1, 200) id`,
        'models/st/plain.sql':
          "{{ config(materialized='table') }}\n" + 'select id, id * 2 as twice from generate_series(1, 50) id',
      });
      assert.ok((await build(dir, db)).ok);
      const analyzed = async (table: string) =>
        (
          await rowsOf(
            db,
            `select attname from pg_stats where schemaname = 'st' and tablename = '${table}' order by attname`,
          )
        ).map((r) => r.attname);
      assert.equal(await analyzed('keyed'), ['g', 'id']);
      assert.equal(await analyzed('plain'), ['id', 'twice']);
    },
  );

  s('batch_days is the length of the microbatch window, none outside one', async () => {
    const dir = project({
      'models/src/events.sql': EVENTS,
      'models/bd/days.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch',
    event_time='day', begin='2024-01-01', batch_size='day') }}
select day, {{ batch_days }} as batch_days from {{ ref('events') }}
where day >= '{{ batch_start }}' and day < '{{ batch_end }}'`,
      'models/bd/outside.sql': `select '{{ "none" if batch_days is none else batch_days }}'::text as batch_days`,
    });
    const first = await build(dir, db, { endDate: day(5) });
    assert.ok(first.ok, JSON.stringify(first.results.map((r) => r.message)));
    assert.equal(
      (await rowsOf(db, 'select distinct batch_days from bd.days')).map((r) => r.batch_days),
      [4],
      'a first build is one window: 2024-01-01..2024-01-05',
    );
    assert.ok((await build(dir, db, { select: ['days'], startDate: day(3), endDate: day(5) })).ok);
    assert.equal(
      (await rowsOf(db, `select distinct day, batch_days from bd.days where day >= '${day(3)}' order by day`)).map(
        (r) => r.batch_days,
      ),
      [1, 1],
      'then one batch per day',
    );
    assert.equal((await rowsOf(db, 'select batch_days from bd.outside'))[0].batch_days, 'none');
  });

  s('a failing hook fails the model and names the hook', async () => {
    const dir = project({
      'models/h/m.sql': `{{ config(materialized='table', post_hook='select * from no_such_table') }}\nselect 1 as x`,
    });
    const r = await build(dir, db);
    assert.is(r.byName.m, 'error');
    assert.match(r.results[0].message, 'post_hook 1 of m failed');
  });

  s('incremental append adds only new days', async () => {
    const dir = project(INCREMENTAL);
    await build(dir, db, { vars: { end: day(3) }, select: ['events', 'inc_append'] });
    assert.is((await table('inc.inc_append')).length, 9);
    const r = await build(dir, db, { vars: { end: day(5) }, select: ['events', 'inc_append'] });
    assert.match(r.results.find((x) => x.unique_id.endsWith('inc_append'))!.message, 'incremental append');
    assert.is(r.results.find((x) => x.unique_id.endsWith('inc_append'))!.rows_affected, 6);
    const rows = await table('inc.inc_append');
    assert.is(rows.length, 15);
    assert.is(new Set(rows.map((x) => `${x.day}/${x.id}`)).size, 15);
  });

  for (const strategy of ['delete+insert', 'merge'] as const) {
    s(`incremental ${strategy} replaces rows by unique_key and inserts new ones`, async () => {
      const dir = project(INCREMENTAL);
      const rel = strategy === 'merge' ? 'inc.inc_merge' : 'inc.inc_delins';
      const sel = ['events', rel.split('.')[1]];
      await build(dir, db, { vars: { end: day(3), version: 1 }, select: sel });
      const r = await build(dir, db, { vars: { end: day(4), version: 2 }, select: sel });
      assert.ok(r.ok);
      const rows = await table(rel);
      assert.is(rows.length, 12);
      assert.is(new Set(rows.map((x) => `${x.day}/${x.id}`)).size, 12, 'no duplicate keys');
      // The model re-reads from max(day) - 1 = day 2: days 2-4 carry version 2, day 1 keeps version 1.
      assert.equal(await amounts(rel), { [day(1)]: 1, [day(2)]: 2, [day(3)]: 2, [day(4)]: 2 });
    });
  }

  s(
    'microbatch: --start-date/--end-date rebuild exactly that window; without them, the last batch plus lookback',
    async () => {
      const dir = project(INCREMENTAL);
      const sel = ['events', 'inc_micro'];
      let r = await build(dir, db, { vars: { end: day(7), version: 1 }, select: sel, endDate: day(6) });
      assert.match(r.results[1].message, `incremental (full build ${day(1)}..${day(6)})`);
      assert.equal(await amounts('inc.inc_micro'), { [day(1)]: 1, [day(2)]: 1, [day(3)]: 1, [day(4)]: 1, [day(5)]: 1 });

      r = await build(dir, db, { vars: { end: day(7), version: 2 }, select: sel, startDate: day(2), endDate: day(3) });
      assert.match(r.results[1].message, `incremental microbatch, 1 batch ${day(2)}..${day(3)}`);
      assert.equal(await amounts('inc.inc_micro'), { [day(1)]: 1, [day(2)]: 2, [day(3)]: 1, [day(4)]: 1, [day(5)]: 1 });

      // No --start-date: from the latest day present (5) minus lookback=1 batch, up to --end-date (exclusive).
      r = await build(dir, db, { vars: { end: day(7), version: 3 }, select: sel, endDate: day(7) });
      assert.match(r.results[1].message, `incremental microbatch, 3 batches ${day(4)}..${day(7)}`);
      assert.equal(await amounts('inc.inc_micro'), {
        [day(1)]: 1,
        [day(2)]: 2,
        [day(3)]: 1,
        [day(4)]: 3,
        [day(5)]: 3,
        [day(6)]: 3,
      });
      assert.is((await table('inc.inc_micro')).length, 18);

      // --full-refresh rebuilds everything from begin.
      r = await build(dir, db, { vars: { end: day(7), version: 4 }, select: sel, endDate: day(8), fullRefresh: true });
      assert.equal(Object.values(await amounts('inc.inc_micro')), [4, 4, 4, 4, 4, 4, 4]);
    },
  );

  s('incremental equivalence: day-by-day incremental builds equal one full refresh, for every strategy', async () => {
    const dir = project(INCREMENTAL);
    const rels = ['inc.inc_append', 'inc.inc_delins', 'inc.inc_merge', 'inc.inc_micro'];
    for (let d = 1; d <= 6; d++) {
      const r = await build(dir, db, { vars: { end: day(d) }, endDate: day(8) });
      assert.ok(r.ok, JSON.stringify(r.results.filter((x) => x.status !== 'success')));
    }
    const incremental = await Promise.all(rels.map((rel) => table(rel)));
    for (const rows of incremental) assert.is(rows.length, 18);
    const r = await build(dir, db, { vars: { end: day(6) }, endDate: day(8), fullRefresh: true });
    assert.ok(r.ok);
    assert.ok(r.results.every((x) => x.message.includes('full build') || !x.unique_id.includes('inc_')));
    for (const [i, rel] of rels.entries())
      assert.equal(await table(rel), incremental[i], `${rel} differs after --full-refresh`);
    assert.equal(incremental[0], incremental[3]);
  });

  s('on_schema_change: fail explains the fix; append_new_columns adds the column', async () => {
    const model = (cols: string, mode: string) => ({
      'models/osc/m.sql':
        `{{ config(materialized='incremental', on_schema_change='${mode}') }}\n` +
        `select ${cols} from generate_series(1, 2) id`,
    });
    const dir = project(model('id', 'fail'));
    await build(dir, db);
    writeProject(model('id, id * 2 as twice', 'fail'), dir);
    let r = await build(dir, db);
    assert.is(r.byName.m, 'error');
    assert.match(r.results[0].message, "added: twice; removed: none) and on_schema_change is 'fail'");
    assert.match(r.results[0].message, '--full-refresh --select m');
    writeProject(model('id, id * 2 as twice', 'append_new_columns'), dir);
    r = await build(dir, db);
    assert.ok(r.ok);
    assert.equal(await rowsOf(db, 'select id, twice from osc.m order by id, twice nulls first'), [
      { id: 1, twice: null },
      { id: 1, twice: 2 },
      { id: 2, twice: null },
      { id: 2, twice: 4 },
    ]);
  });
  s.run();

  const sw = suite(`[${kind}] atomic swap`);
  sw.before(async () => {
    t = await freshTarget(kind);
    db = await connect(t.target);
  });
  sw.after(async () => {
    await db.close();
    await t.dispose();
  });
  sw.before.each(async () => resetSchemas(db));

  const SWAP = {
    'models/sw/t.sql': `{{ config(materialized='table') }}
select id{% if not var('drop_v', false) %}, {{ var('v', 1) }} as v{% endif %}
from generate_series(1, 3) id
{% if var('fail', false) %}where 1 / (id - id) = 1{% endif %}`,
    'models/sw/tv.sql': `select {% if var('flip', false) %}v, id{% else %}id, v{% endif %} from {{ ref('t') }}`,
    'models/sw/tvv.sql': `select sum(v) as total from {{ ref('tv') }}`,
  };
  const setup = async () => {
    const dir = project(SWAP);
    assert.ok((await build(dir, db)).ok);
    // A view in another schema, made by someone else, on the model's table.
    await db.knex.raw('create schema other');
    await db.knex.raw('create view other.ext as select count(*) as n, sum(v) as s from sw.t');
    return dir;
  };
  const readable = async (v: number) => {
    assert.equal(
      await rowsOf(db, 'select id, v from sw.t order by id'),
      [1, 2, 3].map((id) => ({ id, v })),
    );
    assert.equal(await rowsOf(db, 'select count(*) as n from sw.tv'), [{ n: 3 }]);
    assert.equal(await rowsOf(db, 'select total from sw.tvv'), [{ total: 3 * v }]);
    assert.equal(await rowsOf(db, 'select n, s from other.ext'), [{ n: 3, s: 3 * v }]);
  };

  sw('a failing rebuild leaves the old table and its dependent views intact and readable', async () => {
    const dir = await setup();
    const r = await build(dir, db, { select: ['t'], vars: { fail: true, v: 2 } });
    assert.is(r.byName.t, 'error');
    assert.match(r.results[0].message, 'division by zero');
    await readable(1);
    assert.equal(await scratchRelations(db), []);
  });

  sw('a rebuild whose columns break a dependent view rolls back the whole swap', async () => {
    const dir = await setup();
    const r = await build(dir, db, { select: ['t'], vars: { drop_v: true } });
    assert.is(r.byName.t, 'error');
    assert.match(r.results[0].message, 'breaks dependent view');
    assert.match(r.results[0].message, 'The old relation and its views are left in place');
    await readable(1);
    assert.equal(await scratchRelations(db), []);
  });

  sw('a successful rebuild swaps the data in and keeps dependent views, also in another schema', async () => {
    const dir = await setup();
    const r = await build(dir, db, { select: ['t'], vars: { v: 5 } });
    assert.ok(r.ok, JSON.stringify(r.results));
    await readable(5);
    const kinds = await rowsOf(
      db,
      `select relname, relkind from pg_class where relname in ('t', 'tv', 'tvv', 'ext') order by relname`,
    );
    assert.equal(
      kinds.map((k) => `${k.relname}:${k.relkind}`),
      ['ext:v', 't:r', 'tv:v', 'tvv:v'],
    );
    // Views rebuilt on a view model keep working too.
    assert.ok((await build(dir, db, { select: ['tv'], vars: { v: 6 } })).ok);
    await readable(5);
    assert.equal(await scratchRelations(db), []);
  });

  sw(
    'a view model is replaced in place, or swapped when its columns change; its dependents keep working either way',
    async () => {
      const dir = await setup();
      const oid = async (name: string) => (await rowsOf(db, `select ?::regclass::oid as oid`, [name]))[0].oid;
      const tvv = await oid('sw.tvv');
      assert.ok((await build(dir, db, { select: ['tv'] })).ok);
      assert.is(await oid('sw.tvv'), tvv, 'same columns: replaced in place, the dependent view is untouched');
      const r = await build(dir, db, { select: ['tv'], vars: { flip: true } });
      assert.ok(r.ok, JSON.stringify(r.results));
      assert.equal(
        (await columnsOf(db.knex, 'sw', 'tv')).map((c) => c.name),
        ['v', 'id'],
      );
      assert.is.not(await oid('sw.tvv'), tvv, 'columns reordered: swapped, the dependent view recreated');
      await readable(1);
      assert.equal(await scratchRelations(db), []);
    },
  );

  sw('a readers sees the old or the new table, never neither, while a swap runs', async () => {
    if (kind === 'pglite') {
      // PGlite is one session: there is no concurrent reader to race with; check the end state instead.
      const dir = await setup();
      assert.ok((await build(dir, db, { select: ['t'], vars: { v: 2 } })).ok);
      await readable(2);
      return;
    }
    const dir = await setup();
    let stop = false;
    const errors: string[] = [];
    let reads = 0;
    // One reader follows a chain of views down to the table; the other joins two views in the order
    // opposite to the swap's, the case where only the swap's yielding on a lock conflict avoids a deadlock.
    const reader = (sql: string, pauseMs: number) =>
      (async () => {
        while (!stop) {
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
          try {
            const rows = await rowsOf(db, sql);
            if (![3, 6, 9, 12].includes(Number(rows[0].s))) errors.push(`odd total ${rows[0].s}`);
            reads++;
          } catch (err) {
            errors.push(`${sql} - ${(err as Error).message}`);
          }
        }
      })();
    const readers = [
      reader('select s from other.ext', 0),
      reader('select max(e.s) as s from other.ext e cross join sw.tv', 5),
    ];
    for (const v of [2, 3, 4]) {
      const r = await build(dir, db, { select: ['t'], vars: { v }, threads: 1 });
      assert.ok(r.ok, JSON.stringify(r.results));
    }
    stop = true;
    await Promise.all(readers);
    assert.ok(reads > 0);
    assert.equal(errors, []);
  });

  if (isServer(kind)) {
    sw(
      'a reader that locks views in the opposite order is never the deadlock victim: the swap yields and retries',
      async () => {
        const dir = await setup();
        const reader = await db.knex.transaction();
        try {
          // The reader holds sw.tv; the swap drops sw.tvv (granted) and then waits for sw.tv.
          await reader.raw('select count(*) from sw.tv');
          const swap = build(dir, db, { select: ['t'], vars: { v: 7 }, threads: 1 });
          const waiting = `select count(*)::int as n from pg_locks
            where not granted and database = (select oid from pg_database where datname = current_database())`;
          for (let i = 0; i < 600 && Number((await rowsOf(db, waiting))[0].n) === 0; i++)
            await new Promise((r) => setTimeout(r, 50));
          assert.is(Number((await rowsOf(db, waiting))[0].n), 1, 'the swap waits for the reader');
          // Now the reader asks for sw.tvv, which the swap holds: a deadlock that the swap must resolve by yielding.
          assert.equal((await reader.raw('select total from sw.tvv')).rows, [{ total: 3 }]);
          await reader.commit();
          const r = await swap;
          assert.ok(r.ok, JSON.stringify(r.results));
        } finally {
          if (!reader.isCompleted()) await reader.rollback();
        }
        await readable(7);
        assert.equal(await scratchRelations(db), []);
      },
    );
  }

  if (isServer(kind)) {
    sw('two tables under one view, rebuilt side by side, both swap in and the view follows both', async () => {
      const table = (n: number) =>
        `{{ config(materialized='table') }}\nselect id, id * {{ var('v', 1) }} as v${n} from generate_series(1, 3) id`;
      const dir = project({
        'models/pair/p1.sql': table(1),
        'models/pair/p2.sql': table(2),
        'models/pair/pv.sql': `select p1.id, v1, v2 from {{ ref('p1') }} p1 join {{ ref('p2') }} p2 using (id)`,
      });
      assert.ok((await build(dir, db)).ok);
      // Both swaps find the view; without taking turns one of them drops a view the other already replaced.
      for (let v = 2; v <= 8; v++) {
        const r = await build(dir, db, { select: ['p1', 'p2'], vars: { v }, threads: 2 });
        assert.ok(r.ok, JSON.stringify(r.results));
        assert.equal(await rowsOf(db, 'select sum(v1)::int as s1, sum(v2)::int as s2 from pair.pv'), [
          { s1: 6 * v, s2: 6 * v },
        ]);
      }
      assert.equal(await scratchRelations(db), []);
    });
  }

  sw(
    'selected models that an unselected one connects are built in order: the later table sees the new data',
    async () => {
      // z_first -> m_view (not selected) -> a_last: by name a_last would come first, and side by side it would
      // read z_first's old rows while z_first is still sleeping.
      const dir = project({
        'models/chain/z_first.sql':
          "{{ config(materialized='table') }}\n" + `select {{ var('v', 1) }} as v from (select pg_sleep(0.4)) s`,
        'models/chain/m_view.sql': `select v from {{ ref('z_first') }}`,
        'models/chain/a_last.sql': `{{ config(materialized='table') }}\nselect v from {{ ref('m_view') }}`,
      });
      assert.ok((await build(dir, db)).ok);
      const r = await build(dir, db, { select: ['z_first', 'a_last'], vars: { v: 2 }, threads: 4 });
      assert.ok(r.ok, JSON.stringify(r.results));
      assert.equal(
        r.results.map((x) => r.project.nodes.get(x.unique_id)!.name),
        ['z_first', 'a_last'],
      );
      assert.equal(await rowsOf(db, 'select v from chain.a_last'), [{ v: 2 }]);
    },
  );

  sw(
    'rebuilding a table under a long chain of views stays quick (dependent-view lookup is not exponential) ' +
      'and keeps views more than 50 levels up',
    async () => {
      const files: Record<string, string> = {
        'models/ch/c0.sql': `{{ config(materialized='table') }}\nselect 1 as a, 2 as b, 3 as c`,
      };
      for (let i = 1; i <= 55; i++) files[`models/ch/c${i}.sql`] = `select a, b, c from {{ ref('c${i - 1}') }}`;
      const dir = project(files);
      assert.ok((await build(dir, db)).ok);
      const t0 = Date.now();
      const r = await build(dir, db, { select: ['c0'] });
      assert.ok(r.ok, JSON.stringify(r.results));
      assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
      assert.equal(await rowsOf(db, 'select a, b, c from ch.c55'), [{ a: 1, b: 2, c: 3 }]);
    },
  );

  sw('index names differ between runs whose tokens share a prefix, and fit in 63 bytes', () => {
    const index = { columns: ['account_id', 'date'], unique: true };
    const long = 'stg_accounts_daily_snapshots_with_a_long_name';
    assert.is.not(indexName(long, index, '0f3f34ea'), indexName(long, index, '0f11aa22'));
    assert.is(indexName(long, index, '0f3f34ea'), indexName(long, index, '0f3f34ea'));
    assert.is.not(indexName(long, index, '0f3f34ea'), indexName(long, { columns: ['date'] }, '0f3f34ea'));
    assert.ok(indexName('x'.repeat(63), index, 'aaaa1111').length <= 63);
  });

  sw('scratch names are unique per run and fit in 63 bytes', () => {
    assert.is.not(scratchName('t', 'tmp', 'aaaa1111'), scratchName('t', 'tmp', 'bbbb2222'));
    assert.is(scratchName('t', 'old', 'aaaa1111'), 't__dpm_old_aaaa1111');
    const long = scratchName('x'.repeat(63), 'tmp', 'aaaa1111');
    assert.ok(long.length <= 63, long);
    assert.is.not(long, scratchName(`${'x'.repeat(62)}y`, 'tmp', 'aaaa1111'));
  });
  sw.run();
}
