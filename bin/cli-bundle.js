// The CLI's TypeScript bundled by esbuild into node_modules/.cache/dpm-cli and rebuilt whenever a source file
// changed. Loading the sources through tsx runs a loader hook on every module the CLI and its dependencies import,
// a fixed cost that a short command such as the nightly one-day `dpm run` would pay in full. The bundle keeps the
// zero-build-step promise: the first command after a clone or an edit builds it.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'cli', 'main.ts');
const CACHE = join(ROOT, 'node_modules', '.cache', 'dpm-cli');
const STAMP = join(CACHE, 'stamp.json');
// Builds other processes may still be loading chunks from (a long `dpm pipeline`) are kept this long.
const KEEP_OLD_BUILDS_MS = 24 * 3600_000;

/** A hash of the bundle's inputs: their text as `read` gives it, undefined when one is gone. */
function inputsHash(inputs, read = (rel) => readFileSync(join(ROOT, rel))) {
  const h = createHash('sha256');
  for (const rel of inputs) {
    try {
      h.update(rel).update('\0').update(read(rel)).update('\0');
    } catch {
      return undefined;
    }
  }
  return h.digest('hex');
}

function readStamp() {
  try {
    const s = JSON.parse(readFileSync(STAMP, 'utf8'));
    return Array.isArray(s.inputs) && typeof s.hash === 'string' && typeof s.build === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each module keeps seeing its own source location: `import.meta.url` (and dirname, filename) become the file's, so
 * relative paths (the trainer's worker entry, the seeds folder) resolve as they do from the sources. The text
 * read is kept in `seen`: the stamp hashes what was bundled, even if a file changes while esbuild runs.
 */
const sourceLocation = (seen) => ({
  name: 'source-location',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      seen.set(relative(ROOT, args.path), text);
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
});

/** Bundles the CLI into a new folder of the cache and points the stamp at it; returns the folder's name. */
async function build() {
  const esbuild = await import('esbuild');
  const id = `b${Date.now().toString(36)}-${process.pid}`;
  const tmp = join(CACHE, `.tmp-${id}`);
  const seen = new Map();
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: tmp,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceLocation(seen)],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => relative(ROOT, resolve(process.cwd(), p)))
    .sort();
  const hash = inputsHash(inputs, (rel) => seen.get(rel) ?? readFileSync(join(ROOT, rel)));
  renameSync(tmp, join(CACHE, id));
  // Written then renamed: a process starting meanwhile reads the old stamp or the new one, never half of one.
  const stampTmp = join(CACHE, `.stamp-${id}`);
  writeFileSync(stampTmp, JSON.stringify({ build: id, hash, inputs }));
  renameSync(stampTmp, STAMP);
  return id;
}

function removeOldBuilds(current) {
  for (const name of readdirSync(CACHE)) {
    if (name === current || name === 'stamp.json') continue;
    const path = join(CACHE, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * The URL of the CLI's main module: the bundle when it is current or can be built, else the TypeScript
 * source under tsx (a read-only install, or a source esbuild cannot bundle, whose error tsx then reports).
 */
export async function cliEntry() {
  const stamp = readStamp();
  if (stamp && inputsHash(stamp.inputs) === stamp.hash) return pathToFileURL(join(CACHE, stamp.build, 'main.js')).href;
  try {
    mkdirSync(CACHE, { recursive: true });
    const current = await build();
    removeOldBuilds(current);
    return pathToFileURL(join(CACHE, current, 'main.js')).href;
  } catch {
    const { register } = await import('tsx/esm/api');
    register();
    return pathToFileURL(ENTRY).href;
  }
}
