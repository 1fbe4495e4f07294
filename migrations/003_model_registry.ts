import type { Knex } from 'knex';

// What the trainer writes: registered models, their predictions, evaluations, and the pipeline's stage log.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('dpm').createTable('model_registry', (t) => {
    t.text('model_version').primary();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.boolean('is_active').notNullable().defaultTo(false);
    t.text('objective').notNullable();
    t.date('train_start').notNullable();
    t.date('train_end').notNullable();
    t.jsonb('params').notNullable();
    t.jsonb('features').notNullable();
    t.jsonb('cv_metrics').notNullable();
    t.jsonb('baseline_metrics').notNullable();
    t.jsonb('feature_importance').notNullable();
    t.text('model_text').notNullable();
    t.text('lower_model_text');
    t.text('upper_model_text');
    t.text('artifact_path');
  });
  await knex.raw('create unique index model_registry_one_active on dpm.model_registry (is_active) where is_active');
  await knex.schema.withSchema('dpm').createTable('model_predictions', (t) => {
    t.text('model_version').notNullable().references('model_version').inTable('dpm.model_registry');
    t.text('account_id').notNullable();
    t.date('feature_date').notNullable();
    t.date('prediction_date').notNullable();
    t.double('predicted_net_profit').notNullable();
    t.double('lower_bound');
    t.double('upper_bound');
    t.boolean('high_risk').notNullable();
    t.jsonb('top_reasons').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['model_version', 'account_id', 'feature_date']);
  });
  await knex.raw('create index on dpm.model_predictions (feature_date)');
  await knex.schema.withSchema('dpm').createTable('model_evaluations', (t) => {
    t.text('model_version').notNullable();
    t.date('feature_date').notNullable();
    t.integer('n').notNullable();
    t.jsonb('metrics').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['model_version', 'feature_date']);
  });
  await knex.schema.withSchema('dpm').createTable('pipeline_runs', (t) => {
    t.bigIncrements('id');
    t.uuid('run_id').notNullable();
    t.text('stage').notNullable();
    t.text('status').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.bigInteger('rows');
    t.text('error');
    t.jsonb('details');
    t.index(['run_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['pipeline_runs', 'model_evaluations', 'model_predictions', 'model_registry'])
    await knex.schema.withSchema('dpm').dropTable(t);
}
