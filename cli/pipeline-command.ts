import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { loadProjectConfig } from '../runner/config/project-config.ts';
import { connect } from '../runner/db/connect.ts';
import { resolveTarget } from '../runner/db/target.ts';
import { UsageError } from '../runner/errors.ts';
import { createLogger } from '../runner/log.ts';
import { simulatorOracle } from './oracle.ts';
import { runPipeline, STAGES, type Stage } from './pipeline.ts';
import { checkDateFlags, type CommonArgs } from './session.ts';

export function registerPipelineCommand(cli: Argv, done: (code: number) => void): void {
  cli.command(
    'pipeline',
    'run the nightly stages in order, each logged in dpm.pipeline_runs; a rerun resumes at the failed stage',
    (y) =>
      y
        .option('stages', { type: 'string', array: true, choices: STAGES, default: [...STAGES] })
        .option('start-date', { type: 'string', describe: 'first day to ingest/build, YYYY-MM-DD' })
        .option('end-date', { type: 'string', describe: 'last day to ingest/build (inclusive), YYYY-MM-DD' })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'rerun finished stages and refetch finished ingest windows',
        })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan, change nothing' })
        .option('full-refresh', { type: 'boolean', default: false })
        .option('lookback-days', {
          type: 'number',
          default: 1,
          describe: 'days before --start-date to refetch and rebuild, for late trades and corrections',
        })
        .option('max-rps', { type: 'number', default: 15 })
        .option('concurrency', { type: 'number', default: 4 })
        .option('tune', { type: 'boolean', default: false })
        .option('trials', { type: 'number', default: 30 })
        .option('folds', { type: 'number', default: 3, describe: 'expanding-window CV folds of the train stage' })
        .option('valid-days', { type: 'number', default: 7, describe: 'days per validation window of the train stage' })
        .check((a) => {
          checkDateFlags(a);
          if (!Number.isInteger(a['lookback-days']) || Number(a['lookback-days']) < 0)
            throw new UsageError('--lookback-days must be a whole number >= 0');
          return true;
        })
        .example('dpm pipeline --start-date 2025-03-01 --end-date 2025-03-01', 'the nightly run for one new day')
        .example(
          'dpm pipeline --stages build train --full-refresh --dry-run',
          'show what a rebuild and retrain would do',
        ),
    async (a) => {
      const args = a as unknown as CommonArgs & {
        stages: Stage[];
        startDate?: string;
        endDate?: string;
        force: boolean;
        dryRun: boolean;
        fullRefresh: boolean;
        lookbackDays: number;
        maxRps: number;
        concurrency: number;
        tune: boolean;
        trials: number;
        folds: number;
        validDays: number;
      };
      const log = createLogger({ level: args.logLevel, json: args.json });
      const config = loadProjectConfig(resolve(args.projectDir));
      const options = {
        ...args,
        train: { tune: args.tune, trials: args.trials, folds: args.folds, validDays: args.validDays },
        oracle: simulatorOracle(),
      };
      if (args.dryRun) {
        done(await runPipeline(undefined as never, args, options, log));
        return;
      }
      const db = await connect(resolveTarget(config, args.target), { lockWaitMs: args.lockWait * 1000 });
      try {
        const release = await db.acquireRunLock(args.lockWait * 1000);
        try {
          done(await runPipeline(db, args, options, log));
        } finally {
          await release();
        }
      } finally {
        await db.close();
      }
    },
  );
}
