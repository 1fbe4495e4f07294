// dbt's snapshots as dbt-core 1.9 builds them on PostgreSQL: `{% snapshot %}` blocks and yml `relation:` entries,
// the timestamp and check strategies, hard deletes, dbt's meta columns and their values, refs to snapshots,
// selection, the `dpm snapshot` command, and load-time errors. Runs on both targets.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Dag } from '../../runner/graph/dag.ts';
import { selectNodes } from '../../runner/graph/select.ts';
import { compileNode } from '../../runner/project/compile.ts';
import { loadProject } from '../../runner/project/load.ts';
import type { SnapshotNode } from '../../runner/project/nodes.ts';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { assertLoadErrors, databaseSuite, build, dpm, removeDir, rowsOf, writeProject } from './_helpers.ts';

const SOURCES = `sources:
  - name: raw
    tables:
      - name: accounts
`;

/** A snapshot file of one block over raw.accounts with the given config() arguments. */
const snapshotFile = (name: string, config: string) => `{% snapshot ${name} %}
{{ config(${config}) }}
select * from {{ source('raw', 'accounts') }}
{% endsnapshot %}
`;

const CURRENT_ACCOUNTS = `select id, status from {{ ref('accounts_history') }} where dbt_valid_to is null`;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

for (const kind of TARGET_KINDS) {
  const dbSuite = databaseSuite(`[${kind}] dbt snapshots`, kind);
  const test = dbSuite.test;
  const project = (files: Record<string, string>) => dbSuite.project({ 'models/sources.yml': SOURCES, ...files });
  const sql = (text: string) => dbSuite.db.knex.raw(text);
  /** raw.accounts: the source every snapshot here reads, changed between runs as an application would. */
  const accounts = async (values: string) => {
    await sql('create schema if not exists raw');
    await sql('create table raw.accounts (id int, status text, plan text, updated_at timestamp)');
    await sql(`insert into raw.accounts values ${values}`);
  };
  const snapshotRun = async (dir: string) => {
    const summary = await build(dir, dbSuite.db);
    assert.ok(summary.ok, JSON.stringify(summary.results));
    return summary;
  };
  /** A snapshot table's rows, oldest version of each key first. */
  const history = (table: string, cols = 'id, status, plan, dbt_valid_from::text, dbt_valid_to::text') =>
    rowsOf(dbSuite.db, `select ${cols} from ${table} order by id, dbt_valid_from`);

  test('timestamp strategy over three runs: create, then close changed rows at their new updated_at', async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01'), (2, 'active', 'pro', '2024-01-02')`);
    const dir = project({
      'snapshots/accounts_history.sql': snapshotFile(
        'accounts_history',
        "unique_key='id', strategy='timestamp', updated_at='updated_at'",
      ),
    });
    const first = await snapshotRun(dir);
    assert.is(first.results[0].unique_id, 'snapshot.t.accounts_history');
    assert.is(first.results[0].rows_affected, 2);
    const created = await history(
      'snapshots.accounts_history',
      'id, dbt_scd_id, dbt_updated_at::text, dbt_valid_from::text, dbt_valid_to::text',
    );
    assert.equal(created, [
      {
        id: 1,
        dbt_scd_id: md5('1|2024-01-01 00:00:00'),
        dbt_updated_at: '2024-01-01 00:00:00',
        dbt_valid_from: '2024-01-01 00:00:00',
        dbt_valid_to: null,
      },
      {
        id: 2,
        dbt_scd_id: md5('2|2024-01-02 00:00:00'),
        dbt_updated_at: '2024-01-02 00:00:00',
        dbt_valid_from: '2024-01-02 00:00:00',
        dbt_valid_to: null,
      },
    ]);

    // A change with a new updated_at, a new key, and a change that keeps its updated_at (not a change to dbt).
    await sql(`update raw.accounts set status = 'suspended', updated_at = '2024-01-05' where id = 1`);
    await sql(`update raw.accounts set plan = 'basic' where id = 2`);
    await sql(`insert into raw.accounts values (3, 'active', 'basic', '2024-01-06')`);
    const second = await snapshotRun(dir);
    assert.is(second.results[0].message, 'snapshot (2 new row versions, 1 closed)');
    const expected = [
      {
        id: 1,
        status: 'active',
        plan: 'basic',
        dbt_valid_from: '2024-01-01 00:00:00',
        dbt_valid_to: '2024-01-05 00:00:00',
      },
      { id: 1, status: 'suspended', plan: 'basic', dbt_valid_from: '2024-01-05 00:00:00', dbt_valid_to: null },
      { id: 2, status: 'active', plan: 'pro', dbt_valid_from: '2024-01-02 00:00:00', dbt_valid_to: null },
      { id: 3, status: 'active', plan: 'basic', dbt_valid_from: '2024-01-06 00:00:00', dbt_valid_to: null },
    ];
    assert.equal(await history('snapshots.accounts_history'), expected);

    const third = await snapshotRun(dir);
    assert.is(third.results[0].message, 'snapshot (0 new row versions, 0 closed)');
    assert.equal(await history('snapshots.accounts_history'), expected);
  });

  test("check strategy: check_cols as a list and 'all', two blocks in a file, a column added", async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01'), (2, 'active', 'pro', '2024-01-01')`);
    const dir = project({
      'snapshots/accounts.sql':
        snapshotFile('accounts_status', "unique_key=['id'], strategy='check', check_cols=['status']") +
        '\n-- a second block in the same file\n' +
        snapshotFile('accounts_all', "unique_key='id', strategy='check', check_cols='all'"),
    });
    await snapshotRun(dir);
    await sql(`update raw.accounts set plan = 'pro' where id = 1`);
    const second = await snapshotRun(dir);
    const message = (name: string, s = second) => s.results.find((r) => r.unique_id === `snapshot.t.${name}`)?.message;
    assert.is(message('accounts_status'), 'snapshot (0 new row versions, 0 closed)', 'plan is not in check_cols');
    assert.is(message('accounts_all'), 'snapshot (1 new row versions, 1 closed)');
    // Check closes the old version at the snapshot time, when the new one starts; dbt_updated_at is that time too.
    const versions = await rowsOf(
      dbSuite.db,
      `select old.dbt_valid_to = new.dbt_valid_from as adjoining, new.dbt_updated_at = new.dbt_valid_from as stamped,
         new.dbt_valid_from between now()::timestamp - interval '10 minutes' and now()::timestamp as recent,
         new.dbt_scd_id = md5(new.id::varchar || '|' || new.dbt_updated_at::varchar) as scd
       from snapshots.accounts_all old join snapshots.accounts_all new
         on new.id = old.id and old.dbt_valid_to is not null and new.dbt_valid_to is null`,
    );
    assert.equal(versions, [{ adjoining: true, stamped: true, recent: true, scd: true }]);

    await sql(`update raw.accounts set status = 'closed' where id = 2`);
    const third = await snapshotRun(dir);
    assert.is(message('accounts_status', third), 'snapshot (1 new row versions, 1 closed)');
    assert.equal(await history('snapshots.accounts_status', 'id, status, dbt_valid_to is null as current'), [
      { id: 1, status: 'active', current: true },
      { id: 2, status: 'active', current: false },
      { id: 2, status: 'closed', current: true },
    ]);

    // A column new in the query: the tables gain it; 'all' counts every row as changed (dbt's column_added).
    await sql(`alter table raw.accounts add column region text default 'eu'`);
    const fourth = await snapshotRun(dir);
    assert.is(message('accounts_all', fourth), 'snapshot (2 new row versions, 2 closed)');
    assert.is(message('accounts_status', fourth), 'snapshot (0 new row versions, 0 closed)');
    const regions = await rowsOf(
      dbSuite.db,
      `select count(*)::int as n, count(region)::int as with_region from snapshots.accounts_status`,
    );
    assert.equal(regions, [{ n: 3, with_region: 0 }]);
  });

  test("hard_deletes 'invalidate' closes a deleted key at the snapshot time; it comes back anew", async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01'), (2, 'active', 'pro', '2024-01-02')`);
    const dir = project({
      'snapshots/accounts_inv.sql': snapshotFile(
        'accounts_inv',
        "unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate'",
      ),
    });
    await snapshotRun(dir);
    await sql('delete from raw.accounts where id = 2');
    const second = await snapshotRun(dir);
    assert.is(second.results[0].message, 'snapshot (0 new row versions, 1 closed)');
    const closed = await rowsOf(
      dbSuite.db,
      `select id, dbt_valid_to between now()::timestamp - interval '10 minutes' and now()::timestamp as at_snapshot_time
       from snapshots.accounts_inv where dbt_valid_to is not null`,
    );
    assert.equal(closed, [{ id: 2, at_snapshot_time: true }]);
    await sql(`insert into raw.accounts values (2, 'active', 'basic', '2024-02-01')`);
    await snapshotRun(dir);
    assert.equal(await history('snapshots.accounts_inv', 'id, plan'), [
      { id: 1, plan: 'basic' },
      { id: 2, plan: 'pro' },
      { id: 2, plan: 'basic' },
    ]);
    const current = await rowsOf(
      dbSuite.db,
      'select count(*)::int as n from snapshots.accounts_inv where dbt_valid_to is null',
    );
    assert.equal(current, [{ n: 2 }]);
  });

  test("hard_deletes 'new_record' records a deletion once, as a version with dbt_is_deleted 'True'", async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01'), (2, 'active', 'pro', '2024-01-02')`);
    const dir = project({
      'snapshots/accounts_nr.sql': snapshotFile(
        'accounts_nr',
        "unique_key='id', strategy='check', check_cols='all', hard_deletes='new_record'",
      ),
    });
    await snapshotRun(dir);
    const cols = 'id, plan, dbt_is_deleted, dbt_valid_from::text, dbt_valid_to::text';
    const flags = async () =>
      (await history('snapshots.accounts_nr', cols)).map((r) => [r.id, r.plan, r.dbt_is_deleted, r.dbt_valid_to]);
    assert.equal(await flags(), [
      [1, 'basic', 'False', null],
      [2, 'pro', 'False', null],
    ]);
    await sql('delete from raw.accounts where id = 2');
    const second = await snapshotRun(dir);
    assert.is(second.results[0].message, 'snapshot (1 new row versions, 1 closed)');
    const deleted = await history('snapshots.accounts_nr', cols);
    assert.is(deleted.length, 3);
    // The live version closes when the deletion version starts, which keeps the key's last values.
    assert.is(deleted[1].dbt_valid_to, deleted[2].dbt_valid_from);
    assert.equal([deleted[2].plan, deleted[2].dbt_is_deleted, deleted[2].dbt_valid_to], ['pro', 'True', null]);

    const third = await snapshotRun(dir);
    assert.is(third.results[0].message, 'snapshot (0 new row versions, 0 closed)', 'no second deletion record');

    await sql(`insert into raw.accounts values (2, 'active', 'basic', '2024-03-01')`);
    await snapshotRun(dir);
    const back = await history('snapshots.accounts_nr', cols);
    assert.equal(
      back.map((r) => [r.id, r.plan, r.dbt_is_deleted]),
      [
        [1, 'basic', 'False'],
        [2, 'pro', 'False'],
        [2, 'pro', 'True'],
        [2, 'basic', 'False'],
      ],
    );
    assert.is(back[2].dbt_valid_to, back[3].dbt_valid_from, 'the deletion version closes when the key returns');
    assert.is(back[3].dbt_valid_to, null);
  });

  test('a model refs a snapshot and builds after it; yml tests attach to the snapshot', async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01'), (2, 'closed', 'pro', '2024-01-02')`);
    const dir = project({
      'snapshots/accounts_history.sql': snapshotFile(
        'accounts_history',
        "unique_key='id', strategy='timestamp', updated_at='updated_at'",
      ),
      'snapshots/accounts_history.yml': `snapshots:
  - name: accounts_history
    description: Every version of every account.
    columns:
      - name: dbt_scd_id
        data_tests: [unique, not_null]
`,
      'models/marts/current_accounts.sql': CURRENT_ACCOUNTS,
    });
    const summary = await snapshotRun(dir);
    const order = summary.results.map((r) => r.unique_id);
    assert.ok(
      order.indexOf('snapshot.t.accounts_history') < order.indexOf('model.t.current_accounts'),
      order.join(', '),
    );
    assert.equal(summary.byName, {
      accounts_history: 'success',
      current_accounts: 'success',
      unique_accounts_history_dbt_scd_id: 'pass',
      not_null_accounts_history_dbt_scd_id: 'pass',
    });
    assert.equal(summary.project.nodes.get('model.t.current_accounts')?.dependsOn, ['snapshot.t.accounts_history']);
    assert.is(summary.project.nodes.get('snapshot.t.accounts_history')?.description, 'Every version of every account.');
    assert.equal(await rowsOf(dbSuite.db, 'select * from marts.current_accounts order by id'), [
      { id: 1, status: 'active' },
      { id: 2, status: 'closed' },
    ]);
  });

  test('the yml form (relation:, config:), target_schema, meta column names, dbt_valid_to_current', async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01')`);
    const dir = project({
      'snapshots/accounts.yml': `snapshots:
  - name: accounts_scd
    relation: source('raw', 'accounts')
    config:
      target_schema: history
      unique_key: id
      strategy: timestamp
      updated_at: updated_at
      dbt_valid_to_current: "'9999-12-31'::timestamp"
      snapshot_meta_column_names:
        dbt_valid_from: valid_from
        dbt_valid_to: valid_to
        dbt_scd_id: scd_id
        dbt_updated_at: updated_at_snapshot
`,
    });
    await snapshotRun(dir);
    await sql(`update raw.accounts set plan = 'pro', updated_at = '2024-02-01' where id = 1`);
    await snapshotRun(dir);
    const rows = await rowsOf(
      dbSuite.db,
      `select plan, valid_from::text, valid_to::text, updated_at_snapshot::text, scd_id = md5('1|' || updated_at::text)
         as scd_ok from history.accounts_scd order by valid_from`,
    );
    assert.equal(rows, [
      {
        plan: 'basic',
        valid_from: '2024-01-01 00:00:00',
        valid_to: '2024-02-01 00:00:00',
        updated_at_snapshot: '2024-01-01 00:00:00',
        scd_ok: true,
      },
      {
        plan: 'pro',
        valid_from: '2024-02-01 00:00:00',
        valid_to: '9999-12-31 00:00:00',
        updated_at_snapshot: '2024-02-01 00:00:00',
        scd_ok: true,
      },
    ]);
  });

  test('a failing run writes nothing: the close and the insert are one transaction', async () => {
    await accounts(`(1, 'active', 'basic', '2024-01-01'), (2, 'active', 'pro', '2024-01-02')`);
    const dir = project({
      'snapshots/accounts_history.sql': snapshotFile(
        'accounts_history',
        "unique_key='id', strategy='timestamp', updated_at='updated_at'",
      ),
    });
    await snapshotRun(dir);
    // A unique index on the key lets the close through and fails the insert of the new version.
    await sql('create unique index accounts_history_one_per_id on snapshots.accounts_history (id)');
    await sql(`update raw.accounts set status = 'suspended', updated_at = '2024-01-05' where id = 1`);
    const failed = await build(dir, dbSuite.db);
    assert.is(failed.results[0].status, 'error');
    assert.match(failed.results[0].message, 'accounts_history_one_per_id');
    assert.equal(await history('snapshots.accounts_history', 'id, status, dbt_valid_to::text'), [
      { id: 1, status: 'active', dbt_valid_to: null },
      { id: 2, status: 'active', dbt_valid_to: null },
    ]);
  });

  test('dpm snapshot builds only snapshots, dpm run none, dpm build both; ls lists them by resource type', async () => {
    const dir = writeProject({
      'seeds/accounts.csv': 'id,status,updated_at\n1,active,2024-01-01 00:00:00\n2,active,2024-01-02 00:00:00\n',
      'snapshots/accounts_history.sql': `{% snapshot accounts_history %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select * from {{ ref('accounts') }}
{% endsnapshot %}`,
      'models/marts/current_accounts.sql': CURRENT_ACCOUNTS,
    });
    dbSuite.keep(dir);
    const run = (...args: string[]) => dpm([...args, '--project-dir', dir], dbSuite.target.env);
    let r = await run('ls', '--resource-type', 'snapshot');
    assert.is(r.out, 'snapshot accounts_history\n');
    r = await run('seed');
    assert.is(r.code, 0, r.out + r.err);
    r = await run('snapshot');
    assert.is(r.code, 0, r.out + r.err);
    assert.match(r.out, /1 of 1 OK snapshot snapshots\.accounts_history \.\.\. 2 rows/);
    r = await run('run');
    assert.is(r.code, 0, r.out + r.err);
    assert.match(r.out, /1 of 1 OK view model marts\.current_accounts/);
    assert.not.match(r.out, 'snapshot');
    writeProject(
      { 'seeds/accounts.csv': 'id,status,updated_at\n1,closed,2024-01-09 00:00:00\n2,active,2024-01-02 00:00:00\n' },
      dir,
    );
    r = await run('build', '--select', '+current_accounts');
    assert.is(r.code, 0, r.out + r.err);
    assert.match(r.out, /2 of 3 OK snapshot snapshots\.accounts_history \.\.\. 1 rows/);
  });

  test.run();
}

