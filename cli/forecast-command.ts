import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { load, withDatabase, type CommonArgs } from './session.ts';
import { trainAndRegister, type TrainCommandOptions } from '../forecast/train-model.ts';
import { predictDay } from '../forecast/predict-model.ts';
import { evaluatePredictions } from '../forecast/evaluate-model.ts';
import { simulatorOracle } from './oracle.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function registerTrainerCommands(cli: Argv, done: (code: number) => void): void {
  cli.command(
    'train',
    'fit the next-day PnL model on training.model_training_input (time-series CV, optional TPE search), register it',
    (y) =>
      y
        .option('objective', {
          choices: ['regression_l1', 'huber', 'fair'] as const,
          describe: 'loss (default regression_l1; --tune searches it)',
        })
        .option('folds', { type: 'number', default: 3, describe: 'expanding-window CV folds' })
        .option('valid-days', { type: 'number', default: 7, describe: 'days per validation window' })
        .option('early-stopping', {
          type: 'number',
          default: 50,
          describe: 'rounds without improvement before a fold stops',
        })
        .option('tune', { type: 'boolean', default: false, describe: 'TPE hyper-parameter search with median pruning' })
        .option('trials', { type: 'number', default: 30, describe: 'search trials with --tune' })
        .option('intervals', {
          type: 'boolean',
          default: true,
          describe: 'fit 5%/95% quantile models for prediction intervals',
        })
        .option('artifacts-dir', { type: 'string', default: 'model_artifacts' })
        .option('seed', { type: 'number', default: 42 })
        .option('train-end', { type: 'string', describe: 'last feature day to train on (YYYY-MM-DD), for backtests' })
        .check((a) => {
          if (a['train-end'] !== undefined && !DATE.test(String(a['train-end'])))
            throw new Error('--train-end must be YYYY-MM-DD');
          for (const k of ['folds', 'valid-days', 'trials'] as const)
            if (!(Number(a[k]) >= 1)) throw new Error(`--${k} must be >= 1`);
          return true;
        })
        .example('dpm train --tune --trials 40', ''),
    async (a) => {
      const args = a as unknown as CommonArgs & TrainCommandOptions;
      const loaded = load(args);
      await withDatabase(
        loaded,
        args,
        (db) =>
          trainAndRegister(db.knex, { ...args, artifactsDir: resolve(args.projectDir, args.artifactsDir) }, loaded.log),
        { product: true },
      );
      done(0);
    },
  );

  cli.command(
    'predict',
    'predict next-day net profit of every eligible funded account (interval and top reasons), ' +
      'or --evaluate past predictions',
    (y) =>
      y
        .option('date', { type: 'string', describe: 'feature date D (predicts D+1); default the latest' })
        .option('model-version', { type: 'string', describe: 'default: the active model' })
        .option('top-reasons', { type: 'number', default: 5 })
        .option('evaluate', {
          type: 'boolean',
          default: false,
          describe: 'score stored predictions against outcomes and baselines',
        })
        .check((a) => {
          if (a.date !== undefined && !DATE.test(String(a.date))) throw new Error('--date must be YYYY-MM-DD');
          return true;
        })
        .example('dpm predict --date 2024-04-29', '')
        .example('dpm predict --evaluate', ''),
    async (a) => {
      const args = a as unknown as CommonArgs & {
        date?: string;
        modelVersion?: string;
        topReasons: number;
        evaluate: boolean;
      };
      const loaded = load(args);
      await withDatabase(
        loaded,
        args,
        async (db) => {
          if (args.evaluate)
            await evaluatePredictions(
              db.knex,
              { date: args.date, modelVersion: args.modelVersion, oracle: simulatorOracle() },
              loaded.log,
            );
          else await predictDay(db.knex, args, loaded.log);
        },
        { product: true },
      );
      done(0);
    },
  );
}
