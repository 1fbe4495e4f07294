// Imports point one way (README, Architecture): cli -> forecast, ingest, sim, migrations -> runner, trainer.
// Every relative import of every source file is read with TypeScript's own pre-processor (static, dynamic,
// type-only and re-exports alike) and checked against the table below.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(import.meta.dirname, '../..');
const PRODUCT = ['cli', 'runner', 'ingest', 'trainer', 'forecast', 'sim', 'migrations'];

/** What each product folder may import besides itself; `sim` only the endpoint field tables. */
const ALLOWED: Record<string, (target: string) => boolean> = {
  runner: () => false,
  trainer: () => false,
  ingest: (t) => t.startsWith('runner/'),
  migrations: (t) => t.startsWith('runner/'),
  forecast: (t) => t.startsWith('trainer/') || t.startsWith('runner/'),
  sim: (t) => t === 'ingest/endpoints.ts' || t === 'ingest/fields.ts',
  cli: (t) => PRODUCT.some((f) => t.startsWith(`${f}/`)),
};
/**
 * Packages the engine may load: the trainer is our own code, zod for its parameter table aside, and tsx, which the
 * workers' plain-JS entry registers to load their TypeScript.
 */
const TRAINER_PACKAGES = (spec: string) => spec === 'zod' || spec === 'tsx/esm/api' || spec.startsWith('node:');

export interface Import {
  file: string;
  line: number;
  spec: string;
}

export function importsOf(file: string, text: string): Import[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => ({ file, spec: f.fileName, line: text.slice(0, f.pos).split('\n').length }));
}

const folderOf = (path: string) => path.split('/')[0];

/** Every import that points the wrong way, as `file:line: reason`. Paths are relative to the repository. */
export function violations(imports: Import[]): string[] {
  const out: string[] = [];
  const edges = new Map<string, Map<string, Import>>();
  for (const imp of imports) {
    const from = folderOf(imp.file);
    if (!(from in ALLOWED)) continue;
    if (!imp.spec.startsWith('.')) {
      if (from === 'trainer' && !TRAINER_PACKAGES(imp.spec)) {
        out.push(`${imp.file}:${imp.line}: trainer/ imports only trainer/ and zod, not '${imp.spec}'`);
      }
      continue;
    }
    const target = posix.normalize(posix.join(posix.dirname(imp.file), imp.spec));
    const to = folderOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, imp);
    if (!ALLOWED[from](target)) out.push(`${imp.file}:${imp.line}: ${from}/ must not import ${target}`);
  }
  for (const cycle of folderCycles(edges)) {
    const first = edges.get(cycle[0])!.get(cycle[1])!;
    out.push(`${first.file}:${first.line}: folders import each other in a circle: ${cycle.join(' -> ')}`);
  }
  return out;
}

function folderCycles(edges: Map<string, Map<string, Import>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const walk = (node: string, path: string[]) => {
    state.set(node, 'open');
    for (const next of edges.get(node)?.keys() ?? []) {
      if (state.get(next) === 'open')
        cycles.push([...path.slice(path.indexOf(next)), node, next].filter((n, i, a) => i === 0 || n !== a[i - 1]));
      else if (!state.has(next)) walk(next, [...path, node]);
    }
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) walk(node, []);
  return cycles;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

test('every import in the product points one way (cli -> forecast, ingest, sim, migrations -> runner, trainer)', () => {
  const imports = PRODUCT.flatMap((folder) => sources(join(ROOT, folder))).flatMap((path) =>
    importsOf(relative(ROOT, path).split('\\').join('/'), readFileSync(path, 'utf8')),
  );
  assert.ok(imports.length > 300, `read ${imports.length} imports`);
  assert.equal(violations(imports), []);
});

test('an import from runner/ into forecast/ is named with its file and line', () => {
  const text = "import { z } from 'zod';\n\nimport { trainAndRegister } from '../../forecast/train-model.ts';\n";
  assert.equal(violations(importsOf('runner/execute/execute.ts', text)), [
    'runner/execute/execute.ts:3: runner/ must not import forecast/train-model.ts',
  ]);
});

test('dynamic and type-only imports count; the trainer may not load packages other than zod', () => {
  const text =
    "import type { Database } from '../../runner/db/connect.ts';\n" +
    "import knex from 'knex';\n" +
    "const m = await import('./x.ts');\n";
  assert.equal(violations(importsOf('trainer/io/dataset.ts', text)), [
    'trainer/io/dataset.ts:1: trainer/ must not import runner/db/connect.ts',
    "trainer/io/dataset.ts:2: trainer/ imports only trainer/ and zod, not 'knex'",
  ]);
  assert.equal(violations(importsOf('sim/server.ts', "const x = await import('../ingest/client.ts');")), [
    'sim/server.ts:1: sim/ must not import ingest/client.ts',
  ]);
});

test('folders that import each other in a circle are named', () => {
  const found = violations([
    ...importsOf('ingest/client.ts', "import { x } from '../cli/session.ts';"),
    ...importsOf('cli/session.ts', "import { y } from '../ingest/client.ts';"),
  ]);
  assert.ok(found.includes('ingest/client.ts:1: ingest/ must not import cli/session.ts'), found.join('\n'));
  assert.ok(
    found.some((v) => v.includes('in a circle: ') && v.includes('ingest -> cli -> ingest')),
    found.join('\n'),
  );
});

test.run();
