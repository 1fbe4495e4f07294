// The CLI end to end on both targets: exit codes, --json logs, artifacts, compile/ls, --vars, secrets
// (in-process main()); kill -9 mid-build and concurrent builds (child processes).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  copyProject,
  freshTarget,
  isServer,
  TARGET_KINDS,
  TEST_PG_URL,
  type TestTarget,
} from '../helpers/databases.ts';
import { runDpm, spawnDpm } from '../helpers/cli.ts';
import { dpm, removeDir, writeProject } from './_helpers.ts';

const FIXTURE = new URL('../fixtures/project', import.meta.url).pathname;

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? allFiles(join(dir, n)) : [join(dir, n)],
  );
}

/**
 * Runs SQL on the target: PostgreSQL directly, PGlite by opening its data directory, which only works while no
 * CLI holds it, so callers use it between runs.
 */
async function sql(t: TestTarget, dir: string, text: string): Promise<Record<string, unknown>[]> {
  if (isServer(t.kind)) {
    const c = new pg.Client({ connectionString: t.env.DPM_DATABASE_URL });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  }
  const { connect } = await import('../../runner/db/connect.ts');
  const db = await connect({ kind: 'pglite', name: 'q', dataDir: join(dir, '.dpm', 'pglite'), threads: 1 });
  try {
    return (await db.knex.raw(text)).rows;
  } finally {
    await db.close();
  }
}

