// A run killed mid-window and resumed counts exactly what an uninterrupted run counts, even when the listing
// shifts right at the checkpoint so that the first resumed page repeats records landed before the kill:
// fetched = loaded + rejected + duplicates, loaded = the firm's trades, duplicates = the records repeated.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Firm } from '../../sim/firm.ts';
import type { SimServer } from '../../sim/server.ts';
import { endpointByName } from '../../ingest/endpoints.ts';
import { TARGET_KINDS } from '../helpers/databases.ts';
import { END, START, dumpTable, makeFirm, project, sortRows, startSim, summary, truth } from './_helpers.ts';

const firm: Firm = makeFirm();
const closed = endpointByName('trades closed')!;
const expected = sortRows(closed, truth(firm, closed));
const OVERLAP = 3;
const ARGS = ['trades', 'closed', '--start-date', START, '--end-date', END, '--batch-days', '30', '--max-rps', '500'];

for (const kind of TARGET_KINDS) {
  const test = suite(`[${kind}] ingest: counts after a kill stay exact`);
  let sim: SimServer;

  test.before(async () => {
    sim = await startSim(firm);
  });
  test.after(async () => {
    await sim.close();
  });

  test('a record repeated across the checkpoint is a duplicate after the resume, as without the kill', async () => {
    const p = await project(kind, sim);
    try {
      sim.setFaults({ slow: { probability: 1, ms: 150 }, endpoints: ['trades/closed'] });
      const before = sim.stats().byEndpoint['v2/trades/closed'] ?? 0;
      const child = p.spawn([...ARGS, '--flush-rows', '500', '--concurrency', '1']);
      const exited = new Promise((r) => child.on('exit', r));
      const deadline = Date.now() + 60_000;
      while ((sim.stats().byEndpoint['v2/trades/closed'] ?? 0) - before < 4 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      let db = await p.connect();
      let checkpoint: number;
      try {
        const cp = await db.knex('dpm.ingest_checkpoints').where({ endpoint: 'trades closed' }).first();
        assert.is(cp?.status, 'running', 'the kill left the window unfinished');
        checkpoint = Number(cp.next_skip);
        assert.ok(checkpoint > 0 && checkpoint < expected.length, `next_skip ${checkpoint}`);
      } finally {
        await db.close();
      }
      // From the first resumed page on, the listing shifts back: its first records were landed before the kill.
      sim.setFaults({ duplicates: { count: 1, overlap: OVERLAP }, endpoints: ['trades/closed'] });
      const r = await p.run(ARGS);
      assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /resuming at record [\d ]+ from the checkpoint of an interrupted run/);
      assert.equal(
        summary(r.stdout),
        { fetched: expected.length + OVERLAP, loaded: expected.length, rejected: 0, duplicates: OVERLAP },
        r.stdout,
      );
      db = await p.connect();
      try {
        assert.equal(await dumpTable(db, closed), expected);
      } finally {
        await db.close();
      }
    } finally {
      await p.dispose();
    }
  });

  test.run();
}
