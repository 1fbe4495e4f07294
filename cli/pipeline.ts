import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { addDays } from '../runner/dates.ts';
import type { Database } from '../runner/db/connect.ts';
import { migrateLatest } from '../migrations/migrate.ts';
import { redact } from '../runner/db/redact.ts';
import { DpmError, UsageError } from '../runner/errors.ts';
import type { Logger } from '../runner/log.ts';
import { runCommand, type CommonArgs } from './session.ts';
import { runIngest, INGEST_ORDER } from './ingest-command.ts';
import type { RegimesFrom } from '../ingest/regimes.ts';
import { trainAndRegister, type TrainCommandOptions } from '../forecast/train-model.ts';
import { predictDay } from '../forecast/predict-model.ts';
import { evaluatePredictions, type OracleSource } from '../forecast/evaluate-model.ts';

export const STAGES = ['migrate', 'ingest', 'seed', 'build', 'train', 'predict', 'evaluate'] as const;
export type Stage = (typeof STAGES)[number];

export interface PipelineOptions {
  stages: Stage[];
  startDate?: string;
  endDate?: string;
  force: boolean;
  dryRun: boolean;
  fullRefresh: boolean;
  /** Ingest sources (default: everything the models read). */
  sources?: string[];
  /** Where the regimes come from (default auto: the source database when one is configured, else skipped). */
  regimesFrom?: RegimesFrom;
  /** Days before --start-date that ingest refetches and build rebuilds (late trades and corrections). */
  lookbackDays: number;
  maxRps: number;
  concurrency: number;
  train: Partial<TrainCommandOptions>;
  /** Feature days to predict; default the latest. */
  predictDates?: string[];
  oracle?: OracleSource;
}

/** Where ingest and build start: --lookback-days before --start-date, so late records of those days land too. */
const windowStart = (o: PipelineOptions) =>
  o.startDate && !o.fullRefresh ? addDays(o.startDate, -o.lookbackDays) : o.startDate;

/** What each stage would do, for --dry-run and the log. */
export function describeStage(stage: Stage, o: PipelineOptions): string {
  switch (stage) {
    case 'migrate':
      return 'apply pending knex migrations';
    case 'ingest':
      return `fetch ${(o.sources ?? ['all']).join(', ')} for ${windowStart(o) ?? '?'}..${o.endDate ?? '?'} into raw.*`;
    case 'seed':
      return 'load seeds (plans)';
    case 'build': {
      const days = ` for ${windowStart(o) ?? 'new days'}..${o.endDate ?? 'today'}`;
      return `build models and run data tests${o.fullRefresh ? ' (full refresh)' : days}`;
    }
    case 'train': {
      const upTo = o.train.trainEnd ? ` on feature days up to ${o.train.trainEnd}` : '';
      const search = o.train.tune ? ` with a ${o.train.trials}-trial search` : '';
      return `fit and register a model${upTo}${search}`;
    }
    case 'predict': {
      const days = o.predictDates?.length ? `${o.predictDates.length} feature day(s)` : 'the latest feature day';
      return `predict next-day PnL for ${days}`;
    }
    case 'evaluate':
      return 'score stored predictions against outcomes, baselines and (on simulated data) the oracle';
  }
}

/**
 * Runs the stages in order on one connection, logging each in dpm.pipeline_runs. Without --force, a
 * rerun after a failure skips the stages that the failed run had finished and resumes at the failed one.
 */
