import { quoteIdent } from '../project/templating.ts';
import type { TestNode } from '../project/nodes.ts';

const literal = (v: unknown) =>
  typeof v === 'number' || typeof v === 'boolean' ? String(v) : `'${String(v).replace(/'/g, "''")}'`;

/** SQL that returns the failing rows of a generic test; an empty result is a pass. */
export function genericTestSql(test: TestNode, relation: string, toRelation?: string): string {
  const where = test.config.where ? `\n  where ${test.config.where}` : '';
  const subject = `(select * from ${relation}${where})`;
  const model = `${subject} as dpm_subject`;
  const col = test.column ? quoteIdent(test.column) : '';
  const args = test.kwargs;
  switch (test.testName) {
    case 'not_null':
      return `select * from ${model}\nwhere ${col} is null`;
    case 'unique':
      return (
        `select ${col} as unique_field, count(*) as n_records\nfrom ${model}\n` +
        `where ${col} is not null\ngroup by ${col}\nhaving count(*) > 1`
      );
    case 'accepted_values': {
      // Compared as text so one list works for int, enum and text columns alike.
      const values = (args.values as unknown[]).map((v) => literal(String(v))).join(', ');
      return (
        `select ${col} as value_field, count(*) as n_records\nfrom ${model}\n` +
        `where ${col} is not null and ${col}::text not in (${values})\ngroup by ${col}`
      );
    }
    case 'relationships': {
      const field = quoteIdent(String(args.field));
      return (
        `select child.${col} as from_field\nfrom ${subject} as child\n` +
        `left join ${toRelation} as parent on child.${col} = parent.${field}\n` +
        `where child.${col} is not null and parent.${field} is null`
      );
    }
    case 'unique_combination_of_columns': {
      const cols = (args.combination_of_columns as string[]).map(quoteIdent).join(', ');
      return `select ${cols}, count(*) as n_records\nfrom ${model}\ngroup by ${cols}\nhaving count(*) > 1`;
    }
    case 'accepted_range': {
      const inclusive = args.inclusive !== false;
      const checks = [
        args.min_value !== undefined ? `${col} ${inclusive ? '<' : '<='} ${Number(args.min_value)}` : undefined,
        args.max_value !== undefined ? `${col} ${inclusive ? '>' : '>='} ${Number(args.max_value)}` : undefined,
      ].filter(Boolean);
      return `select * from ${model}\nwhere ${checks.join(' or ')}`;
    }
    case 'expression_is_true':
      return `select * from ${model}\nwhere not (${String(args.expression)})`;
    default:
      throw new Error(`unknown generic test ${test.testName}`);
  }
}
