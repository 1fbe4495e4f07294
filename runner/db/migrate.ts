import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.ts';

// Migrations are imported statically (not discovered on disk) so they work the same under tsx and in tests.
const source: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations.find(([n]) => n === name)![1],
};

const config: Knex.MigratorConfig = { migrationSource: source, schemaName: 'dpm', tableName: 'knex_migrations' };

/** Applies pending migrations; returns the names applied now. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  await knex.raw('create schema if not exists dpm');
  const [, applied] = (await knex.migrate.latest(config)) as [number, string[]];
  return applied;
}

export async function migrateRollback(knex: Knex): Promise<string[]> {
  const [, rolled] = (await knex.migrate.rollback(config)) as [number, string[]];
  return rolled;
}

export async function pendingMigrations(knex: Knex): Promise<string[]> {
  await knex.raw('create schema if not exists dpm');
  const [, pending] = (await knex.migrate.list(config)) as [unknown[], { file: string }[] | string[]];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
