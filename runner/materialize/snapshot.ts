// dbt's snapshot materialization on PostgreSQL (dbt-core 1.9, dbt-postgres): a type-2 history of a query. The
// first run creates the table from the query with dbt's meta columns; each later run stages the changes (new
// keys, changed rows, and per hard_deletes the keys gone from the query) and applies them in one transaction:
// current versions that changed are closed (dbt_valid_to), the new versions inserted.
import { posix } from 'node:path';
import type { Knex } from 'knex';
import { runVerbatim } from '../db/pg-connection.ts';
import { ModelRunError } from '../errors.ts';
import { compileNode, relationKey } from '../project/compile.ts';
import type { SnapshotNode } from '../project/nodes.ts';
import { quoteIdent } from '../project/templating.ts';
import type { MaterializeContext, MaterializeResult } from './model.ts';
import { columnsOf, columnsOfRelation, type ColumnInfo } from './relations.ts';

/** dbt-postgres's snapshot_get_time(): the transaction's start, without time zone. */
const SNAPSHOT_TIME = 'now()::timestamp without time zone';

/** Where the compiled query is written: one file per snapshot, though one .sql file may hold several blocks. */
export function snapshotSqlPath(node: SnapshotNode): string {
  return posix.join(posix.dirname(node.path), `${node.name}.sql`);
}

export async function materializeSnapshot(node: SnapshotNode, ctx: MaterializeContext): Promise<MaterializeResult> {
  const sql = compileNode(node, ctx);
  const kind = ctx.existing.get(relationKey(node.relation));
  if (kind && kind !== 'table') {
    throw new ModelRunError(
      `${node.relation} is a ${kind.replace('_', ' ')}, not a snapshot table: drop it, or give snapshot ` +
        `'${node.name}' another alias (${node.path}:${node.line}).`,
    );
  }
  const result = await ctx.knex.transaction((trx) =>
    kind ? applyChanges(trx, node, sql, ctx.runToken) : createSnapshotTable(trx, node, sql),
  );
  ctx.existing.set(relationKey(node.relation), 'table');
  return { ...result, sql };
}

/** The SQL pieces of the strategy (dbt's snapshot_timestamp_strategy / snapshot_check_strategy). */
interface Strategy {
  /** When a row version starts: the updated_at column, or the snapshot time for check without updated_at. */
  updatedAt: string;
  /** dbt_scd_id: md5 of the unique key and updated_at, as dbt's snapshot_hash_arguments. */
  scdId: string;
}

function strategyOf(node: SnapshotNode): Strategy {
  const { strategy, updated_at, unique_key } = node.config;
  const updatedAt = strategy === 'timestamp' ? updated_at! : (updated_at ?? SNAPSHOT_TIME);
  return { updatedAt, scdId: hashArguments([...unique_key, updatedAt]) };
}

function hashArguments(args: string[]): string {
  return `md5(${args.map((a) => `coalesce(cast(${a} as varchar), '')`).join(" || '|' || ")})`;
}

/** dbt_valid_to of a current row: null, or dbt_valid_to_current, typed as updated_at (dbt's coalesce(nullif)). */
function currentValidTo(node: SnapshotNode, updatedAt: string): string {
  return `coalesce(nullif(${updatedAt}, ${updatedAt}), ${node.config.dbt_valid_to_current ?? 'null'})`;
}

/** Whether a row of `alias` is its key's current version. */
function isCurrent(node: SnapshotNode, alias: string): string {
  const validTo = `${alias}.${quoteIdent(node.metaColumns.dbt_valid_to)}`;
  const current = node.config.dbt_valid_to_current;
  return current ? `(${validTo} = ${current} or ${validTo} is null)` : `${validTo} is null`;
}

async function createSnapshotTable(
  trx: Knex.Transaction,
  node: SnapshotNode,
  sql: string,
): Promise<Omit<MaterializeResult, 'sql'>> {
  const m = meta(node);
  const { updatedAt, scdId } = strategyOf(node);
  const columns = [
    `${scdId} as ${m.scdId}`,
    `${updatedAt} as ${m.updatedAt}`,
    `${updatedAt} as ${m.validFrom}`,
    `${currentValidTo(node, updatedAt)} as ${m.validTo}`,
    ...(node.config.hard_deletes === 'new_record' ? [`'False'::text as ${m.isDeleted}`] : []),
  ];
  const created = await runVerbatim(
    trx,
    `create table ${node.relation} as\nselect *,\n  ${columns.join(',\n  ')}\nfrom (\n${sql}\n) sbq`,
  );
  const rows = created.rowCount ?? 0;
  return { rows, message: `snapshot (created, ${rows} rows)` };
}

function meta(node: SnapshotNode) {
  const q = node.metaColumns;
  return {
    validFrom: quoteIdent(q.dbt_valid_from),
    validTo: quoteIdent(q.dbt_valid_to),
    scdId: quoteIdent(q.dbt_scd_id),
    updatedAt: quoteIdent(q.dbt_updated_at),
    isDeleted: quoteIdent(q.dbt_is_deleted),
  };
}

