import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { ProjectConfig, TargetConfig } from '../config/project-config.ts';
import { redact, registerSecret } from './redact.ts';

/** Where a run goes: the embedded database or a PostgreSQL server, resolved once from env and dpm.yml. */
export type Target =
  | { kind: 'pglite'; name: string; dataDir: string; threads: number }
  | { kind: 'postgres'; name: string; url: string; threads: number; settings: Record<string, string> };

/**
 * Session settings of every PostgreSQL connection unless the target sets them. JIT compilation pays for
 * itself on none of the models: compiling the wide window and join queries (feat_rolling_performance,
 * feature_store_account_daily) costs more than it saves.
 */
const DEFAULT_SETTINGS: Record<string, string> = { jit: 'off' };

/** A PostgreSQL target: the defaults above under the given session settings. */
export function postgresTarget(
  name: string,
  url: string,
  threads = 4,
  settings: Record<string, string | number | boolean> = {},
): Target {
  return {
    kind: 'postgres',
    name,
    url,
    threads,
    settings: { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])) },
  };
}

/** DPM_DATABASE_URL wins, then --target / dpm.yml's `target`, then embedded PGlite under .dpm/. */
export function resolveTarget(
  project: Pick<ProjectConfig, 'root' | 'target' | 'targets'>,
  requested?: string,
  env = process.env,
): Target {
  const fromEnv = env.DPM_DATABASE_URL;
  if (fromEnv && !requested) {
    registerSecret(passwordOf(fromEnv));
    return postgresTarget('env', fromEnv);
  }
  const name = requested ?? project.target;
  if (!name) return { kind: 'pglite', name: 'embedded', dataDir: resolve(project.root, '.dpm/pglite'), threads: 1 };
  const cfg: TargetConfig | undefined = project.targets[name];
  if (!cfg) {
    const known = Object.keys(project.targets);
    throw new ConfigError(`target '${name}' is not defined in dpm.yml (targets: ${known.join(', ') || 'none'}).`);
  }
  if (cfg.type === 'pglite') return { kind: 'pglite', name, dataDir: resolve(project.root, cfg.path), threads: 1 };
  return postgresTarget(name, postgresUrl(name, cfg, env), cfg.threads, cfg.settings);
}

function postgresUrl(name: string, cfg: Extract<TargetConfig, { type: 'postgres' }>, env: NodeJS.ProcessEnv): string {
  if (cfg.url_env) {
    const url = env[cfg.url_env];
    if (!url) throw new ConfigError(`target '${name}' reads its URL from $${cfg.url_env}, which is not set.`);
    registerSecret(passwordOf(url));
    return url;
  }
  if (cfg.url) {
    registerSecret(passwordOf(cfg.url));
    return cfg.url;
  }
  const password = cfg.password_env ? env[cfg.password_env] : cfg.password;
  registerSecret(password);
  const auth = cfg.user ? `${encodeURIComponent(cfg.user)}${password ? `:${encodeURIComponent(password)}` : ''}@` : '';
  return `postgres://${auth}${cfg.host ?? '127.0.0.1'}:${cfg.port ?? 5432}/${cfg.database ?? 'postgres'}`;
}

/** The password of a postgres:// URL, decoded, for the redactor. */
export function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

export function describeTarget(target: Target): string {
  return target.kind === 'pglite'
    ? `${target.name} (embedded PGlite, data in ${target.dataDir})`
    : `${target.name} (PostgreSQL ${redact(target.url)})`;
}
