// Every parameter is defined once here: default, range, aliases and doc. This table drives zod validation,
// the gbdt CLI (config files and key=value words) and the parameter table in docs/trainer.md.
import { z } from 'zod';
import { ParameterError } from '../utils/errors.ts';
import { deriveSeeds } from '../utils/random.ts';

type Kind = 'int' | 'float' | 'bool' | 'enum' | 'string' | 'list';

export interface ParamSpec {
  name: string;
  kind: Kind;
  default: number | boolean | string | null;
  min?: number;
  max?: number;
  /** Bounds are exclusive (e.g. learning_rate > 0). */
  minOpen?: boolean;
  maxOpen?: boolean;
  values?: readonly string[];
  aliases: readonly string[];
  doc: string;
  /** Only meaningful for the gbdt CLI (files, task). */
  cli?: boolean;
}

const OBJECTIVES = ['regression', 'regression_l1', 'huber', 'fair', 'quantile'] as const;
export const METRICS = ['l1', 'l2', 'rmse', 'huber', 'fair', 'quantile', 'mape'] as const;
const OBJECTIVE_ALIASES: Record<string, string> = {
  regression_l2: 'regression',
  l2: 'regression',
  mean_squared_error: 'regression',
  mse: 'regression',
  l2_root: 'regression',
  root_mean_squared_error: 'regression',
  rmse: 'regression',
  l1: 'regression_l1',
  mean_absolute_error: 'regression_l1',
  mae: 'regression_l1',
};
const METRIC_ALIASES: Record<string, string> = {
  mae: 'l1',
  mean_absolute_error: 'l1',
  regression_l1: 'l1',
  mse: 'l2',
  mean_squared_error: 'l2',
  regression_l2: 'l2',
  regression: 'l2',
  l2_root: 'rmse',
  root_mean_squared_error: 'rmse',
  mean_absolute_percentage_error: 'mape',
};

const INT_MAX = 2147483647;