/** dbt's snapshot staging, merge and column additions, inside the caller's transaction. */
async function applyChanges(
  trx: Knex.Transaction,
  node: SnapshotNode,
  sql: string,
  token: string,
): Promise<Omit<MaterializeResult, 'sql'>> {
  const source = quoteIdent(`dpm_snapshot_source_${token}`);
  const staging = quoteIdent(`dpm_snapshot_staging_${token}`);
  const target = String(node.relation);
  const m = meta(node);
  // The query runs once, into a temporary table, and is read from there by every part of the staging.
  await runVerbatim(trx, `create temporary table ${source} on commit drop as\n${sql}`);
  const sourceCols = await columnsOfRelation(trx, source);
  let targetCols = await columnsOf(trx, node.relation.schema, node.relation.identifier);
  assertSnapshotTable(node, targetCols);
  if (
    node.config.hard_deletes === 'new_record' &&
    !targetCols.some((c) => c.name === node.metaColumns.dbt_is_deleted)
  ) {
    // A snapshot switched to new_record: its rows so far carry no deletion flag (null), as in dbt.
    await trx.raw(`alter table ${target} add column ${m.isDeleted} text`);
    targetCols = await columnsOf(trx, node.relation.schema, node.relation.identifier);
  }
  await runVerbatim(
    trx,
    `create temporary table ${staging} on commit drop as\n${stagingSql(node, source, sourceCols, targetCols)}`,
  );
  const internal = /^(dbt_change_type|dbt_unique_key_\d+)$/;
  const insertCols = (await columnsOfRelation(trx, staging)).filter((c) => !internal.test(c.name));
  const known = new Set(targetCols.map((c) => c.name));
  // Columns new in the query join the table (dbt's create_columns); older rows hold null there.
  for (const c of insertCols.filter((c) => !known.has(c.name)))
    await trx.raw(`alter table ${target} add column ${quoteIdent(c.name)} ${c.type}`);
  const closed = await runVerbatim(
    trx,
    `update ${target} as t set ${m.validTo} = s.${m.validTo}
     from ${staging} as s
     where s.${m.scdId}::text = t.${m.scdId}::text and s.dbt_change_type in ('update', 'delete')
       and ${isCurrent(node, 't')}`,
  );
  const list = insertCols.map((c) => quoteIdent(c.name)).join(', ');
  const inserted = await runVerbatim(
    trx,
    `insert into ${target} (${list}) select ${list} from ${staging} where dbt_change_type = 'insert'`,
  );
  return {
    rows: inserted.rowCount ?? 0,
    message: `snapshot (${inserted.rowCount ?? 0} new row versions, ${closed.rowCount ?? 0} closed)`,
  };
}

/** dbt's valid_snapshot_target: the table must carry the meta columns a merge reads. */
function assertSnapshotTable(node: SnapshotNode, cols: ColumnInfo[]): void {
  const { dbt_scd_id, dbt_valid_from, dbt_valid_to } = node.metaColumns;
  const missing = [dbt_scd_id, dbt_valid_from, dbt_valid_to].filter((n) => !cols.some((c) => c.name === n));
  if (!missing.length) return;
  throw new ModelRunError(
    `${node.relation} is not a snapshot table (no column ${missing.join(', ')}): drop it to rebuild it from the ` +
      `query (its history is lost), or give snapshot '${node.name}' another alias (${node.path}:${node.line}).`,
  );
}

/**
 * The columns check_cols compares, as dbt's snapshot_check_all_get_existing_columns: those of the query (all, or the
 * listed ones) that the table has; `added` when the query has one the table lacks (every row then counts as changed).
 */
function checkColumns(node: SnapshotNode, sourceCols: ColumnInfo[], targetCols: ColumnInfo[]) {
  const names = sourceCols.map((c) => c.name);
  const wanted =
    node.config.check_cols === 'all'
      ? names
      : node.config.check_cols!.map((c) => {
          const found = names.find((n) => n === c || n === c.toLowerCase());
          if (!found) {
            throw new ModelRunError(
              `snapshot '${node.name}': check_cols names '${c}', which is not a column of its query ` +
                `(${names.join(', ')}): fix check_cols (${node.path}:${node.line}).`,
            );
          }
          return found;
        });
  const existing = new Set(targetCols.map((c) => c.name));
  return { cols: wanted.filter((c) => existing.has(c)), added: wanted.some((c) => !existing.has(c)) };
}

