import type { Knex } from 'knex';
import { qualified } from '../materialize/relations.ts';

/**
 * Drops scratch relations that a killed run left behind. Only called while holding the run lock, so
 * no live run owns them.
 */
export async function dropLeftovers(knex: Knex): Promise<string[]> {
  const { rows } = await knex.raw(`
    select n.nspname as schema, c.relname as name, c.relkind as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'v', 'm') and c.relname ~ '__dpm_(tmp|old)_[0-9a-f]+$'
      and n.nspname not in ('pg_catalog', 'information_schema')`);
  const dropped: string[] = [];
  for (const r of rows as { schema: string; name: string; kind: string }[]) {
    const kind = r.kind === 'v' ? 'view' : r.kind === 'm' ? 'materialized view' : 'table';
    await knex.raw(`drop ${kind} if exists ${qualified(r.schema, r.name)} cascade`);
    dropped.push(`${r.schema}.${r.name}`);
  }
  return dropped;
}
