import type { Knex } from 'knex';

/**
 * Which columns of the training table are model inputs. Everything numeric is a feature except keys,
 * the target and codes that are constant in the modelled population; these text columns are categorical.
 */
export const NON_FEATURES = new Set([
  'account_id',
  'date',
  'prediction_date',
  'target_net_profit',
  'plan_id',
  'phase',
  'status',
]);
export const CATEGORICAL = new Set(['volatility_regime', 'liquidity_state']);
export const TARGET = 'target_net_profit';

const NUMERIC = /^(double precision|real|numeric|integer|bigint|smallint|boolean)$/;

export interface FeatureSpec {
  name: string;
  /** Levels of a categorical feature, in code order (code = index); absent for numeric features. */
  levels?: string[];
}

export interface ColumnInfo {
  name: string;
  type: string;
}

export async function tableColumns(knex: Knex, schema: string, table: string): Promise<ColumnInfo[]> {
  const { rows } = await knex.raw(
    'select column_name as name, data_type as type from information_schema.columns ' +
      'where table_schema = ? and table_name = ? order by ordinal_position',
    [schema, table],
  );
  return rows;
}

export function featureColumns(columns: ColumnInfo[]): ColumnInfo[] {
  return columns.filter((c) => !NON_FEATURES.has(c.name) && (NUMERIC.test(c.type) || CATEGORICAL.has(c.name)));
}
