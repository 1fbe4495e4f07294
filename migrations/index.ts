import type { Knex } from 'knex';
import * as m001 from './001_dpm_runs.ts';
import * as m002 from './002_raw_landing.ts';
import * as m003 from './003_model_registry.ts';
import * as m004 from './004_trades_closed_date_index.ts';
import * as m005 from './005_real_api_metric_fields.ts';
import * as m006 from './006_ingest_checkpoint_started_at.ts';
import * as m007 from './007_citus_distribution.ts';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration in order; add new ones at the end, never rename or edit a released one. */
export const migrations: [name: string, migration: Migration][] = [
  ['001_dpm_runs', m001],
  ['002_raw_landing', m002],
  ['003_model_registry', m003],
  ['004_trades_closed_date_index', m004],
  ['005_real_api_metric_fields', m005],
  ['006_ingest_checkpoint_started_at', m006],
  ['007_citus_distribution', m007],
];
