import type { Knex } from 'knex';

// The runner's own bookkeeping: one row per invocation and one per node, so operators can query history.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('dpm').createTable('runs', (t) => {
    t.uuid('invocation_id').primary();
    t.text('command').notNullable();
    t.text('selector');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.text('status').notNullable();
  });
  await knex.schema.withSchema('dpm').createTable('run_nodes', (t) => {
    t.uuid('invocation_id').notNullable().references('invocation_id').inTable('dpm.runs').onDelete('CASCADE');
    t.text('unique_id').notNullable();
    t.text('status').notNullable();
    t.double('execution_time').notNullable();
    t.bigInteger('rows_affected');
    t.text('message');
    t.primary(['invocation_id', 'unique_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('dpm').dropTable('run_nodes');
  await knex.schema.withSchema('dpm').dropTable('runs');
}
