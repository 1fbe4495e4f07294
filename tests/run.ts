// Runs every tests/**/*.test.ts with uvu in one process and ends with the plain
// "N passed, N failed" line that CI reads. Optional arguments filter files by substring.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function collect(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return collect(path);
      return name.endsWith('.test.ts') ? [path] : [];
    });
}

const filters = process.argv.slice(2);
const files = collect(resolve('tests')).filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error(`no test file matches ${filters.join(' ')}`);
  process.exit(2);
}

let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (captured.length > 4096) captured = captured.slice(-4096);
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

(globalThis as Record<string, unknown>).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue = (globalThis as unknown as { UVU_QUEUE: unknown[][] }).UVU_QUEUE;
for (const [i, file] of files.entries()) {
  (globalThis as Record<string, unknown>).UVU_INDEX = i;
  queue.push([file.slice(resolve('.').length + 1)]);
  await import(pathToFileURL(file).href);
}
await uvu.exec(false);
process.stdout.write = write;

// The colour codes uvu prints, built from a string: a regex literal may not hold the ESC control character.
const ESC = '\u001b';
const ANSI_COLOUR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const plain = captured.replace(ANSI_COLOUR, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1]);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1]);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1]);
const failed = total - passed - skipped;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || process.exitCode ? 1 : 0);