/** dbt's row_changed: a current version (snapshotted_data) differs from the query's row (source_data). */
function rowChanged(node: SnapshotNode, sourceCols: ColumnInfo[], targetCols: ColumnInfo[]): string {
  if (node.config.strategy === 'timestamp')
    return `(snapshotted_data.${quoteIdent(node.metaColumns.dbt_valid_from)} < source_data.${node.config.updated_at})`;
  const { cols, added } = checkColumns(node, sourceCols, targetCols);
  if (added) return 'TRUE';
  const differs = cols.map((c) => `snapshotted_data.${quoteIdent(c)} is distinct from source_data.${quoteIdent(c)}`);
  return `(${differs.join(' or ')})`;
}

/**
 * dbt's default__snapshot_staging_table: one row per change, `dbt_change_type` insert (a new version), update
 * (closes the current version at the new one's updated_at) or delete (closes it at the snapshot time); with
 * hard_deletes new_record, a deleted key also gets a version flagged dbt_is_deleted = 'True'.
 */
function stagingSql(node: SnapshotNode, source: string, sourceCols: ColumnInfo[], targetCols: ColumnInfo[]): string {
  const m = meta(node);
  const { updatedAt, scdId } = strategyOf(node);
  const keys = node.config.unique_key;
  const keyCols = keys.map((_, i) => `dbt_unique_key_${i + 1}`);
  const keyFields = keys.map((k, i) => `${k} as ${keyCols[i]}`).join(', ');
  const joinOn = keyCols.map((k) => `snapshotted_data.${k} = source_data.${k}`).join(' and ');
  const cols = sourceCols.map((c) => quoteIdent(c.name));
  const inTarget = new Set(targetCols.map((c) => c.name));
  const hardDeletes = node.config.hard_deletes;
  const newRecord = hardDeletes === 'new_record';
  const wasDeleted = newRecord ? ` or snapshotted_data.${m.isDeleted} = 'True'` : '';
  const changed = `(${rowChanged(node, sourceCols, targetCols)}${wasDeleted})`;
  const src = (list: string[]) => list.map((c) => `source_data.${c}`).join(', ');
  // Every branch lists the same columns in the same order: the user's, the keys, then dbt's meta columns.
  const branches = [
    `select 'insert' as dbt_change_type, ${src([...cols, ...keyCols, m.updatedAt, m.validFrom, m.validTo, m.scdId])}` +
      `${newRecord ? `, 'False' as ${m.isDeleted}` : ''}
    from insertions_source_data as source_data
    left outer join snapshotted_data on ${joinOn}
    where snapshotted_data.${keyCols[0]} is null
       or (snapshotted_data.${keyCols[0]} is not null and ${changed})`,
    `select 'update', ${src([...cols, ...keyCols, m.updatedAt, m.validFrom, m.validTo])}, ` +
      `snapshotted_data.${m.scdId}${newRecord ? `, snapshotted_data.${m.isDeleted}` : ''}
    from updates_source_data as source_data
    join snapshotted_data on ${joinOn}
    where ${changed}`,
  ];
  const gone = `from snapshotted_data
    left join deletes_source_data as source_data on ${joinOn}
    where source_data.${keyCols[0]} is null${
      newRecord ? ` and not (snapshotted_data.${m.isDeleted} = 'True' and ${isCurrent(node, 'snapshotted_data')})` : ''
    }`;
  if (hardDeletes !== 'ignore') {
    branches.push(
      `select 'delete', ${src([...cols, ...keyCols])}, ${SNAPSHOT_TIME}, ${SNAPSHOT_TIME}, ${SNAPSHOT_TIME}, ` +
        `snapshotted_data.${m.scdId}${newRecord ? `, snapshotted_data.${m.isDeleted}` : ''}
    ${gone}`,
    );
  }
  if (newRecord) {
    // The deleted key's last values, valid from the snapshot time; columns the table lacks are null.
    const last = sourceCols.map((c) => (inTarget.has(c.name) ? `snapshotted_data.${quoteIdent(c.name)}` : 'null'));
    const newScdId = hashArguments([`snapshotted_data.${m.scdId}`, SNAPSHOT_TIME]);
    branches.push(
      `select 'insert', ${[...last, ...keyCols.map((k) => `snapshotted_data.${k}`)].join(', ')}, ` +
        `${SNAPSHOT_TIME}, ${SNAPSHOT_TIME}, snapshotted_data.${m.validTo}, ${newScdId}, 'True'
    ${gone}`,
    );
  }
  return `with snapshotted_data as (
  select *, ${keyFields} from ${node.relation} as t where ${isCurrent(node, 't')}
),
insertions_source_data as (
  select *, ${keyFields}, ${updatedAt} as ${m.updatedAt}, ${updatedAt} as ${m.validFrom},
    ${currentValidTo(node, updatedAt)} as ${m.validTo}, ${scdId} as ${m.scdId}
  from ${source}
),
updates_source_data as (
  select *, ${keyFields}, ${updatedAt} as ${m.updatedAt}, ${updatedAt} as ${m.validFrom}, ${updatedAt} as ${m.validTo}
  from ${source}
),
deletes_source_data as (
  select *, ${keyFields} from ${source}
)
${branches.join('\nunion all\n')}`;
}