function waitForOutput(child: ReturnType<typeof spawnDpm>, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`)),
      timeoutMs,
    );
    const on = (d: Buffer) => {
      out += d;
      if (pattern.test(out)) {
        clearTimeout(timer);
        done(out);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

const exited = (child: ReturnType<typeof spawnDpm>) =>
  new Promise<number | null>((done) =>
    child.exitCode !== null || child.signalCode !== null ? done(child.exitCode) : child.on('close', (c) => done(c)),
  );

for (const kind of TARGET_KINDS) {
  let t: TestTarget;
  const dirs: string[] = [];
  const s = suite(`[${kind}] cli`);
  s.before(async () => {
    t = await freshTarget(kind);
  });
  s.after(async () => {
    await t.dispose();
    for (const d of dirs) removeDir(d);
  });
  const fixture = () => {
    const d = copyProject(FIXTURE);
    dirs.push(d);
    return d;
  };

  s(
    'build: exit 0, one line per node, run_results.json records every node, compiled SQL under target/run',
    async () => {
      const dir = fixture();
      const r = await dpm(['build', '--project-dir', dir, '--end-date', '2024-05-08'], t.env);
      assert.is(r.code, 0, r.out + r.err);
      assert.match(r.out, /1 of 20 OK seed seeds\.daily_pnl \.\.\. 11 rows in \d/);
      assert.match(r.out, 'OK table model features.trader_totals ... 4 rows');
      assert.match(r.out, 'Finished build in');
      const results = JSON.parse(readFileSync(join(dir, 'target/run_results.json'), 'utf8'));
      assert.is(results.args.which, 'build');
      assert.is(results.results.length, 20);
      assert.ok(results.results.every((x: { status: string }) => ['success', 'pass'].includes(x.status)));
      const manifest = JSON.parse(readFileSync(join(dir, 'target/manifest.json'), 'utf8'));
      assert.is(Object.keys(manifest.nodes).length, 20);
      assert.equal(manifest.parent_map['model.example.top_traders'].sort(), [
        'model.example.stg_traders',
        'model.example.trader_totals',
      ]);
      assert.match(
        readFileSync(join(dir, 'target/run/models/features/trader_totals.sql'), 'utf8'),
        'with __dpm__cte___winning_days as (',
      );
    },
  );

  s(
    'exit 1 on a failed model, with the failure and the skips in run_results.json; result:error reruns it',
    async () => {
      const dir = writeProject({
        'models/a/bad.sql': `{{ config(materialized='table') }}\nselect {{ var('div', 0) }} / {{ var('div', 0) }} as x`,
        'models/a/down.sql': `select * from {{ ref('bad') }}`,
        'models/a/fine.sql': `select 1 as x`,
      });
      dirs.push(dir);
      let r = await dpm(['build', '--project-dir', dir], t.env);
      assert.is(r.code, 1);
      assert.match(r.out + r.err, /ERROR table model a\.bad/);
      assert.match(r.out + r.err, 'division by zero');
      assert.match(r.out + r.err, '1 error, 0 fail, 1 skipped');
      const results = JSON.parse(readFileSync(join(dir, 'target/run_results.json'), 'utf8')).results as {
        unique_id: string;
        status: string;
      }[];
      assert.equal(Object.fromEntries(results.map((x) => [x.unique_id, x.status])), {
        'model.t.bad': 'error',
        'model.t.down': 'skipped',
        'model.t.fine': 'success',
      });
      r = await dpm(['ls', '--project-dir', dir, '--select', 'result:error+'], t.env);
      assert.equal(r.out.trim().split('\n'), ['model bad', 'model down']);
      // --vars fixes it; rerun only what failed and what it skipped.
      r = await dpm(
        ['build', '--project-dir', dir, '--select', 'result:error+', 'result:skipped', '--vars', '{div: 2}'],
        t.env,
      );
      assert.is(r.code, 0, r.out + r.err);
      assert.match(r.out, 'Running 2 node(s)');
    },
  );

  s('--json: every stdout line is a JSON object; node lines carry node and status', async () => {
    const dir = fixture();
    const r = await dpm(
      ['build', '--project-dir', dir, '--json', '--select', '+top_traders', '--end-date', '2024-05-08'],
      t.env,
    );
    assert.is(r.code, 0, r.err);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= 5);
    assert.ok(lines.every((l) => typeof l.msg === 'string' && typeof l.level === 'string' && typeof l.ts === 'string'));
    assert.ok(lines.some((l) => l.node === 'model.example.stg_traders' && l.status === 'success'));
    assert.ok(lines.some((l) => l.node === 'test.example.unique_trader_totals_trader_id' && l.status === 'pass'));
    assert.ok(lines.some((l) => l.summary === true));
  });
  s.run();
}

const offline = suite('cli without a database');
offline('exit 2 on usage errors and project errors, with the message on stderr', async () => {
  const dir = writeProject({ 'models/m.sql': `select * from {{ ref('nope') }}` });
  try {
    let r = await dpm(['build', '--project-dir', dir, '--threads', '0']);
    assert.is(r.code, 2);
    assert.is(r.err, 'Error: --threads must be a whole number >= 1\n');
    r = await dpm(['frobnicate']);
    assert.is(r.code, 2);
    r = await dpm(['build', '--project-dir', dir, '--start-date', '2024/01/01']);
    assert.is(r.code, 2);
    assert.match(r.err, '--start-date must be YYYY-MM-DD');
    r = await dpm(['build', '--project-dir', dir]);
    assert.is(r.code, 2);
    assert.match(r.err, "Error: models/m.sql:1: ref('nope') names no model or seed.");
    r = await dpm(['ls', '--project-dir', dir, '--vars', '[1, 2]']);
    assert.is(r.code, 2);
    assert.match(r.err, '--vars must be a mapping');
    r = await dpm(['ls', '--project-dir', join(dir, 'missing')]);
    assert.is(r.code, 2);
    assert.match(r.err, 'no dpm.yml');
    r = await dpm(['ls', '--project-dir', FIXTURE, '--select', 'tags:x']);
    assert.is(r.code, 2);
    assert.match(r.err, "Did you mean 'tag'");
    // An unknown flag stops the command before it runs (no listing, no ingest), on every verb.
    r = await dpm(['ls', '--project-dir', FIXTURE, '--bogus']);
    assert.is(r.code, 2);
    assert.is(r.out, '');
    assert.is(r.err, 'Error: Unknown argument: bogus\nRun dpm --help for usage.\n');
    r = await dpm([
      'ingest',
      'trades',
      'closed',
      '--batch-dayz',
      '3',
      '--start-date',
      '2024-01-01',
      '--end-date',
      '2024-01-02',
    ]);
    assert.is(r.code, 2);
    assert.match(r.err, 'Unknown arguments: batch-dayz');
    r = await dpm(['ingest', 'trades', 'closed', '--start-date', '2024-01-05', '--end-date', '2024-01-02']);
    assert.is(r.code, 2);
    assert.is(r.err, 'Error: --start-date is after --end-date\n');
    r = await dpm(['pipeline', '--dry-run', '--start-date', '2024-1-5']);
    assert.is(r.code, 2);
    assert.is(r.err, 'Error: --start-date must be YYYY-MM-DD, got 2024-1-5\n');
  } finally {
    removeDir(dir);
  }
});

offline(
  'pipeline --dry-run: the nightly window reaches --lookback-days back (late trades land and rebuild), ' +
    'a full refresh does not',
  async () => {
    const night = [
      'pipeline',
      '--dry-run',
      '--project-dir',
      FIXTURE,
      '--start-date',
      '2025-03-03',
      '--end-date',
      '2025-03-03',
    ];
    let r = await dpm(night);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, 'ingest: fetch all for 2025-03-02..2025-03-03 into raw.*');
    assert.match(r.out, 'build: build models and run data tests for 2025-03-02..2025-03-03');
    r = await dpm([...night, '--lookback-days', '3']);
    assert.match(r.out, 'ingest: fetch all for 2025-02-28..2025-03-03 into raw.*');
    r = await dpm([...night, '--lookback-days', '0']);
    assert.match(r.out, 'build: build models and run data tests for 2025-03-03..2025-03-03');
    r = await dpm([...night, '--full-refresh']);
    assert.match(r.out, 'build: build models and run data tests (full refresh)');
    r = await dpm([...night, '--lookback-days', '-1']);
    assert.is(r.code, 2);
    assert.is(r.err, 'Error: --lookback-days must be a whole number >= 0\n');
  },
);

offline('ls prints the selection in DAG order; --output path and json', async () => {
  let r = await dpm(['ls', '--project-dir', FIXTURE, '--select', '+top_traders', '--resource-type', 'model', 'seed']);
  assert.is(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(
    [...lines].sort(),
    [
      'model _winning_days',
      'model stg_daily_pnl',
      'model stg_traders',
      'model top_traders',
      'model trader_totals',
      'seed daily_pnl',
      'seed traders',
    ].sort(),
  );
  assert.is(lines.at(-1), 'model top_traders');
  r = await dpm(['ls', '--project-dir', FIXTURE, '--select', 'path:models/marts', '--output', 'path']);
  assert.equal(r.out.trim(), 'models/marts/top_traders.sql');
  r = await dpm([
    'ls',
    '--project-dir',
    FIXTURE,
    '--select',
    'stg_traders',
    '--exclude',
    'test_name:unique',
    '--output',
    'json',
  ]);
  const objs = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(objs.map((o) => o.name).sort(), [
    'accepted_values_stg_traders_country',
    'not_null_stg_traders_trader_id',
    'relationships_stg_daily_pnl_trader_id',
    'stg_traders',
  ]);
});

offline(
  'compile writes target/compiled/... and manifest.json without a database (no incremental models selected)',
  async () => {
    const dir = copyProject(FIXTURE);
    try {
      const r = await dpm([
        'compile',
        '--project-dir',
        dir,
        '--select',
        'trader_totals+',
        '--vars',
        '{rolling_days: 9}',
      ]);
      assert.is(r.code, 0, r.err);
      const sql = readFileSync(join(dir, 'target/compiled/models/features/trader_totals.sql'), 'utf8');
      assert.match(sql, 'with __dpm__cte___winning_days as (');
      assert.match(sql, '(count(wins.date))::double precision / nullif((count(*))::double precision, 0)');
      assert.ok(existsSync(join(dir, 'target/compiled/models/marts/top_traders.sql')));
      assert.ok(existsSync(join(dir, 'target/compiled/tests/unique_trader_totals_trader_id.sql')));
      assert.not.ok(existsSync(join(dir, 'target/compiled/models/staging/stg_traders.sql')));
      assert.not.ok(existsSync(join(dir, '.dpm')), 'no database was opened');
      assert.ok(existsSync(join(dir, 'target/manifest.json')));
    } finally {
      removeDir(dir);
    }
  },
);

offline('compile with an incremental model renders is_incremental() from the database', async () => {
  const dir = copyProject(FIXTURE);
  try {
    const r = await dpm([
      'compile',
      '--project-dir',
      dir,
      '--select',
      'trader_rolling_pnl',
      '--vars',
      '{rolling_days: 9}',
    ]);
    assert.is(r.code, 0, r.err);
    const sql = readFileSync(join(dir, 'target/compiled/models/features/trader_rolling_pnl.sql'), 'utf8');
    assert.match(sql, 'rows between 8 preceding and current row');
  } finally {
    removeDir(dir);
  }
});
offline.run();

const secrets = suite('[postgres] secrets');
secrets('a DB URL password never appears in output or under target/', async () => {
  if (!TARGET_KINDS.includes('postgres')) {
    assert.ok(true);
    return;
  }
  const t = await freshTarget('postgres');
  const password = 'Sup3rSecretPw';
  const url = new URL(t.env.DPM_DATABASE_URL);
  url.password = password;
  const dir = writeProject({
    // A model that drags the URL into its SQL and fails: the message, compiled SQL and logs must hide it.
    'models/s/leaky.sql':
      "{{ config(materialized='table') }}\n" + `select '{{ env_var("DPM_DATABASE_URL") }}' as url, 1 / 0 as boom`,
    'models/s/ok.sql': `select '{{ env_var("DPM_DATABASE_URL") }}' as url`,
  });
  try {
    // Trust authentication ignores the password, so the connection works and the password travels everywhere.
    const env = { DPM_DATABASE_URL: url.toString() };
    const outputs = [
      await dpm(['build', '--project-dir', dir], env),
      await dpm(['build', '--project-dir', dir, '--json'], env),
      await dpm(['debug', '--project-dir', dir], env),
    ];
    assert.is(outputs[0].code, 1);
    assert.is(outputs[2].code, 0, outputs[2].err);
    assert.match(outputs[2].out, 'connection: OK');
    assert.match(outputs[2].out, '****');
    for (const o of outputs) {
      assert.not.match(o.out + o.err, password);
    }
    const files = allFiles(join(dir, 'target'));
    assert.ok(files.some((f) => f.endsWith('ok.sql')));
    for (const f of files) assert.not.match(readFileSync(f, 'utf8'), password, f);
    const c = new pg.Client({ connectionString: TEST_PG_URL.replace(/\/[^/]*$/, url.pathname) });
    await c.connect();
    const { rows } = await c.query(`select message from dpm.run_nodes`);
    await c.end();
    assert.ok(rows.length >= 2);
    for (const r of rows) assert.not.match(String(r.message), password);
  } finally {
    removeDir(dir);
    await t.dispose();
  }
});
secrets.run();

// ----------------------------------------------------------------------------------------------
// Child processes: kill -9 in the middle of a build, and two builds at once on one target.

const SLOW = {
  'models/k/slow.sql': `{{ config(materialized='table') }}
-- sleeps while it is being built, when asked to
select g, {{ var('v', 1) }} as v from generate_series(1, 1000) g, pg_sleep({{ var('sleep', 0) }}) s`,
  'models/k/slow_view.sql': `select count(*) as n, sum(v) as total from {{ ref('slow') }}`,
  'models/k/other.sql': `{{ config(materialized='table') }}\nselect 1 as x`,
};

for (const kind of TARGET_KINDS) {
  const p = suite(`[${kind}] kill -9 and locks`);
  let t: TestTarget;
  const dirs: string[] = [];
  p.before(async () => {
    t = await freshTarget(kind);
  });
  p.after(async () => {
    await t.dispose();
    for (const d of dirs) removeDir(d);
  });

  p('kill -9 in the middle of a table build; the rerun leaves no scratch relations and the right data', async () => {
    const dir = writeProject({ ...SLOW });
    dirs.push(dir);
    let r = await runDpm(['build', '--project-dir', dir], { cwd: dir, env: t.env });
    assert.is(r.code, 0, r.stdout + r.stderr);
    const child = spawnDpm(
      ['build', '--project-dir', dir, '--log-level', 'debug', '--vars', '{sleep: 3, v: 2}', '--threads', '1'],
      { cwd: dir, env: t.env },
    );
    let seen = '';
    child.stdout!.on('data', (d) => (seen += d));
    await waitForOutput(child, /START table model k\.slow/);
    await new Promise((res) => setTimeout(res, 700));
    child.kill('SIGKILL');
    await exited(child);
    assert.is(child.signalCode, 'SIGKILL');
    assert.not.match(seen, 'OK table model k.slow', 'killed while building slow');
    r = await runDpm(['build', '--project-dir', dir, '--vars', '{v: 3}'], { cwd: dir, env: t.env });
    assert.is(r.code, 0, r.stdout + r.stderr);
    if (isServer(kind)) {
      // The killed client's backend finishes its statement on its own; wait until it is gone.
      for (let i = 0; i < 100; i++) {
        const busy = await sql(
          t,
          dir,
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and query like '%pg_sleep%' and pid <> pg_backend_pid()`,
        );
        if (busy[0].n === 0) break;
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    const leftovers = await sql(
      t,
      dir,
      `select relname from pg_class where relname like '%\\_\\_dpm\\_%' and relkind in ('r', 'v', 'm')`,
    );
    assert.equal(leftovers, []);
    assert.equal(await sql(t, dir, 'select n::int as n, total::int as total from k.slow_view'), [
      { n: 1000, total: 3000 },
    ]);
    if (kind === 'pglite')
      assert.not.ok(
        existsSync(join(dir, '.dpm', 'pglite.lock')),
        'the lock of the killed run was taken over and released',
      );
  });

  p('a second concurrent build fails fast with a clear message, or waits with --lock-wait', async () => {
    const dir = writeProject({ ...SLOW });
    dirs.push(dir);
    const first = spawnDpm(['build', '--project-dir', dir, '--log-level', 'debug', '--vars', '{sleep: 6}'], {
      cwd: dir,
      env: t.env,
    });
    await waitForOutput(first, /START table model k\.slow/);
    const second = await runDpm(['build', '--project-dir', dir], { cwd: dir, env: t.env });
    assert.is(second.code, 1, second.stdout + second.stderr);
    if (isServer(kind)) assert.match(second.stderr, "another dpm run holds the run lock on target 'env'");
    else assert.match(second.stderr, 'the embedded database is in use by another dpm process');
    assert.match(second.stderr, '--lock-wait');
    const t0 = Date.now();
    const third = await runDpm(['build', '--project-dir', dir, '--lock-wait', '60', '--vars', '{v: 7}'], {
      cwd: dir,
      env: t.env,
    });
    assert.is(third.code, 0, third.stdout + third.stderr);
    assert.is(await exited(first), 0);
    assert.ok(Date.now() - t0 > 1000, 'the third build queued behind the first');
    assert.equal(await sql(t, dir, 'select total::int as total from k.slow_view'), [{ total: 7000 }]);
  });
  p.run();
}