export async function runPipeline(db: Database, common: CommonArgs, o: PipelineOptions, log: Logger): Promise<number> {
  const order = STAGES.filter((s) => o.stages.includes(s));
  if (o.dryRun) {
    for (const s of order) log.info(`[dry-run] ${s}: ${describeStage(s, o)}`);
    return 0;
  }
  await migrateLatest(db.knex);
  const resumeSkip = o.force ? new Set<string>() : await finishedStagesOfFailedRun(db, order);
  if (resumeSkip.size)
    log.info(
      `resuming the failed pipeline run: skipping ${[...resumeSkip].join(', ')}, ` +
        'which it had finished (--force reruns everything)',
    );
  const runId = randomUUID();
  const args = { ...common, db };
  for (const stage of order) {
    if (resumeSkip.has(stage)) continue;
    const [row] = await db
      .knex('dpm.pipeline_runs')
      .insert({
        run_id: runId,
        stage,
        status: 'running',
        started_at: new Date(),
        details: JSON.stringify({ plan: describeStage(stage, o) }),
      })
      .returning('id');
    log.info(`== stage ${stage}: ${describeStage(stage, o)}`);
    let rows: number | null = null;
    try {
      rows = await runStage(stage, args, o, log);
      await db
        .knex('dpm.pipeline_runs')
        .where({ id: row.id })
        .update({ status: 'success', ended_at: new Date(), rows });
    } catch (err) {
      const message = redact(err instanceof Error ? err.message : String(err));
      await db
        .knex('dpm.pipeline_runs')
        .where({ id: row.id })
        .update({ status: 'failed', ended_at: new Date(), error: message });
      log.error(`stage ${stage} failed: ${message}\nRerun the same command to resume at ${stage}.`);
      return 1;
    }
  }
  return 0;
}

async function finishedStagesOfFailedRun(db: Database, order: Stage[]): Promise<Set<string>> {
  const last = await db.knex('dpm.pipeline_runs').orderBy('id', 'desc').first();
  if (last?.status !== 'failed') return new Set();
  const rows = await db.knex('dpm.pipeline_runs').where({ run_id: last.run_id });
  const done = new Set(
    rows.filter((r: { status: string }) => r.status === 'success').map((r: { stage: string }) => r.stage),
  );
  // A resumed run that itself was resumed: carry over what its predecessor finished.
  return new Set(
    order.filter(
      (s) =>
        done.has(s) ||
        (order.indexOf(s) < order.indexOf(last.stage as Stage) && !rows.some((r: { stage: string }) => r.stage === s)),
    ),
  );
}

async function runStage(
  stage: Stage,
  args: CommonArgs & { db: Database },
  o: PipelineOptions,
  log: Logger,
): Promise<number | null> {
  const fail = (code: number, what: string) => {
    if (code !== 0) throw new DpmError(`${what} finished with exit code ${code}; see the lines above`);
  };
  switch (stage) {
    case 'migrate':
      return (await migrateLatest(args.db.knex)).length;
    case 'ingest': {
      if (!o.startDate || !o.endDate) throw new UsageError('the ingest stage needs --start-date and --end-date');
      for (const source of o.sources ?? INGEST_ORDER) {
        fail(
          await runIngest({
            ...args,
            what: source.split(' '),
            startDate: windowStart(o),
            endDate: o.endDate,
            batchDays: 7,
            maxRps: o.maxRps,
            concurrency: o.concurrency,
            flushRows: 20_000,
            timeout: 120,
            force: o.force,
            regimesFrom: o.regimesFrom,
          }),
          `ingest ${source}`,
        );
      }
      return null;
    }
    case 'seed':
      fail(await runCommand('seed', { ...args, failFast: false, fullRefresh: false }, ['seed']), 'dpm seed');
      return null;
    case 'build':
      fail(
        await runCommand(
          'build',
          {
            ...args,
            failFast: false,
            fullRefresh: o.fullRefresh,
            startDate: o.fullRefresh ? undefined : windowStart(o),
            endDate: o.endDate ? addDays(o.endDate, 1) : undefined,
          },
          ['seed', 'snapshot', 'model', 'test'],
        ),
        'dpm build',
      );
      return null;
    case 'train': {
      const result = await trainAndRegister(
        args.db.knex,
        {
          folds: 3,
          validDays: 7,
          earlyStopping: 50,
          tune: false,
          trials: 30,
          intervals: true,
          artifactsDir: resolve(args.projectDir, 'model_artifacts'),
          seed: 42,
          ...o.train,
        },
        log,
      );
      return result.rows;
    }
    case 'predict': {
      let rows = 0;
      for (const date of o.predictDates?.length ? o.predictDates : [undefined])
        rows += (await predictDay(args.db.knex, { date, topReasons: 5 }, log)).rows;
      return rows;
    }
    case 'evaluate':
      return (await evaluatePredictions(args.db.knex, { oracle: o.oracle }, log)).length;
  }
}