const TABLE = [
  {
    name: 'task',
    kind: 'enum',
    default: 'train',
    values: ['train', 'predict'],
    aliases: ['task_type'],
    doc: 'CLI: train a model or predict with input_model',
    cli: true,
  },
  {
    name: 'config',
    kind: 'string',
    default: '',
    aliases: ['config_file'],
    doc: 'CLI: path of a LightGBM config file (key = value lines, # comments)',
    cli: true,
  },
  {
    name: 'data',
    kind: 'string',
    default: '',
    aliases: ['train', 'train_data', 'train_data_file', 'data_filename'],
    doc: 'CLI: training data file (CSV, TSV, LibSVM; .gz too), or the data to predict for task=predict',
    cli: true,
  },
  {
    name: 'valid',
    kind: 'list',
    default: '',
    aliases: ['test', 'valid_data', 'valid_data_file', 'test_data', 'test_data_file', 'valid_filenames'],
    doc: 'CLI: validation data files, comma separated',
    cli: true,
  },
  {
    name: 'header',
    kind: 'bool',
    default: false,
    aliases: ['has_header'],
    doc: 'CLI: the data files have a header line',
    cli: true,
  },
  {
    name: 'label_column',
    kind: 'string',
    default: '0',
    aliases: ['label'],
    doc: 'CLI: label column index (0-based, counting all columns) or name:<column>',
    cli: true,
  },
  {
    name: 'weight_column',
    kind: 'string',
    default: '',
    aliases: ['weight'],
    doc: 'CLI: weight column (index not counting the label, or name:<column>); sample weights are not implemented yet',
    cli: true,
  },
  {
    name: 'ignore_column',
    kind: 'list',
    default: '',
    aliases: ['ignore_feature', 'blacklist'],
    doc: 'CLI: features kept in the model but never used: indices (0-based, not counting the label) or name:a,b',
    cli: true,
  },
  {
    name: 'two_round',
    kind: 'bool',
    default: false,
    aliases: ['two_round_loading', 'use_two_round_loading'],
    doc: 'CLI: accepted for LightGBM compatibility; data files are always streamed (rows sampled as two_round=false)',
    cli: true,
  },
  {
    name: 'output_model',
    kind: 'string',
    default: 'LightGBM_model.txt',
    aliases: ['model_output', 'model_out'],
    doc: 'CLI: where task=train writes the model',
    cli: true,
  },
  {
    name: 'input_model',
    kind: 'string',
    default: '',
    aliases: ['model_input', 'model_in'],
    doc: 'CLI: model file read by task=predict',
    cli: true,
  },
  {
    name: 'output_result',
    kind: 'string',
    default: 'LightGBM_predict_result.txt',
    aliases: ['predict_result', 'prediction_result', 'predict_name', 'prediction_name', 'pred_name', 'name_prediction'],
    doc: 'CLI: where task=predict writes one prediction per line',
    cli: true,
  },
  {
    name: 'predict_contrib',
    kind: 'bool',
    default: false,
    aliases: ['is_predict_contrib', 'contrib'],
    doc: 'CLI: task=predict writes SHAP contributions (features + expected value, tab separated)',
    cli: true,
  },
  {
    name: 'num_iteration_predict',
    kind: 'int',
    default: -1,
    min: -1,
    max: INT_MAX,
    aliases: [],
    doc: 'CLI: number of iterations used by task=predict (-1 = all, or the best iteration)',
    cli: true,
  },
  {
    name: 'objective',
    kind: 'enum',
    default: 'regression',
    values: OBJECTIVES,
    aliases: ['objective_type', 'app', 'application', 'loss'],
    doc: 'loss: regression (L2), regression_l1, huber, fair, quantile',
  },
  {
    name: 'boosting',
    kind: 'enum',
    default: 'gbdt',
    values: ['gbdt'],
    aliases: ['boosting_type', 'boost'],
    doc: 'only gbdt is implemented',
  },
  {
    name: 'num_iterations',
    kind: 'int',
    default: 100,
    min: 0,
    max: INT_MAX,
    aliases: [
      'num_iteration',
      'n_iter',
      'num_tree',
      'num_trees',
      'num_round',
      'num_rounds',
      'nrounds',
      'num_boost_round',
      'n_estimators',
      'max_iter',
    ],
    doc: 'number of boosting iterations (trees)',
  },
  {
    name: 'learning_rate',
    kind: 'float',
    default: 0.1,
    min: 0,
    minOpen: true,
    max: Infinity,
    aliases: ['shrinkage_rate', 'eta'],
    doc: 'shrinkage applied to each tree',
  },
  {
    name: 'num_leaves',
    kind: 'int',
    default: 31,
    min: 2,
    max: 131072,
    aliases: ['num_leaf', 'max_leaves', 'max_leaf', 'max_leaf_nodes'],
    doc: 'maximum leaves per tree (leaf-wise growth)',
  },
  {
    name: 'num_threads',
    kind: 'int',
    default: 0,
    min: 0,
    max: 64,
    aliases: ['num_thread', 'nthread', 'nthreads', 'n_jobs'],
    doc:
      'training threads (histograms, split search, partitions, gradients, tree walks), the calling one ' +
      'included; 0 = all cores, at most 4',
  },
  {
    name: 'deterministic',
    kind: 'bool',
    default: false,
    aliases: [],
    doc: 'accepted for LightGBM compatibility; this engine is always deterministic',
  },
  {
    name: 'force_col_wise',
    kind: 'bool',
    default: false,
    aliases: [],
    doc: 'accepted for LightGBM compatibility; histograms are always built col-wise',
  },
  {
    name: 'force_row_wise',
    kind: 'bool',
    default: false,
    aliases: [],
    doc: 'accepted for LightGBM compatibility; no effect',
  },
  {
    name: 'max_depth',
    kind: 'int',
    default: -1,
    min: -1,
    max: INT_MAX,
    aliases: [],
    doc: 'maximum tree depth; <= 0 means no limit',
  },
  {
    name: 'min_data_in_leaf',
    kind: 'int',
    default: 20,
    min: 0,
    max: INT_MAX,
    aliases: ['min_data_per_leaf', 'min_data', 'min_child_samples', 'min_samples_leaf'],
    doc: 'minimum rows in a leaf',
  },
  {
    name: 'min_sum_hessian_in_leaf',
    kind: 'float',
    default: 1e-3,
    min: 0,
    max: Infinity,
    aliases: ['min_sum_hessian_per_leaf', 'min_sum_hessian', 'min_hessian', 'min_child_weight'],
    doc: 'minimum sum of hessians in a leaf',
  },
  {
    name: 'bagging_fraction',
    kind: 'float',
    default: 1,
    min: 0,
    minOpen: true,
    max: 1,
    aliases: ['sub_row', 'subsample', 'bagging'],
    doc: 'fraction of rows used per bagging round (needs bagging_freq > 0)',
  },
  {
    name: 'bagging_freq',
    kind: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    aliases: ['subsample_freq'],
    doc: 're-bag every k iterations; 0 disables bagging',
  },
  {
    name: 'bagging_seed',
    kind: 'int',
    default: 3,
    min: -INT_MAX,
    max: INT_MAX,
    aliases: ['bagging_fraction_seed'],
    doc: 'bagging random seed',
  },
  {
    name: 'feature_fraction',
    kind: 'float',
    default: 1,
    min: 0,
    minOpen: true,
    max: 1,
    aliases: ['sub_feature', 'colsample_bytree'],
    doc: 'fraction of features sampled per tree',
  },
  {
    name: 'feature_fraction_seed',
    kind: 'int',
    default: 2,
    min: -INT_MAX,
    max: INT_MAX,
    aliases: [],
    doc: 'feature sampling seed',
  },
  {
    name: 'early_stopping_round',
    kind: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    aliases: ['early_stopping_rounds', 'early_stopping', 'n_iter_no_change'],
    doc: 'stop when no validation metric improved for this many rounds; 0 disables',
  },
  {
    name: 'first_metric_only',
    kind: 'bool',
    default: false,
    aliases: [],
    doc: 'early stopping looks only at the first metric',
  },
  {
    name: 'max_delta_step',
    kind: 'float',
    default: 0,
    min: -Infinity,
    max: Infinity,
    aliases: ['max_tree_output', 'max_leaf_output'],
    doc: 'caps |leaf output| before shrinkage; <= 0 means no cap',
  },
  {
    name: 'lambda_l1',
    kind: 'float',
    default: 0,
    min: 0,
    max: Infinity,
    aliases: ['reg_alpha', 'l1_regularization'],
    doc: 'L1 regularization of leaf outputs',
  },
  {
    name: 'lambda_l2',
    kind: 'float',
    default: 0,
    min: 0,
    max: Infinity,
    aliases: ['reg_lambda', 'lambda', 'l2_regularization'],
    doc: 'L2 regularization of leaf outputs',
  },
  {
    name: 'min_gain_to_split',
    kind: 'float',
    default: 0,
    min: 0,
    max: Infinity,
    aliases: ['min_split_gain'],
    doc: 'minimum gain to make a split',
  },
  {
    name: 'min_data_per_group',
    kind: 'int',
    default: 100,
    min: 1,
    max: INT_MAX,
    aliases: [],
    doc: 'minimum rows per categorical group',
  },
  {
    name: 'max_cat_threshold',
    kind: 'int',
    default: 32,
    min: 1,
    max: INT_MAX,
    aliases: [],
    doc: 'maximum categories on one side of a many-vs-many split',
  },
  {
    name: 'cat_l2',
    kind: 'float',
    default: 10,
    min: 0,
    max: Infinity,
    aliases: [],
    doc: 'extra L2 regularization for categorical splits',
  },
  {
    name: 'cat_smooth',
    kind: 'float',
    default: 10,
    min: 0,
    max: Infinity,
    aliases: [],
    doc: 'smoothing of category statistics; categories with fewer rows are ignored',
  },
  {
    name: 'max_cat_to_onehot',
    kind: 'int',
    default: 4,
    min: 1,
    max: INT_MAX,
    aliases: [],
    doc: 'features with at most this many bins use one-vs-rest splits',
  },
  {
    name: 'verbosity',
    kind: 'int',
    default: 1,
    min: -INT_MAX,
    max: INT_MAX,
    aliases: ['verbose'],
    doc: '< 0 fatal only, 0 warnings, 1 info',
  },
  {
    name: 'max_bin',
    kind: 'int',
    default: 255,
    min: 2,
    max: 65535,
    aliases: ['max_bins'],
    doc: 'maximum bins per feature',
  },
  { name: 'min_data_in_bin', kind: 'int', default: 3, min: 1, max: INT_MAX, aliases: [], doc: 'minimum rows per bin' },
  {
    name: 'bin_construct_sample_cnt',
    kind: 'int',
    default: 200000,
    min: 1,
    max: INT_MAX,
    aliases: ['subsample_for_bin'],
    doc: 'rows sampled to find bin boundaries',
  },
  {
    name: 'data_random_seed',
    kind: 'int',
    default: 1,
    min: -INT_MAX,
    max: INT_MAX,
    aliases: ['data_seed'],
    doc: 'seed for the binning sample',
  },
  {
    name: 'use_missing',
    kind: 'bool',
    default: true,
    aliases: [],
    doc: 'false treats NaN as zero (missing type None)',
  },
  { name: 'zero_as_missing', kind: 'bool', default: false, aliases: [], doc: 'treat zeros (and NaN) as missing' },
  {
    name: 'feature_pre_filter',
    kind: 'bool',
    default: true,
    aliases: [],
    doc: 'drop features that cannot be split given min_data_in_leaf',
  },
  {
    name: 'categorical_feature',
    kind: 'list',
    default: '',
    aliases: ['cat_feature', 'categorical_column', 'cat_column', 'categorical_features'],
    doc: 'categorical features: indices (0-based, not counting the label) or name:a,b',
  },
  {
    name: 'boost_from_average',
    kind: 'bool',
    default: true,
    aliases: [],
    doc: "start from the objective's optimal constant",
  },
  {
    name: 'alpha',
    kind: 'float',
    default: 0.9,
    min: 0,
    minOpen: true,
    max: Infinity,
    aliases: [],
    doc: 'huber: delta; quantile: the quantile (must be < 1)',
  },
  { name: 'fair_c', kind: 'float', default: 1, min: 0, minOpen: true, max: Infinity, aliases: [], doc: 'fair loss c' },
  {
    name: 'metric',
    kind: 'list',
    default: '',
    aliases: ['metrics', 'metric_types'],
    doc: "metrics: l1, l2, rmse, huber, fair, quantile, mape (default: the objective's own)",
  },
  {
    name: 'metric_freq',
    kind: 'int',
    default: 1,
    min: 1,
    max: INT_MAX,
    aliases: ['output_freq'],
    doc: 'log metrics every k iterations',
  },
  {
    name: 'seed',
    kind: 'int',
    default: null,
    min: -INT_MAX,
    max: INT_MAX,
    aliases: ['random_seed', 'random_state'],
    doc: 'master seed: derives data, bagging and feature seeds as LightGBM does',
  },
] as const satisfies readonly ParamSpec[];

