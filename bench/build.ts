// Model build benchmark: a simulated firm landed straight into raw.* (no HTTP), then the whole project
// rebuilt from scratch (`dpm run --full-refresh`, then `dpm test`: what `dpm build --full-refresh` does after
// the seed) and the nightly increment (one new day landed, then `dpm run` of that day's batches and `dpm
// test`), on PostgreSQL and on PGlite. Prints wall seconds (CLI start-up included), account-days/s, the
// slowest nodes and the speed-up of one day over the full refresh. Prints numbers; never fails on time.
// Usage: npx tsx bench/build.ts [--accounts 2000] [--days 365] [--pglite-accounts 2000] [--targets postgres,pglite]
// `--target citus` runs the Citus cluster of DPM_TEST_CITUS_URL beside plain PostgreSQL (postgres,citus).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { z } from 'zod';
import { generateFirm, type Firm } from '../sim/firm.ts';
import { landFirm } from '../tests/models/_land.ts';
import { modelProject, ok, type ModelProject } from '../tests/models/_helpers.ts';
import type { TargetKind } from '../tests/helpers/databases.ts';
import { addDays } from '../runner/dates.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const ACCOUNTS = Number(arg('accounts', '2000'));
const DAYS = Number(arg('days', '365'));
// PGlite runs one backend in this process's neighbour; a smaller firm keeps a quick run quick.
const PGLITE_ACCOUNTS = Number(arg('pglite-accounts', String(ACCOUNTS)));
const ONE_TARGET = arg('target', '');
const DEFAULT_TARGETS = ONE_TARGET ? [...new Set(['postgres', ONE_TARGET])].join(',') : 'postgres,pglite';
const TARGETS = arg('targets', DEFAULT_TARGETS).split(',') as TargetKind[];
const START = '2024-01-01';
const TIMEOUT_MS = 3_600_000;

const dayOf = (d: number) => addDays(START, d);

const RunResults = z.object({
  elapsed_time: z.number(),
  results: z.array(
    z.object({
      unique_id: z.string(),
      status: z.string(),
      execution_time: z.number(),
    }),
  ),
});

/** The slowest nodes of the last run (from target/run_results.json), as "name 1.2s". */
function slowest(p: ModelProject, n: number): string {
  const { results } = RunResults.parse(JSON.parse(readFileSync(join(p.dir, 'target', 'run_results.json'), 'utf8')));
  return [...results]
    .sort((a, b) => b.execution_time - a.execution_time)
    .slice(0, n)
    .map((r) => `${r.unique_id.split('.').slice(2).join('.')} ${r.execution_time.toFixed(1)}s`)
    .join(', ');
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

/** Account-days the firm has on days [from, to] (rows of the daily metrics = rows of the snapshots). */
function accountDays(firm: Firm, from: number, to: number): number {
  let n = 0;
  for (let d = from; d <= to; d++) n += firm.liveAccounts(d).length;
  return n;
}

/**
 * Times `dpm <args>` (models; --threads 4) and then `dpm test` (every data test over the whole tables, as
 * `dpm build` would run them) and prints both with account-days/s and the slowest nodes.
 */
async function step(
  p: ModelProject,
  label: string,
  args: string[],
  accountDays: number,
): Promise<{ models: number; run: number; tests: number }> {
  const [run, models] = await timed(() => p.dpm([...args, '--threads', '4'], TIMEOUT_MS));
  ok(run, `dpm ${args.join(' ')}`);
  // The run's own time (connected, project loaded), without the CLI's start-up.
  const runS = RunResults.parse(
    JSON.parse(readFileSync(join(p.dir, 'target', 'run_results.json'), 'utf8')),
  ).elapsed_time;
  const slowModels = slowest(p, 5);
  const [test, tests] = await timed(() => p.dpm(['test', '--threads', '4'], TIMEOUT_MS));
  ok(test, 'dpm test');
  console.log(
    `  ${label} (dpm ${args.join(' ')}): models ${models.toFixed(1)} s wall ` +
      `(${Math.round(accountDays / models)} account-days/s), of which the run ${runS.toFixed(1)} s; ` +
      `data tests ${tests.toFixed(1)} s, total ${(models + tests).toFixed(1)} s`,
  );
  console.log(`    slowest models: ${slowModels}`);
  console.log(`    slowest tests: ${slowest(p, 3)}`);
  return { models, run: runS, tests };
}

async function bench(kind: TargetKind, accounts: number): Promise<void> {
  const [firm, genS] = await timed(async () => generateFirm({ seed: 7, accounts, days: DAYS, startDate: START }));
  const last = DAYS - 1;
  const history = accountDays(firm, 0, last - 1);
  const newDay = accountDays(firm, last, last);
  console.log(
    `\n[${kind}] firm of ${accounts} accounts x ${DAYS} days (${history} account-days before the last day), ` +
      `generated in ${genS.toFixed(1)} s`,
  );
  const p = await modelProject(kind);
  try {
    const [landed, landS] = await timed(() => p.withDb((db) => landFirm(db, firm, 0, last - 1)));
    console.log(
      `  landed ${Object.entries(landed)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')} in ${landS.toFixed(1)} s`,
    );

    ok(await p.dpm(['seed'], TIMEOUT_MS), 'dpm seed');
    const full = await step(p, 'full refresh', ['run', '--full-refresh', '--end-date', dayOf(last)], history);
    await p.withDb((db) => landFirm(db, firm, last, last, false));
    const day = await step(
      p,
      'one new day',
      ['run', '--start-date', dayOf(last), '--end-date', dayOf(last + 1)],
      newDay,
    );
    console.log(
      `  speed-up of one day over the full refresh: models ${(full.models / day.models).toFixed(1)}x wall, ` +
        `${(full.run / day.run).toFixed(1)}x run time; ` +
        `models + data tests ${((full.models + full.tests) / (day.models + day.tests)).toFixed(1)}x`,
    );
  } finally {
    await p.dispose();
  }
}

console.log(
  `bench/build: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at start`,
);
for (const kind of TARGETS) await bench(kind, kind === 'pglite' ? PGLITE_ACCOUNTS : ACCOUNTS);
console.log(
  `\nload average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at the end`,
);
