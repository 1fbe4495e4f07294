import { z } from 'zod';
import { didYouMean } from '../errors.ts';

const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const indexSchema = z
  .object({ columns: z.array(z.string()).min(1), unique: z.boolean().default(false), type: z.string().optional() })
  .strict();

/** Every key a model's config() may set; one table drives validation and the "did you mean" hints. */
export const modelConfigSchema = z
  .object({
    materialized: z.enum(['view', 'table', 'incremental', 'ephemeral']),
    enabled: z.boolean(),
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    alias: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    tags: stringList,
    description: z.string(),
    unique_key: stringList,
    incremental_strategy: z.enum(['append', 'delete+insert', 'merge', 'microbatch']),
    on_schema_change: z.enum(['ignore', 'fail', 'append_new_columns']),
    indexes: z.array(indexSchema),
    pre_hook: stringList,
    post_hook: stringList,
    event_time: z.string(),
    batch_size: z.enum(['day', 'week', 'month']),
    lookback: z.number().int().min(0),
    begin: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
    full_refresh: z.boolean(),
    distributed_by: z.string(),
    /** On Citus, a copy on every worker (small lookups that distributed tables join). */
    reference: z.boolean(),
    meta: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();
export type ModelConfigInput = z.input<typeof modelConfigSchema>;
export type ModelConfig = z.output<typeof modelConfigSchema>;

export const seedConfigSchema = z
  .object({
    enabled: z.boolean(),
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    alias: z.string(),
    tags: stringList,
    description: z.string(),
    column_types: z.record(z.string(), z.string()),
    /** Rows sharing these columns across files are one record: identical copies merge, different ones are an error. */
    unique_key: stringList,
    delimiter: z.string().length(1),
    null_values: z.array(z.string()),
    /** snake_case the CSV header (planId -> plan_id), as SQL users expect; false keeps it verbatim. */
    normalize_columns: z.boolean(),
    /** MM/DD/YYYY-style timestamps are read month first (us) or day first (eu). */
    date_order: z.enum(['us', 'eu']),
    full_refresh: z.boolean(),
    /** On Citus, a copy on every worker, so that joins to it stay on the workers. */
    reference: z.boolean(),
    meta: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();
export type SeedConfig = z.output<typeof seedConfigSchema>;

/** dbt's snapshot meta columns, renamable with snapshot_meta_column_names. */
export const SNAPSHOT_META_COLUMNS = [
  'dbt_valid_from',
  'dbt_valid_to',
  'dbt_scd_id',
  'dbt_updated_at',
  'dbt_is_deleted',
] as const;
export type SnapshotMetaColumn = (typeof SNAPSHOT_META_COLUMNS)[number];

const metaColumnNames = z.strictObject(
  Object.fromEntries(SNAPSHOT_META_COLUMNS.map((k) => [k, z.string().min(1).optional()])) as Record<
    SnapshotMetaColumn,
    z.ZodOptional<z.ZodString>
  >,
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key '${issue.keys[0]}'; the keys are ${SNAPSHOT_META_COLUMNS.join(', ')}`
        : undefined,
  },
);

/** Every key a snapshot's config may set (dbt-core 1.9 on PostgreSQL); rules across keys are checked at load. */
export const snapshotConfigSchema = z
  .object({
    strategy: z.enum(['timestamp', 'check']),
    /** Column names or SQL expressions, as dbt takes them. */
    unique_key: stringList,
    updated_at: z.string(),
    check_cols: z.union([z.literal('all'), z.array(z.string()).min(1)], {
      error: "'all' or a list of column names",
    }),
    /** dbt's legacy setting: the schema as written, not through generate_schema_name. */
    target_schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    alias: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    invalidate_hard_deletes: z.boolean(),
    hard_deletes: z.enum(['ignore', 'invalidate', 'new_record']),
    snapshot_meta_column_names: metaColumnNames,
    /** SQL for dbt_valid_to of current rows (e.g. "'9999-12-31'::timestamp") instead of null. */
    dbt_valid_to_current: z.string(),
    enabled: z.boolean(),
    tags: stringList,
    description: z.string(),
    meta: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();
export type SnapshotConfig = z.output<typeof snapshotConfigSchema>;

export const testConfigSchema = z
  .object({
    enabled: z.boolean(),
    severity: z.enum(['warn', 'error', 'WARN', 'ERROR']).transform((s) => s.toLowerCase() as 'warn' | 'error'),
    where: z.string(),
    tags: stringList,
    meta: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();
export type TestConfig = z.output<typeof testConfigSchema>;

/** Keys dbt users write with dashes or a leading '+' in project files. */
export function normalizeConfigKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === '__keywords') continue;
    out[k.replace(/^\+/, '').replace(/-/g, '_')] = v;
  }
  return out;
}

export interface ConfigProblem {
  key: string;
  message: string;
}

/** Validates one config object; returns the parsed config or the first problem, phrased for humans. */
export function checkConfig<S extends z.ZodTypeAny>(
  schema: S,
  raw: Record<string, unknown>,
): { ok: true; value: z.output<S> } | { ok: false; problem: ConfigProblem } {
  const result = schema.safeParse(normalizeConfigKeys(raw));
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
    const key = issue.keys[0];
    const known = Object.keys((schema as unknown as z.ZodObject<z.ZodRawShape>).shape ?? {});
    return { ok: false, problem: { key, message: `unknown config key '${key}'.${didYouMean(key, known)}` } };
  }
  const key = issue.path.map(String).join('.');
  return { ok: false, problem: { key: String(issue.path[0] ?? ''), message: `config '${key}': ${issue.message}` } };
}
