import type { Knex } from 'knex';
import { migrations } from './index.ts';

// Migrations are imported statically (not discovered on disk) so they work the same under tsx and in tests.
const source: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations.find(([n]) => n === name)![1],
};

const config: Knex.MigratorConfig = { migrationSource: source, schemaName: 'dpm', tableName: 'knex_migrations' };

/**
 * The runner's own bookkeeping (dpm.runs, dpm.run_nodes): all that seed, run, build and test create, so that
 * a project other than dpm's gets no tables it did not declare. The product's verbs apply every migration.
 */
const RUNNER_ONLY = migrations.slice(0, 1);
const runnerConfig: Knex.MigratorConfig = {
  ...config,
  migrationSource: { ...source, getMigrations: async () => RUNNER_ONLY.map(([name]) => name) },
};

/**
 * True when every migration is recorded as applied: one query, where knex's migrator checks its tables, takes
 * its lock and lists the applied migrations in six, which every command on an up-to-date database would pay.
 */
async function upToDate(knex: Knex, wanted = migrations): Promise<boolean> {
  try {
    const { rows } = await knex.raw('select name from dpm.knex_migrations');
    const applied = new Set((rows as { name: string }[]).map((r) => r.name));
    return wanted.every(([name]) => applied.has(name));
  } catch (err) {
    // A new database: no dpm schema (3F000) or no migrations table (42P01) yet.
    if (['42P01', '3F000'].includes((err as { code?: string }).code ?? '')) return false;
    throw err;
  }
}

/** Applies what of `wanted` is pending (knex is not asked when none is); returns the names applied now. */
async function apply(knex: Knex, wanted: typeof migrations, cfg: Knex.MigratorConfig): Promise<string[]> {
  if (await upToDate(knex, wanted)) return [];
  await knex.raw('create schema if not exists dpm');
  const [, applied] = (await knex.migrate.latest(cfg)) as [number, string[]];
  return applied;
}

/** Applies every pending migration: the product's verbs. */
export const migrateLatest = (knex: Knex) => apply(knex, migrations, config);

/** Applies the runner's bookkeeping migration only (a database that has it, or more, is left as it is). */
export const migrateRunner = (knex: Knex) => apply(knex, RUNNER_ONLY, runnerConfig);

export async function migrateRollback(knex: Knex): Promise<string[]> {
  const [, rolled] = (await knex.migrate.rollback(config)) as [number, string[]];
  return rolled;
}

export async function pendingMigrations(knex: Knex): Promise<string[]> {
  await knex.raw('create schema if not exists dpm');
  const [, pending] = (await knex.migrate.list(config)) as [unknown[], { file: string }[] | string[]];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
