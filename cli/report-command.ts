import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { load, withDatabase, type CommonArgs } from './session.ts';
import { formatMoney, formatPct } from '../forecast/report/format.ts';
import { gatherReport, writeReportData } from '../forecast/report/report.ts';

interface ReportArgs extends CommonArgs {
  modelVersion?: string;
  out?: string;
}

/** `dpm report [--model-version V] [--out DIR]`: the static HTML report for risk managers. */
export function registerReportCommand(cli: Argv, done: (code: number) => void): void {
  cli.command(
    'report',
    'write a static HTML report of the model: accuracy vs baselines, plots, ' +
      'the accounts with the largest predicted losses',
    (y) =>
      y
        .option('model-version', { type: 'string', describe: 'default: the active model' })
        .option('out', { type: 'string', describe: 'folder for index.html (default: <target-path>/report)' })
        .example('dpm report', 'write target/report/index.html for the active model')
        .example('dpm report --model-version v1_20240430_060000 --out /tmp/report', ''),
    async (a) => {
      const args = a as unknown as ReportArgs;
      const loaded = load(args);
      const out = args.out
        ? resolve(args.out)
        : resolve(loaded.project.config.root, loaded.project.config['target-path'], 'report');
      // Reading only: no run lock, so a report can be written while a build runs.
      const data = await withDatabase(
        loaded,
        args,
        (db) => gatherReport(db.knex, { modelVersion: args.modelVersion }),
        { runLock: false, product: true },
      );
      const path = writeReportData(data, out);
      const h = data.headline;
      if (loaded.log.json) {
        loaded.log.info('report written', {
          path,
          model_version: data.model?.version ?? null,
          mae: h.model.mae ?? null,
          evaluated_days: h.days,
          watch_list: data.watchList.length,
        });
      } else {
        if (data.model) {
          const scored =
            h.source === 'evaluations'
              ? `${h.days} evaluated day(s)`
              : h.source === 'holdout'
                ? 'training holdout'
                : 'no scores yet';
          loaded.log.info(
            `${data.model.version}: MAE ${formatMoney(h.model.mae)}, ` +
              `direction ${formatPct(h.model.directional_accuracy)}, ` +
              `coverage ${formatPct(h.model.interval_coverage)} (${scored})`,
          );
        }
        for (const note of data.notes) loaded.log.warn(note);
        loaded.log.info(`Report written to ${path}`);
      }
      done(0);
    },
  );
}
