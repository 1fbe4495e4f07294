import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { z } from 'zod';
import { addDays } from '../runner/dates.ts';
import { loadProjectConfig } from '../runner/config/project-config.ts';
import { connect } from '../runner/db/connect.ts';
import { resolveTarget } from '../runner/db/target.ts';
import { UsageError } from '../runner/errors.ts';
import { registerSecret } from '../runner/db/redact.ts';
import { createLogger, type Logger } from '../runner/log.ts';
import { startSimServer } from '../sim/server.ts';
import { simulatorOracle } from './oracle.ts';
import { runPipeline } from './pipeline.ts';
import type { CommonArgs } from './session.ts';
import type { Database } from '../runner/db/connect.ts';

export const demoOptions = z.object({
  seed: z.number().int().min(0),
  accounts: z.number().int().min(20).max(5000),
  days: z.number().int().min(45).max(730),
  holdoutDays: z.number().int().min(3).max(60),
  keep: z.boolean(),
});
export type DemoOptions = z.infer<typeof demoOptions>;

const SIM_START = '2024-01-01';

export interface DemoResult {
  code: number;
  db?: Database;
  holdout: { start: string; end: string };
}

/**
 * The whole product on a laptop: a simulated firm behind the real API shape, the embedded database,
 * ingest -> seed -> build -> train (on all but the last days) -> predict each held-out day -> evaluate.
 * The held-out days make the evaluation honest: the model never saw them.
 */
export async function runDemo(common: CommonArgs, o: DemoOptions, log: Logger, keepOpen = false): Promise<DemoResult> {
  // The database first: a demo already running there is reported before anything starts.
  const { db, release } = await openDemoDatabase(common, o);
  const apiKey = randomBytes(16).toString('hex');
  registerSecret(apiKey);
  log.info(
    `starting the simulated Risk Analytics API: seed ${o.seed}, ${o.accounts} account slots, ` +
      `${o.days} days from ${SIM_START}`,
  );
  const sim = await startSimServer({
    seed: o.seed,
    accounts: o.accounts,
    days: o.days,
    startDate: SIM_START,
    apiKey,
    port: 0,
  }).catch(async (err) => {
    await release();
    await db.close();
    throw err;
  });
  process.env.DPM_API_BASE_URL = sim.url;
  process.env.DPM_API_KEY = apiKey;
  const end = addDays(SIM_START, o.days - 1);
  // Features of day D need D+1's outcome to be scored, so the last predicted feature day is end - 1.
  const holdoutStart = addDays(end, -o.holdoutDays);
  const predictDates = Array.from({ length: o.holdoutDays }, (_, i) => addDays(holdoutStart, i));
  let code = 1;
  try {
    code = await runPipeline(
      db,
      common,
      {
        stages: ['migrate', 'ingest', 'seed', 'build', 'train', 'predict', 'evaluate'],
        startDate: SIM_START,
        endDate: end,
        force: false,
        dryRun: false,
        fullRefresh: false,
        sources: ['accounts', 'metrics alltime', 'regimes', 'metrics daily', 'trades closed', 'trades open'],
        // The simulated firm's regimes, even where DPM_REGIMES_DATABASE_URL points at a real source database.
        regimesFrom: 'sim',
        lookbackDays: 0,
        maxRps: 2000,
        concurrency: 4,
        train: { trainEnd: addDays(holdoutStart, -2), folds: 3, validDays: 7 },
        predictDates,
        oracle: simulatorOracle(),
      },
      log,
    );
  } finally {
    await sim.close();
    await release();
    if (!keepOpen) await db.close();
  }
  return { code, db: keepOpen ? db : undefined, holdout: { start: holdoutStart, end: addDays(end, -1) } };
}

/**
 * The demo's own embedded database under .dpm/demo, wiped for each run unless --keep; or the target named by
 * --target or DPM_DATABASE_URL (PostgreSQL, Citus), which the demo never wipes: it must be empty, or --keep.
 */
async function openDemoDatabase(
  common: CommonArgs,
  o: DemoOptions,
): Promise<{ db: Database; release: () => Promise<void> }> {
  const root = resolve(common.projectDir);
  if (common.target === undefined && !process.env.DPM_DATABASE_URL) {
    const dataDir = join(root, '.dpm', 'demo');
    const db = await connect({ kind: 'pglite', name: 'demo', dataDir, threads: 1 }, { fresh: !o.keep });
    return { db, release: async () => undefined };
  }
  const target = resolveTarget(loadProjectConfig(root), common.target);
  const db = await connect(target, { lockWaitMs: common.lockWait * 1000 });
  try {
    const release = await db.acquireRunLock(common.lockWait * 1000);
    const used = await db.knex.raw(
      "select count(*)::int as n from pg_tables where schemaname in ('raw', 'dpm', 'staging', 'features')",
    );
    if (!o.keep && used.rows[0].n > 0) {
      await release();
      throw new UsageError(
        `target '${target.name}' already holds dpm's tables (${used.rows[0].n} in raw, dpm, staging, features), ` +
          'and the demo loads a simulated firm: point it at an empty database (createdb dpm_demo) ' +
          'or pass --keep to run on what is there.',
      );
    }
    return { db, release };
  } catch (err) {
    await db.close();
    throw err;
  }
}

export function registerDemoCommand(cli: Argv, done: (code: number) => void): void {
  cli.command(
    'demo',
    'run the whole pipeline on a simulated firm in the embedded database and write the report',
    (y) =>
      y
        .option('seed', { type: 'number', default: 1 })
        .option('accounts', { type: 'number', default: 150, describe: 'account slots of the simulated firm' })
        .option('days', { type: 'number', default: 90, describe: 'days of history' })
        .option('holdout-days', { type: 'number', default: 14, describe: 'last days predicted out of sample' })
        .option('keep', {
          type: 'boolean',
          default: false,
          describe: 'reuse .dpm/demo (or the named target) instead of starting fresh',
        })
        .example('npx dpm demo', 'about a few minutes on 2 cores')
        .example('DPM_DATABASE_URL=postgres://localhost/dpm_demo npx dpm demo', 'on an empty PostgreSQL database')
        .example('npx dpm demo --accounts 400 --days 180', 'a bigger firm'),
    async (a) => {
      const args = a as unknown as CommonArgs & DemoOptions;
      const options = demoOptions.parse({
        seed: args.seed,
        accounts: args.accounts,
        days: args.days,
        holdoutDays: args.holdoutDays,
        keep: args.keep,
      });
      const log = createLogger({ level: args.logLevel, json: args.json });
      const t0 = Date.now();
      const result = await runDemo(args, options, log, true);
      try {
        if (result.code === 0 && result.db) {
          const report = await writeDemoReport(result.db, resolve(args.projectDir), log);
          log.info(
            `demo finished in ${((Date.now() - t0) / 1000).toFixed(0)}s; ` +
              `out-of-sample days ${result.holdout.start}..${result.holdout.end}`,
          );
          log.info(`Report: ${report}`);
        }
      } finally {
        await result.db?.close();
      }
      done(result.code);
    },
  );
}

async function writeDemoReport(db: Database, root: string, log: Logger): Promise<string> {
  const { writeReport } = await import('../forecast/report/report.ts');
  const path = await writeReport(db.knex, join(root, 'target', 'report'));
  log.debug(`report written to ${path}`);
  return path;
}
