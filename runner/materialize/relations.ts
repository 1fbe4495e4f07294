import type { Knex } from 'knex';
import { quoteIdent, type Relation } from '../project/templating.ts';

export type Queryable = Knex | Knex.Transaction;

export const qualified = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** Whether the database is a Citus coordinator (the extension is installed in it). */
export async function isCitus(db: Queryable): Promise<boolean> {
  const r = await db.raw(`select 1 from pg_extension where extname = 'citus'`);
  return r.rows.length > 0;
}

/** Every table and view in non-system schemas, as `schema.name` -> kind. */
export async function listRelations(db: Queryable): Promise<Map<string, 'table' | 'view' | 'materialized_view'>> {
  const { rows } = await db.raw(`
    select n.nspname as schema, c.relname as name, c.relkind as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'v', 'm', 'p')
      and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_%'`);
  const kinds = { r: 'table', p: 'table', v: 'view', m: 'materialized_view' } as const;
  return new Map(
    rows.map((r: { schema: string; name: string; kind: keyof typeof kinds }) => [
      `${r.schema}.${r.name}`,
      kinds[r.kind],
    ]),
  );
}

export interface ColumnInfo {
  name: string;
  type: string;
}

export async function columnsOf(db: Queryable, schema: string, name: string): Promise<ColumnInfo[]> {
  const { rows } = await db.raw(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
     from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ? and c.relname = ? and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [schema, name],
  );
  return rows;
}

/** The columns of a relation named as SQL resolves it (a temporary table, say), in order. */
export async function columnsOfRelation(db: Queryable, name: string): Promise<ColumnInfo[]> {
  const { rows } = await db.raw(
    'select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a ' +
      'where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum',
    [name],
  );
  return rows;
}

export interface DependentView {
  schema: string;
  name: string;
  kind: 'v' | 'm';
  definition: string;
  comment: string | null;
}

/**
 * Views (and materialized views) that depend on a relation, directly or through other views, in the
 * order they must be recreated. Definitions are captured with an empty search_path so every name in
 * them is schema-qualified and resolves to the swapped-in relation afterwards. The recursion uses
 * UNION: pg_depend holds one row per referenced column, so UNION ALL would multiply the paths at every
 * level (exponential in the length of a chain of views). The depth cap only guards against a runaway;
 * it must exceed any real chain, since views beyond it would be dropped by the cascade and not recreated.
 */
export async function dependentViews(trx: Knex.Transaction, relation: Relation): Promise<DependentView[]> {
  await trx.raw('set local search_path to pg_catalog');
  const { rows } = await trx.raw(
    `with recursive deps(oid, depth) as (
       select distinct r.ev_class, 1
       from pg_depend d join pg_rewrite r on r.oid = d.objid
       where d.classid = 'pg_rewrite'::regclass and d.refobjid = ?::regclass and r.ev_class <> ?::regclass
       union
       select r.ev_class, deps.depth + 1
       from deps join pg_depend d on d.refobjid = deps.oid join pg_rewrite r on r.oid = d.objid
       where d.classid = 'pg_rewrite'::regclass and r.ev_class <> deps.oid and deps.depth < 10000
     )
     select n.nspname as schema, c.relname as name, c.relkind as kind, pg_get_viewdef(c.oid) as definition,
            obj_description(c.oid, 'pg_class') as comment, max(deps.depth) as depth
     from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
     group by c.oid, n.nspname, c.relname, c.relkind
     order by max(deps.depth), n.nspname, c.relname`,
    [String(relation), String(relation)],
  );
  await trx.raw('set local search_path to default');
  return rows;
}
