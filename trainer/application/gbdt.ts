// `dpm gbdt config=params.conf [key=value ...]`: LightGBM's command line, so the same config and data files run
// under LightGBM and dpm side by side and write the same model and prediction files.
import { readFileSync, writeFileSync } from 'node:fs';
import { Booster } from '../boosting/booster.ts';
import { train } from '../boosting/boosting.ts';
import type { Dataset } from '../io/dataset.ts';
import { loadTrainingFile, loadValidFile, readTextColumns, type TextFileOptions } from '../io/text-loader.ts';
import { ParameterError, TrainerError } from '../utils/errors.ts';
import { g17 } from '../utils/format.ts';
import { paramSpec, resolveParams, type Params } from '../io/params.ts';

export const GBDT_HELP = `Usage: dpm gbdt config=<file> [key=value ...]

Trains or predicts with a LightGBM-compatible gradient-boosting engine, reading LightGBM's CLI config format
and CSV/TSV data files and writing LightGBM text models. key=value words override the config file.

  task=train     data=<file> [valid=<file>[,<file>]] output_model=<file>   (default LightGBM_model.txt)
  task=predict   data=<file> input_model=<file> output_result=<file>      (default LightGBM_predict_result.txt)

Common keys: objective (regression, regression_l1, huber, fair, quantile), num_iterations, learning_rate,
num_leaves, min_data_in_leaf, header, label_column, categorical_feature, metric, metric_freq,
early_stopping_round, alpha, fair_c. The full parameter table is in docs/trainer.md.

Example:
  dpm gbdt config=train.conf data=train.csv valid=test.csv output_model=model.txt
  dpm gbdt task=predict data=test.csv header=true input_model=model.txt output_result=preds.txt

Exit codes: 0 ok, 1 failed (bad data, unreadable model), 2 usage error (unknown or out-of-range parameter).`;

/** Parses LightGBM config text: `key = value` lines, `#` comments, blank lines ignored. */
export function parseConfigText(text: string, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ParameterError(`${source} line ${i + 1}: expected key = value, got "${raw.trim()}"`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  });
  return out;
}

function parseArgs(args: string[]): Record<string, string> {
  const cli: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ParameterError(`argument "${a}" is not key=value; run dpm gbdt --help`);
    cli[a.slice(0, eq).trim()] = a.slice(eq + 1).trim();
  }
  const configPath = cli.config ?? cli.config_file;
  if (configPath === undefined) return cli;
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    throw new ParameterError(`cannot read config file ${configPath}: ${(e as Error).message}`);
  }
  const fromFile = parseConfigText(text, configPath);
  // Command-line words win over the config file, as in LightGBM; an alias on either side replaces the other.
  const merged: Record<string, string> = {};
  const canonical = (k: string): string => paramSpec(k)?.name ?? k;
  const cliCanon = new Set(Object.keys(cli).map(canonical));
  for (const [k, v] of Object.entries(fromFile)) if (!cliCanon.has(canonical(k))) merged[k] = v;
  for (const [k, v] of Object.entries(cli)) merged[k] = v;
  delete merged.config;
  delete merged.config_file;
  return merged;
}

/** The data-file options of the CLI parameters (validated by resolveParams' zod schemas). */
function fileOptions(p: Params): TextFileOptions {
  if (p.weight_column !== '') {
    throw new ParameterError(
      `weight_column=${p.weight_column}: sample weights are not implemented by dpm's trainer yet; ` +
        'remove weight_column (or list the column in ignore_column) to train without weights',
    );
  }
  return {
    header: p.header,
    labelColumn: p.label_column,
    ignoreColumns: p.ignore_column,
    categorical: p.categorical_feature,
  };
}

export async function gbdtMain(args: string[]): Promise<number> {
  const out = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  if (args.includes('--help') || args.includes('-h') || args.length === 0) {
    out(GBDT_HELP);
    return args.length === 0 ? 2 : 0;
  }
  let p: Params;
  try {
    p = resolveParams(parseArgs(args));
  } catch (e) {
    if (e instanceof ParameterError) {
      process.stderr.write(`[LightGBM] [Fatal] ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const info = (m: string): void => {
    if (p.verbosity >= 1) out(`[LightGBM] [Info] ${m}`);
  };
  try {
    if (p.data === '') throw new ParameterError('no data file: set data=<file> (in the config or on the command line)');
    if (p.task === 'train') {
      const t0 = performance.now();
      const files = fileOptions(p);
      const ds = await loadTrainingFile(p.data, files, p);
      const valid: Dataset[] = [];
      for (const file of p.valid) valid.push(await loadValidFile(file, files, ds));
      info(`Finished loading data in ${((performance.now() - t0) / 1000).toFixed(6)} seconds`);
      // The CLI's own keys (files, task) are not training parameters.
      const trainParams = Object.fromEntries(
        Object.entries(p).filter(([k, v]) => v !== null && paramSpec(k)?.cli !== true),
      );
      const t1 = performance.now();
      const booster = await train(trainParams, ds, { valid, log: out });
      info(`Finished training in ${((performance.now() - t1) / 1000).toFixed(6)} seconds`);
      writeFileSync(p.output_model, booster.toString());
      info(`Saved the model to ${p.output_model}`);
      return 0;
    }
    if (p.input_model === '') throw new ParameterError('task=predict needs input_model=<model file>');
    const booster = Booster.fromString(readFileSync(p.input_model, 'utf8'));
    const td = await readTextColumns(p.data, fileOptions(p), booster.numFeatures);
    const k = p.num_iteration_predict > 0 ? p.num_iteration_predict : undefined;
    let text: string;
    if (p.predict_contrib) {
      const rows = booster.contributions(td.columns, { numIteration: k }).map((r) => Array.from(r, g17).join('\t'));
      text = `${rows.join('\n')}\n`;
    } else {
      const pred = booster.predict(td.columns, { numIteration: k });
      const lines = new Array<string>(pred.length);
      for (let i = 0; i < pred.length; i++) lines[i] = g17(pred[i]);
      text = `${lines.join('\n')}\n`;
    }
    writeFileSync(p.output_result, text);
    info(`Finished prediction; wrote ${td.numRows} rows to ${p.output_result}`);
    return 0;
  } catch (e) {
    if (e instanceof ParameterError) {
      process.stderr.write(`[LightGBM] [Fatal] ${e.message}\n`);
      return 2;
    }
    if (e instanceof TrainerError || (e as NodeJS.ErrnoException)?.code !== undefined) {
      process.stderr.write(`[LightGBM] [Fatal] ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