const load = suite('snapshot loading, selection and errors');

load('a snapshot is a graph node: its id, relation, dependencies and selectors', () => {
  const dir = writeProject({
    'models/sources.yml': SOURCES,
    'snapshots/crm/accounts_history.sql': snapshotFile(
      'accounts_history',
      "unique_key='id', strategy='timestamp', updated_at='updated_at', tags=['history']",
    ),
    'models/marts/current_accounts.sql': `select * from {{ ref('accounts_history') }}`,
  });
  try {
    const project = loadProject(dir);
    const snap = project.nodes.get('snapshot.t.accounts_history') as SnapshotNode;
    assert.is(snap.resourceType, 'snapshot');
    assert.is(String(snap.relation), 'snapshots.accounts_history');
    assert.equal(snap.fqn, ['t', 'crm', 'accounts_history']);
    assert.equal(snap.tags, ['crm', 'history']);
    assert.equal(snap.config.hard_deletes, 'ignore');
    const dag = new Dag(project.nodes);
    const pick = (select: string[], resourceTypes?: ('model' | 'snapshot')[]) =>
      [...selectNodes(dag, { select, resourceTypes })].sort();
    assert.equal(pick(['resource_type:snapshot']), ['snapshot.t.accounts_history']);
    assert.equal(pick(['accounts_history']), ['snapshot.t.accounts_history']);
    assert.equal(pick(['tag:history', 'source:raw']), ['snapshot.t.accounts_history']);
    assert.equal(pick(['config.strategy:timestamp']), ['snapshot.t.accounts_history']);
    assert.equal(pick(['+current_accounts']), ['model.t.current_accounts', 'snapshot.t.accounts_history']);
    assert.equal(pick(['+current_accounts'], ['model']), ['model.t.current_accounts'], 'dpm run builds no snapshot');
  } finally {
    removeDir(dir);
  }
});