export const PARAMS: readonly ParamSpec[] = TABLE;

const BY_NAME = new Map<string, ParamSpec>();
for (const p of PARAMS) {
  BY_NAME.set(p.name, p);
  for (const a of p.aliases) BY_NAME.set(a, p);
}

type ValueOf<S> = S extends { kind: 'int' | 'float'; default: null }
  ? number | null
  : S extends { kind: 'int' | 'float' }
    ? number
    : S extends { kind: 'bool' }
      ? boolean
      : S extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : S extends { kind: 'list' }
          ? string[]
          : string;

/** Resolved parameters, typed from the table: a parameter added there is a field here. */
export type Params = { -readonly [S in (typeof TABLE)[number] as S['name']]: ValueOf<S> };

export type ParamInput = Partial<Record<keyof Params, unknown>> & Record<string, unknown>;

function rangeText(p: ParamSpec): string {
  if (p.kind === 'enum') return `one of ${p.values!.join(', ')}`;
  if (p.kind === 'bool') return 'true or false';
  if (p.kind === 'int' || p.kind === 'float') {
    const lo = p.min === undefined || p.min === -Infinity || p.min === -INT_MAX ? '-inf' : String(p.min);
    const hi = p.max === undefined || p.max === Infinity || p.max === INT_MAX ? 'inf' : String(p.max);
    const what = p.kind === 'int' ? 'an integer' : 'a number';
    return `${what} in ${p.minOpen ? '(' : '['}${lo}, ${hi}${p.maxOpen ? ')' : ']'}`;
  }
  return p.kind === 'list' ? 'a comma-separated list' : 'a string';
}

