// How a flush lands rows, on both targets: a window's new keys go straight into the raw table by COPY
// (PostgreSQL) in the checkpoint's transaction; the first flush that meets a landed key rolls back whole and
// the window goes on through the scratch table and upsert, ending with the rows the upsert alone would give.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Database } from '../../runner/db/connect.ts';
import { migrateLatest } from '../../migrations/migrate.ts';
import { endpointByName } from '../../ingest/endpoints.ts';
import { csvLine, Lander } from '../../ingest/landing.ts';
import { freshTarget, isServer, TARGET_KINDS, type TestTarget } from '../helpers/databases.ts';
import { dumpTable, expectedRow, makeFirm, sortRows, type Row } from './_helpers.ts';

const spec = endpointByName('trades closed')!;
const known = new Set(spec.fields.map((f) => f.api));
const records = JSON.parse(JSON.stringify([0, 1, 2].flatMap((d) => makeFirm().closedTrades(d)))) as Row[];
const lineOf = (r: Row) => csvLine(spec, r, known);
const WINDOW = 'w';

async function checkpoint(db: Database): Promise<{ next_skip: number; loaded: number; status: string }> {
  const cp = await db.knex('dpm.ingest_checkpoints').where({ endpoint: spec.name, window_key: WINDOW }).first();
  return { next_skip: Number(cp.next_skip), loaded: Number(cp.loaded), status: cp.status };
}

async function flush(lander: Lander, rows: Row[], nextSkip: number, done = false): Promise<void> {
  await lander.flush(rows.map(lineOf), [], spec.name, WINDOW, {
    nextSkip,
    fetched: nextSkip,
    loaded: nextSkip,
    rejected: 0,
    duplicates: 0,
    done,
  });
}

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] ingest: landing a flush`);
  let target: TestTarget;
  let db: Database;

  test.before.each(async () => {
    target = await freshTarget(kind);
    db = await connect(target.target);
    await migrateLatest(db.knex);
    await db.knex('dpm.ingest_checkpoints').insert({
      endpoint: spec.name,
      window_key: WINDOW,
      status: 'running',
      next_skip: 0,
      fetched: 0,
      loaded: 0,
      rejected: 0,
      duplicates: 0,
      updated_at: new Date(),
    });
  });
  test.after.each(async () => {
    await db.close();
    await target.dispose();
  });

  test('new keys land by direct COPY on PostgreSQL, with the checkpoint, and leave no scratch table', async () => {
    assert.ok(records.length > 100, `${records.length} records`);
    const half = Math.floor(records.length / 2);
    const lander = new Lander(db, spec, isServer(kind));
    await flush(lander, records.slice(0, half), half);
    await flush(lander, records.slice(half), records.length, true);
    await lander.close();
    assert.is(lander.directRows, isServer(kind) ? records.length : 0);
    assert.equal(
      await dumpTable(db, spec),
      sortRows(
        spec,
        records.map((r) => expectedRow(spec, r)),
      ),
    );
    assert.equal(await checkpoint(db), { next_skip: records.length, loaded: records.length, status: 'done' });
    const { rows } = await db.knex.raw(
      `select count(*)::int as n from pg_tables where schemaname = 'raw' and tablename like '\\_dpm\\_stage%'`,
    );
    assert.is(rows[0].n, 0);
  });

  test(
    'a flush that meets a landed key rolls back and upserts: ' + 'changed rows are rewritten, the rest inserted',
    async () => {
      const first = records.slice(0, 50);
      await flush(new Lander(db, spec, false), first, 50);
      // The landed copy of one record drifted from the source; the source's version must win.
      const drifted = expectedRow(spec, first[7]);
      const updated = await db
        .knex(spec.table)
        .where(Object.fromEntries(spec.key.map((c) => [c, drifted[c]])) as Record<string, string>)
        .update({ lots: 999 });
      assert.is(updated, 1);
      const before = await db.knex(spec.table).count('* as n');
      assert.is(Number(before[0].n), 50);

      const lander = new Lander(db, spec, isServer(kind));
      await flush(lander, records.slice(0, 120), 120);
      // Later flushes go straight to the upsert even when their keys are new.
      await flush(lander, records.slice(120, 200), 200, true);
      await lander.close();
      assert.is(lander.directRows, 0, 'no row landed by direct COPY once a key was found landed');
      assert.equal(
        await dumpTable(db, spec),
        sortRows(
          spec,
          records.slice(0, 200).map((r) => expectedRow(spec, r)),
        ),
      );
      assert.equal(await checkpoint(db), { next_skip: 200, loaded: 200, status: 'done' });
    },
  );

  if (kind === 'pglite') {
    test('the embedded target refuses a COPY inside a transaction instead of running it outside', async () => {
      await db.knex
        .transaction((trx) =>
          db.copyCsv(spec.table, [...spec.fields.map((f) => f.column), 'extra'], lineOf(records[0]), trx),
        )
        .then(
          () => assert.unreachable('COPY ran'),
          (err: Error) => assert.match(err.message, /needs a PostgreSQL target/),
        );
      assert.is(Number((await db.knex(spec.table).count('* as n'))[0].n), 0);
    });
  }

  test.run();
}
