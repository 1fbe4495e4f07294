// The SQL of a unit test: each given input as a CTE of its rows cast to the input's column types, the model's SQL
// reading those CTEs, and a comparison of its rows with the expected ones as multisets.
import type { Fixture } from '../project/nodes.ts';
import { quoteIdent, quoteLiteral } from '../project/templating.ts';

export interface Column {
  name: string;
  /** As format_type() prints it, e.g. `integer`, `numeric(12,2)`, `timestamp with time zone`. */
  type: string;
}

type RowsFixture = Extract<Fixture, { kind: 'rows' }>;

/** One select per row of `columns` (all of the relation's, in order): a column the rows leave out is NULL. */
export function rowsSelect(fixture: RowsFixture, columns: Column[]): string {
  const index = new Map(fixture.columns.map((c, i) => [c.toLowerCase(), i]));
  const select = (cells?: (string | null)[]) =>
    `select ${columns
      .map((c) => {
        const i = index.get(c.name.toLowerCase());
        const value = cells && i !== undefined ? cells[i] : null;
        return `cast(${value === null ? 'null' : quoteLiteral(value)} as ${c.type}) as ${quoteIdent(c.name)}`;
      })
      .join(', ')}`;
  return fixture.rows.length ? fixture.rows.map((r) => select(r)).join('\nunion all\n') : `${select()} where false`;
}

/** The expected rows of a sql fixture, cast to the types of the model's columns they are compared with. */
export function castSelect(sql: string, columns: Column[]): string {
  const list = columns.map((c) => `cast(${quoteIdent(c.name)} as ${c.type}) as ${quoteIdent(c.name)}`).join(', ');
  return `select ${list} from (\n${sql}\n) as dpm_expected_sql`;
}

/** Types without an equality operator: grouped by their text (json by its jsonb value, so key order is moot). */
const NO_EQUALITY = /^(xml|point|line|lseg|box|path|polygon|circle)$/;

function groupKey(c: Column): string {
  const name = quoteIdent(c.name);
  if (c.type === 'json') return `${name}::jsonb`;
  return NO_EQUALITY.test(c.type) ? `${name}::text` : name;
}

/**
 * Rows that differ between the model's output (only `columns`) and the expected rows: one line per distinct row
 * whose counts differ, with its cells as text (`__dpm_c<i>`) and both counts. Rows are grouped by their typed
 * values, so 1.0 and 1.00 are equal numerics and NULL matches NULL, as in dbt's comparison.
 */
export function comparisonSql(
  given: { cte: string; sql: string }[],
  modelSql: string,
  columns: Column[],
  expected: string,
) {
  const names = columns.map((c) => quoteIdent(c.name)).join(', ');
  const ctes = [
    ...given.map((g) => `${g.cte} as (\n${g.sql}\n)`),
    `__dpm_actual as (\nselect ${names} from (\n${modelSql}\n) as dpm_model\n)`,
    `__dpm_expected as (\n${expected}\n)`,
  ];
  const texts = columns.map((c, i) => `min(${quoteIdent(c.name)}::text) as __dpm_c${i}`).join(', ');
  const actualCount = "count(*) filter (where __dpm_side = 'actual')";
  const expectedCount = "count(*) filter (where __dpm_side = 'expected')";
  return [
    `with ${ctes.join(',\n')}`,
    `select ${texts}, ${actualCount}::int as __dpm_actual, ${expectedCount}::int as __dpm_expected`,
    `from (\nselect *, 'actual' as __dpm_side from __dpm_actual`,
    `union all\nselect *, 'expected' as __dpm_side from __dpm_expected\n) as dpm_both`,
    `group by ${columns.map(groupKey).join(', ')}`,
    `having ${actualCount} <> ${expectedCount}`,
    `order by ${columns.map((_, i) => i + 1).join(', ')}`,
  ].join('\n');
}

/** The model's SQL with the given CTEs in front: for describing its columns. */
export function withGiven(given: { cte: string; sql: string }[], sql: string): string {
  if (!given.length) return sql;
  return `with ${given.map((g) => `${g.cte} as (\n${g.sql}\n)`).join(',\n')}\nselect * from (\n${sql}\n) as dpm_model`;
}
