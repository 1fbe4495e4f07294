// One line-length rule for all code: Biome wraps TypeScript at 120 but cannot break strings, comments or SQL.
// Every tracked .ts/.js/.mjs/.sql file outside tests/fixtures/ is read and each longer line is named.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(import.meta.dirname, '../..');
const MAX = 120;
const CHECKED = /\.(ts|js|mjs|sql)$/;

/** Tracked files that the rule covers, relative to the repository (a file deleted but not yet staged is left out). */
export function checkedFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return tracked
    .split('\0')
    .filter((f) => CHECKED.test(f) && !f.startsWith('tests/fixtures/') && existsSync(join(ROOT, f)))
    .sort();
}

/** Every line of `text` longer than MAX characters, as `file:line (N characters)`. */
export function longLines(file: string, text: string): string[] {
  return text
    .split(/\r?\n/)
    .flatMap((line, i) => (line.length > MAX ? [`${file}:${i + 1} (${line.length} characters)`] : []));
}

test(`no line of code is longer than ${MAX} characters`, () => {
  const files = checkedFiles();
  assert.ok(files.length > 0, 'git ls-files listed no .ts/.js/.mjs/.sql file to check');
  const long = files.flatMap((f) => longLines(f, readFileSync(join(ROOT, f), 'utf8')));
  assert.equal(long, [], `lines longer than ${MAX} characters:\n${long.join('\n')}`);
});

test('a long line is named with its file, line and length', () => {
  assert.equal(longLines('a.sql', `short\n${'x'.repeat(MAX)}\n${'y'.repeat(MAX + 1)}`), [
    `a.sql:3 (${MAX + 1} characters)`,
  ]);
});

test.run();
