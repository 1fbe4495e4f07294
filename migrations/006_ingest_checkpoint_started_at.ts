import type { Knex } from 'knex';

// When a window was first started: a resumed run reads back the keys landed since then, so a record repeated
// across the checkpoint counts as a duplicate, as it would have in an uninterrupted run.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table dpm.ingest_checkpoints add column started_at timestamptz');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table dpm.ingest_checkpoints drop column started_at');
}
