// A dbt project as dpm reads it: dbt_project.yml for the paths, vars and folder config, and the profile of
// profiles.yml (the project folder, DBT_PROFILES_DIR or --profiles-dir, else ~/.dbt) for the targets.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { parse as parseYaml } from 'yaml';
import { ConfigError, ProjectError } from '../errors.ts';
import { readProjectDocument } from './project-document.ts';

export const DBT_PROJECT_FILE = 'dbt_project.yml';

/** Keys of dbt_project.yml that do not change what dpm builds: accepted and not used. */
const IGNORED = [
  'config-version',
  'clean-targets',
  'require-dbt-version',
  'analysis-paths',
  'docs-paths',
  'asset-paths',
  'log-path',
  'packages-install-path',
  'profile',
];
/** Keys of dbt_project.yml that would change results and that dpm does not implement: an error, never ignored. */
const UNSUPPORTED = [
  'on-run-start',
  'on-run-end',
  'dispatch',
  'quoting',
  'query-comment',
  'flags',
  'data_tests',
  'tests',
  'sources',
  'exposures',
  'metrics',
  'semantic-models',
  'saved-queries',
  'restrict-access',
];

/**
 * dbt_project.yml and its profile as dpm.yml's settings (validated by the caller against the one project
 * schema), with the line of a key for messages and the targets' schemas for dbt's schema naming.
 */
export function readDbtProject(root: string): {
  project: Record<string, unknown>;
  lineOf: (path: string[]) => number | undefined;
  file: string;
  targetSchemas: Record<string, string>;
} {
  const file = join(root, DBT_PROJECT_FILE);
  const { data, lineOf } = readProjectDocument(file, DBT_PROJECT_FILE);
  for (const key of UNSUPPORTED) {
    if (key in data) throw new ProjectError(DBT_PROJECT_FILE, lineOf([key]), `dbt's '${key}:' is not supported by dpm`);
  }
  const project: Record<string, unknown> = { 'test-paths': ['tests'] };
  for (const [key, value] of Object.entries(data)) if (!IGNORED.includes(key)) project[key] = value;
  const profileName = typeof data.profile === 'string' ? data.profile : String(data.name ?? '');
  const profile = readProfile(root, profileName);
  if (profile) Object.assign(project, { target: profile.target, targets: profile.targets });
  return { project, lineOf, file, targetSchemas: profile?.schemas ?? {} };
}

/** Where profiles.yml is looked for, first found wins, as dbt does. */
function profilesFile(root: string): string | undefined {
  const dirs = [process.env.DBT_PROFILES_DIR, root, join(homedir(), '.dbt')].filter((d): d is string => !!d);
  return dirs.map((d) => join(d, 'profiles.yml')).find((f) => existsSync(f));
}

/**
 * The profile's outputs as dpm targets and its default target; undefined without a profiles.yml (the embedded
 * database is then the target, as for a dpm.yml without targets).
 */
function readProfile(
  root: string,
  name: string,
): { target?: string; targets: Record<string, unknown>; schemas: Record<string, string> } | undefined {
  const file = profilesFile(root);
  if (!file) return undefined;
  const where = file.startsWith(root) ? 'profiles.yml' : file;
  const { data, lineOf } = readProjectDocument(file, where);
  const profile = data[name] as { target?: unknown; outputs?: Record<string, Record<string, unknown>> } | undefined;
  if (!profile?.outputs) {
    throw new ConfigError(
      `${where} has no profile '${name}' with outputs: add it, or set profile: in ${DBT_PROJECT_FILE}.`,
    );
  }
  const targets: Record<string, unknown> = {};
  const schemas: Record<string, string> = {};
  for (const [target, output] of Object.entries(profile.outputs)) {
    const out = rendered(output, `${where} (${name}.outputs.${target})`);
    if (out.type !== 'postgres') {
      throw new ProjectError(
        where,
        lineOf([name, 'outputs', target, 'type']),
        `dbt's '${String(out.type)}' adapter is not supported by dpm: outputs of type postgres only`,
      );
    }
    targets[target] = {
      type: 'postgres',
      host: out.host,
      port: out.port === undefined ? undefined : Number(out.port),
      user: out.user,
      password: out.password ?? out.pass,
      database: out.dbname ?? out.database,
      threads: out.threads === undefined ? undefined : Number(out.threads),
    };
    if (out.schema !== undefined) schemas[target] = String(out.schema);
  }
  return { target: profile.target === undefined ? undefined : String(profile.target), targets, schemas };
}

/** The renderer of profiles.yml values, made on first use: a dpm.yml project never needs it. */
let env: nunjucks.Environment | undefined;
function profileEnv(): nunjucks.Environment {
  if (env) return env;
  env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  env.addGlobal('env_var', (variable: string, fallback?: string) => {
    const value = process.env[variable] ?? fallback;
    if (value === undefined) throw new Error(`env_var('${variable}') is not set and has no default`);
    return value;
  });
  for (const filter of ['as_number', 'as_bool', 'as_native', 'as_text']) env.addFilter(filter, (v: unknown) => v);
  return env;
}

/** An output with `{{ env_var('X', 'default') }}` rendered in every string, and YAML values restored. */
function rendered(output: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(output)) {
    if (typeof v !== 'string' || !v.includes('{{')) {
      out[k] = v;
      continue;
    }
    try {
      out[k] = parseYaml(profileEnv().renderString(v, {}));
    } catch (err) {
      throw new ConfigError(`${where}.${k}: ${(err as Error).message.replace(/^\(unknown path\)\s*/, '')}`);
    }
  }
  return out;
}