load('{{ this }} in a snapshot is the snapshot table, as in dbt', () => {
  const dir = writeProject({
    'models/sources.yml': SOURCES,
    'snapshots/accounts_history.sql': `{% snapshot accounts_history %}
{{ config(unique_key='id', strategy='check', check_cols='all') }}
select * from {{ source('raw', 'accounts') }} -- into {{ this }}
{% endsnapshot %}`,
  });
  try {
    const project = loadProject(dir);
    const sql = compileNode(project.nodes.get('snapshot.t.accounts_history')!, {
      project,
      invocationId: 'i',
      runStartedAt: '2024-01-01T00:00:00Z',
      targetName: 'dev',
      fullRefresh: false,
      existing: new Map(),
    });
    assert.match(sql, '-- into snapshots.accounts_history');
  } finally {
    removeDir(dir);
  }
});

load("a dbt project's snapshot-paths and snapshots: folder config; target_schema is taken as written", () => {
  const dir = writeProject(
    {
      'dbt_project.yml': `name: shop
config-version: 2
snapshot-paths: [history]
snapshots:
  shop:
    +strategy: check
    +check_cols: all
    legacy:
      +target_schema: snapshots
`,
      'history/orders_history.sql': `{% snapshot orders_history %}
{{ config(unique_key='id', schema='archive') }}
select 1 as id
{% endsnapshot %}`,
      'history/legacy/customers_history.sql': `{% snapshot customers_history %}
{{ config(unique_key='id') }}
select 1 as id
{% endsnapshot %}`,
    },
    mkdtempSync(join(tmpdir(), 'dpm-dbt-')),
  );
  try {
    const project = loadProject(dir);
    const node = (name: string) => project.nodes.get(`snapshot.shop.${name}`) as SnapshotNode;
    assert.is(String(node('orders_history').relation), 'public_archive.orders_history', "dbt's schema naming");
    assert.is(String(node('customers_history').relation), 'snapshots.customers_history');
    assert.is(node('customers_history').config.check_cols, 'all');
  } finally {
    removeDir(dir);
  }
});

