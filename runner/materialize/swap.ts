import type { Knex } from 'knex';
import { ModelRunError } from '../errors.ts';
import { quoteLiteral, type Relation } from '../project/templating.ts';
import { dependentViews, qualified } from './relations.ts';

/**
 * Puts a freshly built relation in place of `target` in one transaction. Unlike dbt's
 * `drop ... cascade`, views that depend on the old relation are captured and recreated on the new
 * one, so readers never see them vanish; if a dependent view no longer fits the new columns the
 * whole swap rolls back and the old relation and its views stay as they were.
 */
export async function swapIntoPlace(
  knex: Knex,
  built: { schema: string; name: string },
  target: Relation,
  existingKind: 'table' | 'view' | 'materialized_view' | undefined,
  oldName: string,
  afterSwap?: (trx: Knex.Transaction) => Promise<void>,
): Promise<void> {
  await knex.transaction(async (trx) => {
    const views = existingKind ? await dependentViews(trx, target) : [];
    if (existingKind) {
      // A reader locks a view before the relations under it; the swap takes its locks in that same
      // order (outermost view first, the target last) so a concurrent reader waits instead of deadlocking.
      const lockable = [...views].reverse().filter((v) => v.kind === 'v').map((v) => qualified(v.schema, v.name));
      if (existingKind !== 'materialized_view') await trx.raw(`lock table ${[...lockable, String(target)].join(', ')} in access exclusive mode`);
      const kindSql = existingKind === 'materialized_view' ? 'materialized view' : existingKind;
      await trx.raw(`alter ${kindSql} ${String(target)} rename to ${oldName}`);
    }
    const builtKind = await trx.raw(`select relkind from pg_class where oid = ?::regclass`, [qualified(built.schema, built.name)]);
    const kindSql = builtKind.rows[0].relkind === 'v' ? 'view' : 'table';
    await trx.raw(`alter ${kindSql} ${qualified(built.schema, built.name)} rename to ${quote(target.identifier)}`);
    if (existingKind) {
      const oldKind = existingKind === 'materialized_view' ? 'materialized view' : existingKind;
      await trx.raw(`drop ${oldKind} ${qualified(target.schema, oldName)} cascade`);
    }
    for (const v of views) {
      const name = qualified(v.schema, v.name);
      try {
        await trx.raw(`create ${v.kind === 'm' ? 'materialized view' : 'view'} ${name} as ${v.definition.replace(/;\s*$/, '')}`);
        if (v.comment) await trx.raw(`comment on ${v.kind === 'm' ? 'materialized view' : 'view'} ${name} is ${quoteLiteral(v.comment)}`);
      } catch (err) {
        throw new ModelRunError(
          `the new ${String(target)} breaks dependent view ${name}: ${(err as Error).message}. ` +
            `The old relation and its views are left in place; rebuild ${name} too (select ${target.identifier}+) or adapt it.`,
        );
      }
    }
    if (afterSwap) await afterSwap(trx);
  });
}

function quote(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
