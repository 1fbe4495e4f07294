import type { Knex } from 'knex';
import { ENDPOINT_SPECS } from '../runner/ingest/endpoints.ts';
import { sqlType } from '../runner/ingest/fields.ts';

// Landing tables mirror the API field for field (snake_case), keyed like the source; `extra` keeps any
// field the API adds later so that nothing it sends is lost.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create schema if not exists raw');
  for (const spec of ENDPOINT_SPECS) {
    const cols = spec.fields.map((f) => `${f.column} ${sqlType(f.kind)}${spec.key.includes(f.column) ? ' not null' : ''}`);
    await knex.raw(
      `create table ${spec.table} (${cols.join(', ')}, extra jsonb, ingested_at timestamptz not null default now(), primary key (${spec.key.join(', ')}))`,
    );
  }
  await knex.raw('create index on raw.trades_closed (login, platform, broker)');
  await knex.raw('create index on raw.metrics_daily (date)');
  await knex.schema.withSchema('raw').createTable('rejected_records', (t) => {
    t.bigIncrements('id');
    t.text('endpoint').notNullable();
    t.text('window_key').notNullable();
    t.integer('page_skip').notNullable();
    t.text('record_id');
    t.jsonb('payload').notNullable();
    t.text('error').notNullable();
    t.timestamp('rejected_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['endpoint', 'window_key', 'page_skip', 'record_id', 'error']);
  });
  await knex.schema.withSchema('dpm').createTable('ingest_checkpoints', (t) => {
    t.text('endpoint').notNullable();
    t.text('window_key').notNullable();
    t.text('status').notNullable();
    t.integer('next_skip').notNullable().defaultTo(0);
    t.bigInteger('fetched').notNullable().defaultTo(0);
    t.bigInteger('loaded').notNullable().defaultTo(0);
    t.bigInteger('rejected').notNullable().defaultTo(0);
    t.bigInteger('duplicates').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['endpoint', 'window_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('dpm').dropTable('ingest_checkpoints');
  await knex.raw('drop schema raw cascade');
}
