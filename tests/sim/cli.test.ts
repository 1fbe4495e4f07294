import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simMain } from '../../cli/sim-command.ts';
import { generateFirm } from '../../sim/firm.ts';

const test = suite('sim cli');

function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const [log, err] = [console.log, console.error];
  console.log = console.error = () => {};
  return fn().finally(() => {
    console.log = log;
    console.error = err;
  });
}

test('usage errors exit 2', async () => {
  assert.is(await quiet(() => simMain([])), 2);
  assert.is(await quiet(() => simMain(['fly'])), 2);
  assert.is(await quiet(() => simMain(['export', '--days', 'many', '--out', 'x'])), 2);
  assert.is(await quiet(() => simMain(['serve', '--api-key', 'k', '--faults', '{"nope":1}'])), 2);
  assert.is(await quiet(() => simMain(['export', '--bogus', '1', '--out', 'x'])), 2);
});

test('export writes JSONL matching the firm', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-sim-'));
  try {
    assert.is(
      await quiet(() => simMain(['export', '--seed', '3', '--accounts', '10', '--days', '6', '--out', dir])),
      0,
    );
    const firm = generateFirm({ seed: 3, accounts: 10, days: 6 });
    const lines = (await readFile(join(dir, 'trades_closed.jsonl'), 'utf8')).trim().split('\n');
    const truth = Array.from({ length: 6 }, (_, d) => firm.closedTrades(d)).flat();
    assert.is(lines.length, truth.length);
    assert.equal(JSON.parse(lines[0]), JSON.parse(JSON.stringify(truth[0])));
    const accounts = (await readFile(join(dir, 'accounts.jsonl'), 'utf8')).trim().split('\n');
    assert.is(accounts.length, firm.accounts().length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
