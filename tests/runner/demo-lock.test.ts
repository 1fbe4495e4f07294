// A second `dpm demo` in a folder whose demo is running stops at once with the lock's message, and leaves the
// running demo's database alone (it used to wipe the data directory first, then hang on the open simulator).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runDpm } from '../helpers/cli.ts';

test('dpm demo with the embedded database held by a live process: exit 1 in seconds, data left intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-demo-lock-'));
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    mkdirSync(join(dir, '.dpm', 'demo'), { recursive: true });
    writeFileSync(join(dir, '.dpm', 'demo', 'in-use'), 'a running demo');
    writeFileSync(join(dir, '.dpm', 'demo.lock'), String(holder.pid));
    const started = Date.now();
    const r = await runDpm(['demo', '--project-dir', dir], { cwd: dir, timeoutMs: 60_000 });
    assert.is(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.ok(Date.now() - started < 30_000, 'the demo exits instead of waiting on its simulator');
    assert.match(r.stderr, new RegExp(`the embedded database is in use by another dpm process \\(pid ${holder.pid}`));
    assert.ok(existsSync(join(dir, '.dpm', 'demo', 'in-use')), "the running demo's data directory is kept");
    assert.not.match(r.stdout, /starting the simulated Risk Analytics API/);
  } finally {
    holder.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
