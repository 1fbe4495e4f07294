import type { Knex } from 'knex';
import { DpmError } from '../runner/errors.ts';
import { quoteIdent } from '../runner/project/templating.ts';
import { CATEGORICAL, featureColumns, tableColumns, TARGET, type FeatureSpec } from './features.ts';

/** Column-major training data as the trainer wants it, plus the row keys for splitting and joining back. */
export interface Matrix {
  features: FeatureSpec[];
  columns: Float64Array[];
  /** Feature date D of each row (YYYY-MM-DD). */
  dates: string[];
  accounts: string[];
  /** Target (NaN when the table has none, e.g. prediction input). */
  label: Float64Array;
  /** Per-row divisor of the target the models learn (forecast/target-scale.ts); absent: dollars as they are. */
  scale?: Float64Array;
  n: number;
}

class Growable {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : NaN;
}

export interface ReadOptions {
  /** Feature layout to follow (a registered model's); when absent it is derived from the table. */
  features?: FeatureSpec[];
  where?: string;
  bindings?: Knex.RawBinding[];
  batchRows?: number;
}

/**
 * Streams a table in keyset-ordered batches (date, account_id) into typed columns, so memory holds
 * one batch of row objects at a time plus the Float64 columns.
 */
export async function readMatrix(
  knex: Knex,
  relation: { schema: string; table: string },
  options: ReadOptions = {},
): Promise<Matrix> {
  const cols = await tableColumns(knex, relation.schema, relation.table);
  if (cols.length === 0)
    throw new DpmError(`${relation.schema}.${relation.table} does not exist: run dpm build first.`);
  const hasTarget = cols.some((c) => c.name === TARGET);
  let features: FeatureSpec[];
  if (options.features) {
    const present = new Set(cols.map((c) => c.name));
    const missing = options.features.filter((f) => !present.has(f.name)).map((f) => f.name);
    if (missing.length)
      throw new DpmError(
        `${relation.schema}.${relation.table} lacks features the model needs: ` +
          `${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}. ` +
          'Rebuild the feature store or retrain.',
      );
    features = options.features;
  } else {
    features = featureColumns(cols).map((c) => ({ name: c.name }));
  }
  const select = [
    'account_id',
    'date::text as date',
    ...(hasTarget ? [TARGET] : []),
    ...features.map((f) => quoteIdent(f.name)),
  ].join(', ');
  const builders = features.map(() => new Growable());
  const label = new Growable();
  const dates: string[] = [];
  const accounts: string[] = [];
  const seenLevels = features.map((f) => (CATEGORICAL.has(f.name) && !f.levels ? new Set<string>() : undefined));
  const rawCategorical: (string | null)[][] = features.map(() => []);
  let lastDate = '';
  let lastAccount = '';
  const batch = options.batchRows ?? 20_000;
  for (;;) {
    const where = [
      options.where ? `(${options.where})` : 'true',
      lastDate ? `(date, account_id) > (?::date, ?)` : 'true',
    ].join(' and ');
    const bindings = [...(options.bindings ?? []), ...(lastDate ? [lastDate, lastAccount] : [])] as Knex.RawBinding[];
    const { rows } = await knex.raw(
      `select ${select} from ${quoteIdent(relation.schema)}.${quoteIdent(relation.table)} ` +
        `where ${where} order by date, account_id limit ${batch}`,
      bindings,
    );
    for (const row of rows as Record<string, unknown>[]) {
      dates.push(row.date as string);
      accounts.push(row.account_id as string);
      label.push(hasTarget ? toNumber(row[TARGET]) : NaN);
      features.forEach((f, i) => {
        const v = row[f.name];
        if (CATEGORICAL.has(f.name)) {
          const s = v === null || v === undefined ? null : String(v);
          if (f.levels) builders[i].push(s === null ? NaN : f.levels.indexOf(s) >= 0 ? f.levels.indexOf(s) : NaN);
          else {
            rawCategorical[i].push(s);
            if (s !== null) seenLevels[i]!.add(s);
          }
        } else builders[i].push(toNumber(v));
      });
    }
    if (rows.length < batch) break;
    lastDate = (rows[rows.length - 1] as { date: string }).date;
    lastAccount = (rows[rows.length - 1] as { account_id: string }).account_id;
  }
  // Levels are sorted so the same data always gives the same codes (and the same model).
  const finalFeatures = features.map((f, i) => {
    if (!seenLevels[i]) return f;
    const levels = [...seenLevels[i]!].sort();
    for (const s of rawCategorical[i]) builders[i].push(s === null ? NaN : levels.indexOf(s));
    return { ...f, levels };
  });
  return {
    features: finalFeatures,
    columns: builders.map((b) => b.done()),
    dates,
    accounts,
    label: label.done(),
    n: dates.length,
  };
}

/** The rows of a matrix whose index passes `keep`, as a new matrix (for CV folds). */
export function subset(m: Matrix, keep: (i: number) => boolean): Matrix {
  const idx: number[] = [];
  for (let i = 0; i < m.n; i++) if (keep(i)) idx.push(i);
  const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]);
  return {
    features: m.features,
    columns: m.columns.map(pick),
    dates: idx.map((i) => m.dates[i]),
    accounts: idx.map((i) => m.accounts[i]),
    label: pick(m.label),
    ...(m.scale ? { scale: pick(m.scale) } : {}),
    n: idx.length,
  };
}