export function describeRange(p: ParamSpec): string {
  return rangeText(p);
}

function schemaFor(p: ParamSpec): z.ZodType {
  switch (p.kind) {
    case 'int':
    case 'float': {
      let s = p.kind === 'int' ? z.number().int() : z.number().refine((v) => !Number.isNaN(v));
      if (p.min !== undefined && p.min !== -Infinity)
        s = p.minOpen ? (s as z.ZodNumber).gt(p.min) : (s as z.ZodNumber).gte(p.min);
      if (p.max !== undefined && p.max !== Infinity)
        s = p.maxOpen ? (s as z.ZodNumber).lt(p.max) : (s as z.ZodNumber).lte(p.max);
      return p.default === null ? s.nullable() : s;
    }
    case 'bool':
      return z.boolean();
    case 'enum':
      return z.enum(p.values as [string, ...string[]]);
    case 'string':
      return z.string();
    case 'list':
      return z.array(z.string());
  }
}

const SCHEMAS = new Map(PARAMS.map((p) => [p.name, schemaFor(p)]));

/** Turns CLI strings (and loose API values) into the parameter's type before validation. */
function coerce(p: ParamSpec, v: unknown): unknown {
  if (p.kind === 'int' || p.kind === 'float') {
    if (typeof v === 'string') {
      const t = v.trim();
      if (t === '') return NaN;
      return Number(t);
    }
    return v;
  }
  if (p.kind === 'bool') {
    if (typeof v === 'string') {
      const t = v.trim().toLowerCase();
      if (['true', '1', '+', 'yes'].includes(t)) return true;
      if (['false', '0', '-', 'no'].includes(t)) return false;
    }
    if (v === 1) return true;
    if (v === 0) return false;
    return v;
  }
  if (p.kind === 'list') {
    if (Array.isArray(v)) return v.map(String);
    if (typeof v === 'string')
      return v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    if (typeof v === 'number') return [String(v)];
    return v;
  }
  if (p.kind === 'enum' && typeof v === 'string') {
    const t = v.trim();
    if (p.name === 'objective') return OBJECTIVE_ALIASES[t] ?? t;
    return t;
  }
  if (p.kind === 'string' && typeof v === 'number') return String(v);
  return v;
}

