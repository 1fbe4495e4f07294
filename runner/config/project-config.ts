import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, ProjectError } from '../errors.ts';
import { DBT_PROJECT_FILE, readDbtProject } from './dbt-project.ts';
import { readProjectDocument } from './project-document.ts';

const targetSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pglite'),
      path: z.string().default('.dpm/pglite'),
      threads: z.number().int().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('postgres'),
      url: z.string().optional(),
      url_env: z.string().optional(),
      host: z.string().optional(),
      port: z.number().int().optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      password_env: z.string().optional(),
      database: z.string().optional(),
      threads: z.number().int().min(1).optional(),
      /** Session settings for every connection (SET name = value), e.g. work_mem: 256MB; jit is off unless set. */
      settings: z
        .record(
          z.string().regex(/^[a-z_][a-z0-9_.]*$/, 'a PostgreSQL setting name, e.g. work_mem'),
          z.union([z.string(), z.number(), z.boolean()]),
        )
        .optional(),
    })
    .strict(),
]);
export type TargetConfig = z.infer<typeof targetSchema>;

/** Where `dpm ingest regimes` reads the market regimes when they come from a source database, not the API. */
const regimesSourceSchema = z
  .object({
    /** A postgres:// URL; better kept out of the file: `url_env` names the variable that holds it. */
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//i, 'a postgres:// URL, e.g. postgres://user@host:5432/marketdata')
      .optional(),
    url_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable')
      .optional(),
    /** `schema.table` (or a view) holding one row per day and copy; default public.regimes_daily. */
    table: z.string().min(1).optional(),
  })
  .strict();
export type RegimesSourceConfig = z.infer<typeof regimesSourceSchema>;

const projectSchema = z
  .object({
    name: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase identifier'),
    version: z.union([z.string(), z.number()]).optional(),
    'model-paths': z.array(z.string()).default(['models']),
    'seed-paths': z.array(z.string()).default(['seeds']),
    'macro-paths': z.array(z.string()).default(['macros']),
    'test-paths': z.array(z.string()).default(['tests/data']),
    'snapshot-paths': z.array(z.string()).default(['snapshots']),
    'target-path': z.string().default('target'),
    vars: z.record(z.string(), z.unknown()).default({}),
    /** Folder-level model config, dbt style: `models: { staging: { +materialized: view } }`. */
    models: z.record(z.string(), z.unknown()).default({}),
    seeds: z.record(z.string(), z.unknown()).default({}),
    /** Folder-level snapshot config: `snapshots: { +target_schema: snapshots }`. */
    snapshots: z.record(z.string(), z.unknown()).default({}),
    target: z.string().optional(),
    targets: z.record(z.string(), targetSchema).default({}),
    'regimes-source': regimesSourceSchema.optional(),
  })
  .strict();
export type ProjectConfig = z.infer<typeof projectSchema> & {
  root: string;
  file: string;
  /** A dbt project names schemas as dbt does: from its target's schema (`dbt`), not from model folders. */
  naming?: 'dbt';
  /** A dbt project's targets' schemas (profiles.yml `schema:`), for that naming. */
  targetSchemas?: Record<string, string>;
};

export const PROJECT_FILE = 'dpm.yml';

/** The project in `root`: dpm.yml, or a dbt project's dbt_project.yml (and its profiles.yml for targets). */
export function loadProjectConfig(root: string): ProjectConfig {
  const file = join(root, PROJECT_FILE);
  if (!existsSync(file)) {
    if (existsSync(join(root, DBT_PROJECT_FILE))) {
      const dbt = readDbtProject(root);
      const config = validateProject(dbt.project, dbt.lineOf, DBT_PROJECT_FILE, root, dbt.file);
      return { ...config, naming: 'dbt', targetSchemas: dbt.targetSchemas };
    }
    throw new ConfigError(
      `no ${PROJECT_FILE} or ${DBT_PROJECT_FILE} in ${root}: run dpm from a project folder or pass --project-dir.`,
    );
  }
  const { data, lineOf } = readProjectDocument(file, PROJECT_FILE);
  return validateProject(data, lineOf, PROJECT_FILE, root, file);
}

/** Checks a project's settings (from dpm.yml, or translated from dbt's files) against the one schema. */
function validateProject(
  data: Record<string, unknown>,
  lineOf: (path: string[]) => number | undefined,
  name: string,
  root: string,
  file: string,
): ProjectConfig {
  const result = projectSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.map(String);
    const key = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]] : path;
    const line = lineOf(key.length ? key.slice(0, issue.code === 'unrecognized_keys' ? -1 : undefined) : []);
    throw new ProjectError(name, line, `${key.join('.') || '(root)'}: ${issue.message}`);
  }
  return { ...result.data, root, file };
}

export { parseYaml };