load('bad snapshots fail at load with file:line and what to do', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      {
        'snapshots/accounts_history.sql': snapshotFile('accounts_history', "unique_key='id', strategy='timestamp'"),
      },
      /^snapshots\/accounts_history\.sql:2: snapshot 'accounts_history': strategy 'timestamp' needs updated_at: add/,
    ],
    [
      { 'snapshots/a.sql': snapshotFile('a', "unique_key='id', strategy='check'") },
      /snapshots\/a\.sql:2: snapshot 'a': strategy 'check' needs check_cols/,
    ],
    [
      { 'snapshots/a.sql': snapshotFile('a', "strategy='check', check_cols='status'") },
      /snapshots\/a\.sql:2: snapshot 'a': config 'check_cols': 'all' or a list of column names/,
    ],
    [
      { 'snapshots/a.sql': snapshotFile('a', "unique_key='id', strategy='check', check_cols='all', stratgy='x'") },
      /snapshots\/a\.sql:2: snapshot 'a': unknown config key 'stratgy'\. Did you mean 'strategy'/,
    ],
    [
      {
        'snapshots/a.sql': snapshotFile(
          'a',
          "unique_key='id', strategy='check', check_cols='all', hard_deletes='ignore', invalidate_hard_deletes=True",
        ),
      },
      /snapshots\/a\.sql:2: snapshot 'a': set hard_deletes only/,
    ],
    [
      { 'snapshots/a.sql': '{% snapshot a %}\nselect 1 as id\n' },
      /snapshots\/a\.sql:1: snapshot 'a' has no \{% endsnapshot %\}: add it/,
    ],
    [
      { 'snapshots/a.sql': 'select 1 as id\n' },
      /snapshots\/a\.sql:1: text outside a \{% snapshot %\} \.\.\. \{% endsnapshot %\} block: move it into a block/,
    ],
    [
      { 'snapshots/a.yml': 'snapshots:\n  - name: a\n    relation: accounts\n' },
      /snapshots\/a\.yml:2: snapshot 'a': relation must be ref\('model'\) or source\('source', 'table'\)/,
    ],
    [
      { 'snapshots/a.yml': 'snapshots:\n  - name: a\n    description: x\n' },
      /snapshots\/a\.yml:2: properties for snapshot 'a', but no \{% snapshot a %\} block under snapshots\//,
    ],
    [
      {
        'snapshots/a.sql': snapshotFile('a', "unique_key='id', strategy='check', check_cols='all'"),
        'models/m/b.sql': "select * from {{ ref('a_history') }}",
      },
      /models\/m\/b\.sql:1: ref\('a_history'\) names no model or seed\. Did you mean 'a'/,
    ],
  ];
  assertLoadErrors(cases, { 'models/sources.yml': SOURCES });
});

load.run();