/**
 * Validates parameters (canonical names or LightGBM aliases) and fills defaults. Unknown names, a parameter given
 * twice under two aliases, and out-of-range values are ParameterErrors naming the parameter and its range.
 */
export function resolveParams(input: ParamInput = {}): Params {
  const out: Record<string, unknown> = {};
  const seenAs = new Map<string, string>();
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const p = BY_NAME.get(key.trim());
    if (!p) {
      const near = PARAMS.map((q) => q.name)
        .filter((n) => n.includes(key) || key.includes(n))
        .slice(0, 3);
      throw new ParameterError(
        `unknown parameter "${key}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; ` +
          'see docs/trainer.md for the supported parameters',
      );
    }
    const prev = seenAs.get(p.name);
    if (prev !== undefined && prev !== key) {
      throw new ParameterError(`parameter "${p.name}" is given twice (as "${prev}" and "${key}"); keep one`);
    }
    seenAs.set(p.name, key);
    const value = coerce(p, raw);
    const r = SCHEMAS.get(p.name)!.safeParse(value);
    if (!r.success) {
      throw new ParameterError(
        `parameter "${p.name}"${key !== p.name ? ` (given as "${key}")` : ''} must be ${rangeText(p)}, ` +
          `got ${JSON.stringify(raw)}`,
      );
    }
    out[p.name] = r.data;
  }
  for (const p of PARAMS) {
    if (!(p.name in out))
      out[p.name] = p.kind === 'list' ? (p.default === '' ? [] : String(p.default).split(',')) : p.default;
  }
  const params = out as unknown as Params;
  params.metric = params.metric
    .map((m) => {
      const c = METRIC_ALIASES[m] ?? m;
      if (!(METRICS as readonly string[]).includes(c) && c !== 'None' && c !== 'na') {
        throw new ParameterError(`parameter "metric" has unknown metric "${m}"; supported: ${METRICS.join(', ')}`);
      }
      return c;
    })
    .filter((m, i, a) => m !== 'None' && m !== 'na' && a.indexOf(m) === i);
  if (params.objective === 'quantile' && !(params.alpha < 1)) {
    throw new ParameterError(`parameter "alpha" must be in (0, 1) for objective=quantile, got ${params.alpha}`);
  }
  if (params.seed !== null) {
    const s = deriveSeeds(params.seed);
    if (!seenAs.has('data_random_seed')) params.data_random_seed = s.data;
    if (!seenAs.has('bagging_seed')) params.bagging_seed = s.bagging;
    if (!seenAs.has('feature_fraction_seed')) params.feature_fraction_seed = s.featureFraction;
  }
  // Config::CheckParamConflict: a depth limit caps the useful number of leaves.
  if (params.max_depth > 0 && params.max_depth < 30)
    params.num_leaves = Math.min(params.num_leaves, 2 ** params.max_depth);
  return params;
}

export function paramSpec(name: string): ParamSpec | undefined {
  return BY_NAME.get(name);
}

/** The parameter table as Markdown, for docs/trainer.md (a test keeps the doc in sync). */
export function paramsMarkdown(): string {
  const rows = PARAMS.map((p) => {
    const def = p.default === null ? '(none)' : p.default === '' ? '""' : String(p.default);
    return `| \`${p.name}\` | ${def} | ${rangeText(p)} | ${p.aliases.map((a) => `\`${a}\``).join(', ')} | ${p.doc} |`;
  });
  return ['| parameter | default | range | aliases | description |', '|---|---|---|---|---|', ...rows].join('\n');
}
