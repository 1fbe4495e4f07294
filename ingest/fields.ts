import { z } from 'zod';

/**
 * One table per record type drives the zod schema, the raw table's columns and the CSV encoder, so
 * the three never drift apart. API names are camelCase (or snake_case where the API says so).
 */
export type FieldKind = 'text' | 'int' | 'num' | 'date' | 'ts' | 'bool' | 'json';

export interface Field {
  api: string;
  column: string;
  kind: FieldKind;
  required: boolean;
  /** Extra rule on top of the kind, e.g. lots > 0. */
  refine?: (v: unknown) => string | undefined;
}

const SQL_TYPES: Record<FieldKind, string> = {
  text: 'text',
  int: 'bigint',
  num: 'numeric',
  date: 'date',
  ts: 'timestamptz',
  bool: 'boolean',
  json: 'jsonb',
};

export const sqlType = (k: FieldKind) => SQL_TYPES[k];

export function snake(api: string): string {
  return api
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * `'login:text!'` -> a required text field named login; `'stopLoss:num'` -> optional number;
 * `'meanTPvsSL=mean_tp_vs_sl:num'` names the column where snake() of the API name would read badly.
 */
export function fields(spec: string): Field[] {
  return spec
    .trim()
    .split(/\s+/)
    .map((token) => {
      const [name, rest] = token.split(':');
      const [api, column] = name.split('=');
      const required = rest.endsWith('!');
      const kind = rest.replace('!', '') as FieldKind;
      if (!(kind in SQL_TYPES)) throw new Error(`field ${api}: unknown kind ${kind}`);
      return { api, column: column ?? snake(api), kind, required };
    });
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T00:00:00(\.0+)?Z)?$/;
const COMPACT_DATE = /^\d{8}$/;
const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** Dates arrive as ISO strings with a zero time, or as YYYYMMDD in older data; both become YYYY-MM-DD. */
export function normalizeDate(v: string): string | undefined {
  if (ISO_DATE.test(v)) return v.slice(0, 10);
  if (COMPACT_DATE.test(v)) return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
  return undefined;
}

function kindSchema(f: Field): z.ZodType<unknown> {
  switch (f.kind) {
    case 'text':
      return z.union([z.string(), z.number().transform(String)]);
    case 'int':
      return z
        .union([
          z.number(),
          z
            .string()
            .regex(/^-?\d+$/)
            .transform(Number),
        ])
        .pipe(z.number().int(`${f.api} must be a whole number`));
    case 'num':
      return z
        .union([
          z.number(),
          z
            .string()
            .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)
            .transform(Number),
        ])
        .pipe(z.number().finite());
    case 'date':
      return z.string().transform((v, ctx) => {
        const d = normalizeDate(v);
        if (!d)
          ctx.addIssue({
            code: 'custom',
            message: `${f.api} must be an ISO date or YYYYMMDD, got ${JSON.stringify(v)}`,
          });
        return d ?? v;
      });
    case 'ts':
      return z.string().regex(ISO_TS, `${f.api} must be an ISO timestamp like 2025-02-13T09:30:00.000Z`);
    case 'bool':
      return z.union([z.boolean(), z.literal(0).transform(() => false), z.literal(1).transform(() => true)]);
    case 'json':
      return z.unknown();
  }
}

/** A zod object for a record type: required fields must be present and non-null, others may be null. */
export function recordSchema(list: Field[], refine?: (r: Record<string, unknown>) => string | undefined) {
  const shape: Record<string, z.ZodType<unknown>> = {};
  for (const f of list) {
    let s = kindSchema(f);
    if (f.refine) {
      const rule = f.refine;
      s = s.superRefine((v, ctx) => {
        const problem = rule(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      });
    }
    shape[f.api] = f.required ? s : s.nullable().optional();
  }
  // Unknown fields are kept out of typed columns but not rejected: the API may add fields any day.
  const obj = z.object(shape).loose();
  return refine
    ? obj.superRefine((r, ctx) => {
        const problem = refine(r as Record<string, unknown>);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
    : obj;
}
