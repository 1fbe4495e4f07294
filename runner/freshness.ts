// dbt's `source freshness`: for each source table with a `loaded_at_field` and a rule, the age of its newest row
// against warn_after / error_after, as pass, warn, error or runtime error, written to target/sources.json.
import { join } from 'node:path';
import type { Knex } from 'knex';
import { writeArtifact } from './artifacts/artifacts.ts';
import type { Project } from './project/load.ts';
import type { SourceTable } from './project/nodes.ts';

export interface FreshnessResult {
  unique_id: string;
  status: 'pass' | 'warn' | 'error' | 'runtime error';
  max_loaded_at: string | null;
  snapshotted_at: string;
  max_loaded_at_time_ago_in_s: number | null;
  criteria: { warn_after_s: number | null; error_after_s: number | null; filter: string | null };
  error?: string;
}

/** The source tables that declare both a timestamp column and a rule. */
export function freshnessTables(project: Project): SourceTable[] {
  return [...project.sources.values()].filter((t) => t.loadedAtField && t.freshness);
}

export async function checkFreshness(knex: Knex, tables: SourceTable[]): Promise<FreshnessResult[]> {
  const out: FreshnessResult[] = [];
  for (const t of tables) {
    const rule = t.freshness!;
    const criteria = {
      warn_after_s: rule.warnAfterSeconds ?? null,
      error_after_s: rule.errorAfterSeconds ?? null,
      filter: rule.filter ?? null,
    };
    try {
      // The database's clock on both sides, so a client in another time zone or with a skewed clock reads the same.
      const { rows } = await knex.raw(
        `select max(${t.loadedAtField})::timestamptz as max_loaded_at, now() as snapshotted_at from ${t.relation}` +
          (rule.filter ? ` where ${rule.filter}` : ''),
      );
      const max = rows[0].max_loaded_at as Date | null;
      const now = rows[0].snapshotted_at as Date;
      const age = max === null ? null : (now.getTime() - max.getTime()) / 1000;
      const beyond = (limit: number | null) => limit !== null && (age === null || age > limit);
      out.push({
        unique_id: t.uniqueId,
        status: beyond(criteria.error_after_s) ? 'error' : beyond(criteria.warn_after_s) ? 'warn' : 'pass',
        max_loaded_at: max?.toISOString() ?? null,
        snapshotted_at: now.toISOString(),
        max_loaded_at_time_ago_in_s: age,
        criteria,
      });
    } catch (err) {
      out.push({
        unique_id: t.uniqueId,
        status: 'runtime error',
        max_loaded_at: null,
        snapshotted_at: new Date().toISOString(),
        max_loaded_at_time_ago_in_s: null,
        criteria,
        // knex prefixes the server's message with the statement; the message alone says what is wrong.
        error: `${t.relation}.${t.loadedAtField}: ${(err as Error).message.split(' - ').pop()}`,
      });
    }
  }
  return out;
}

export function writeSourcesArtifact(project: Project, results: FreshnessResult[]): string {
  const path = join(project.config.root, project.config['target-path'], 'sources.json');
  writeArtifact(
    path,
    JSON.stringify({ metadata: { generated_at: new Date().toISOString(), dpm_version: '0.1.0' }, results }, null, 2),
  );
  return path;
}
