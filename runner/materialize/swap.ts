import type { Knex } from 'knex';
import { ModelRunError } from '../errors.ts';
import { quoteLiteral, type Relation } from '../project/templating.ts';
import { dependentViews, qualified, type DependentView } from './relations.ts';
import { runVerbatim } from '../db/pg-connection.ts';

const LOCK_CONFLICT = new Set(['55P03', '40P01']); // lock_not_available (lock_timeout), deadlock_detected
const SWAP_LOCK_KEY = 'dpm swap';

/**
 * Puts a freshly built relation in place of `target` in one transaction. Unlike dbt's
 * `drop ... cascade`, views that depend on the old relation are captured and recreated on the new
 * one, so readers never see them vanish; if a dependent view no longer fits the new columns the
 * whole swap rolls back and the old relation and its views stay as they were.
 *
 * Readers lock a view before the relations under it. A reader that joins views in another order can
 * still meet the swap in a deadlock, and PostgreSQL would cancel whichever side notices first; so each
 * try waits for a lock for less than `deadlock_timeout` and the swap starts over on a conflict: the swap
 * is the side that yields, never the reader, and like a plain lock wait it goes on until it gets through.
 *
 * Swaps take turns (a transaction-level advisory lock): two tables under one view, built side by
 * side, would otherwise both capture the view, and the second swap would then drop a view the first one had
 * already replaced ("could not open relation with OID ...").
 */
export async function swapIntoPlace(
  knex: Knex,
  built: { schema: string; name: string },
  target: Relation,
  existingKind: 'table' | 'view' | 'materialized_view' | undefined,
  oldName: string,
  afterSwap?: (trx: Knex.Transaction) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await knex.transaction(async (trx) => {
        await trx.raw(
          "select set_config('lock_timeout', (select least(100, greatest(1, setting::int / 4))::text " +
            "from pg_settings where name = 'deadlock_timeout'), true)",
        );
        await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [SWAP_LOCK_KEY]);
        await swapInTransaction(trx, built, target, existingKind, oldName);
        if (afterSwap) await afterSwap(trx);
      });
      return;
    } catch (err) {
      if (!LOCK_CONFLICT.has((err as { code?: string }).code ?? '')) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(500, 20 * attempt)));
    }
  }
}

async function swapInTransaction(
  trx: Knex.Transaction,
  built: { schema: string; name: string },
  target: Relation,
  existingKind: 'table' | 'view' | 'materialized_view' | undefined,
  oldName: string,
): Promise<void> {
  const views = existingKind ? await dependentViews(trx, target) : [];
  const existingSql = existingKind === 'materialized_view' ? 'materialized view' : existingKind;
  if (existingKind) {
    // Outermost view first: each drop locks only that view (LOCK TABLE on a view would also lock
    // everything under it, the target included, before the next view: the reverse of a reader's order).
    for (const v of [...views].reverse()) await trx.raw(`drop ${viewKind(v)} ${qualified(v.schema, v.name)}`);
    await trx.raw(`alter ${existingSql} ${String(target)} rename to ${oldName}`);
  }
  const builtKind = await trx.raw(`select relkind from pg_class where oid = ?::regclass`, [
    qualified(built.schema, built.name),
  ]);
  const kindSql = builtKind.rows[0].relkind === 'v' ? 'view' : 'table';
  await trx.raw(`alter ${kindSql} ${qualified(built.schema, built.name)} rename to ${quote(target.identifier)}`);
  if (existingKind) await trx.raw(`drop ${existingSql} ${qualified(target.schema, oldName)} cascade`);
  for (const v of views) {
    const name = qualified(v.schema, v.name);
    try {
      await runVerbatim(trx, `create ${viewKind(v)} ${name} as ${v.definition.replace(/;\s*$/, '')}`);
      if (v.comment) await runVerbatim(trx, `comment on ${viewKind(v)} ${name} is ${quoteLiteral(v.comment)}`);
    } catch (err) {
      throw new ModelRunError(
        `the new ${String(target)} breaks dependent view ${name}: ${(err as Error).message}. ` +
          `The old relation and its views are left in place; rebuild ${name} too ` +
          `(select ${target.identifier}+) or adapt it.`,
      );
    }
  }
}

const viewKind = (v: DependentView) => (v.kind === 'm' ? 'materialized view' : 'view');

function quote(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
