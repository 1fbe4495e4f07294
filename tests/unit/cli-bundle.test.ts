// bin/dpm.js runs the CLI from an esbuild bundle of its TypeScript kept in node_modules/.cache/dpm-cli
// (bin/cli-bundle.js). Each test works on a copy of the sources with its own node_modules (links to the real
// packages), so that its bundle and edits never touch the checkout's.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { removeDir } from '../runner/_helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function copyCli(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-bundle-'));
  for (const part of [
    'bin',
    'cli',
    'runner',
    'ingest',
    'trainer',
    'forecast',
    'sim',
    'migrations',
    'seeds',
    'package.json',
  ])
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '.cache') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

const dpm = (dir: string, ...args: string[]) =>
  execFileSync(process.execPath, [join(dir, 'bin', 'dpm.js'), ...args], { cwd: dir, encoding: 'utf8' });
const stamp = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'node_modules', '.cache', 'dpm-cli', 'stamp.json'), 'utf8')) as {
    build: string;
    inputs: string[];
  };

test('the first command builds the bundle, the next reuses it, an edited source is bundled again', () => {
  const dir = copyCli();
  try {
    assert.is(dpm(dir, '--version').trim(), '0.1.0');
    const first = stamp(dir);
    assert.ok(
      first.inputs.includes('cli/main.ts') && first.inputs.includes('runner/project/load.ts'),
      'the stamp lists the sources bundled',
    );
    assert.ok(existsSync(join(dir, 'node_modules', '.cache', 'dpm-cli', first.build, 'main.js')));
    dpm(dir, '--version');
    assert.is(stamp(dir).build, first.build, 'unchanged sources reuse the bundle');

    const main = join(dir, 'cli', 'main.ts');
    writeFileSync(main, readFileSync(main, 'utf8').replace(".version('0.1.0')", ".version('0.1.0-edited')"));
    assert.is(dpm(dir, '--version').trim(), '0.1.0-edited', 'the edit is what runs');
    assert.is.not(stamp(dir).build, first.build);
  } finally {
    removeDir(dir);
  }
});

test(
  'modules in the bundle see their own source location (import.meta.url), ' +
    'as the trainer workers and the seeds folder need',
  () => {
    const dir = copyCli();
    try {
      // The simulator finds the plan exports through sim/plans.ts's import.meta.url.
      const out = dpm(
        dir,
        'sim',
        'export',
        '--seed',
        '1',
        '--accounts',
        '3',
        '--days',
        '2',
        '--out',
        join(dir, 'export'),
      );
      assert.match(out, /^wrote \d+ accounts/);
      const chunks = readdirSync(join(dir, 'node_modules', '.cache', 'dpm-cli', stamp(dir).build)).filter((f) =>
        f.endsWith('.js'),
      );
      const text = chunks
        .map((f) => readFileSync(join(dir, 'node_modules', '.cache', 'dpm-cli', stamp(dir).build, f), 'utf8'))
        .join('\n');
      assert.not.match(text, /import\.meta\.url/, 'no module is left resolving paths against its chunk');
    } finally {
      removeDir(dir);
    }
  },
);

test('a cache that cannot be written falls back to running the sources through tsx', () => {
  const dir = copyCli();
  try {
    // A file where the cache folder should be (permissions would not stop root, who runs CI).
    writeFileSync(join(dir, 'node_modules', '.cache'), 'not a folder');
    assert.is(dpm(dir, '--version').trim(), '0.1.0');
  } finally {
    removeDir(dir);
  }
});

test.run();
