import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Knex } from 'knex';
import type { Database } from '../db/connect.ts';
import { SeedError } from '../errors.ts';
import { runVerbatim } from '../db/pg-connection.ts';
import type { SeedNode } from '../project/nodes.ts';
import { quoteIdent, quoteLiteral } from '../project/templating.ts';
import { qualified } from '../materialize/relations.ts';
import { swapIntoPlace } from '../materialize/swap.ts';
import { scratchName } from '../materialize/model.ts';
import { converterFor, inferType, snakeCase } from './seed-values.ts';

export interface ParsedSeed {
  columns: { name: string; type: string }[];
  /** Rows as COPY-ready text cells (null = SQL NULL). */
  rows: (string | null)[][];
  /** Identical rows dropped because several files carried the same record. */
  duplicates: number;
}

interface Located {
  cells: (string | null)[];
  file: string;
  line: number;
}

/** Parses and type-checks every file of a seed; any bad cell fails the whole seed with file:line:column. */
export function parseSeed(root: string, seed: SeedNode): ParsedSeed {
  const nulls = new Set(seed.config.null_values ?? ['', 'None', 'NULL', 'null']);
  const dayFirst = seed.config.date_order === 'eu';
  let header: string[] | undefined;
  let headerFile = '';
  const located: Located[] = [];
  for (const file of seed.files) {
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(readFileSync(join(root, file)), {
        bom: true,
        delimiter: seed.config.delimiter ?? ',',
        info: true,
        skip_empty_lines: true,
        relax_column_count: false,
      }) as unknown as typeof records;
    } catch (err) {
      const e = err as Error & { lines?: number; code?: string };
      throw new SeedError(
        file,
        e.lines,
        `${e.message.replace(/^Invalid Record Length: /, 'wrong number of fields: ')}. ` +
          `Fix the row; nothing of seed '${seed.name}' was loaded.`,
      );
    }
    if (records.length === 0) throw new SeedError(file, 1, `empty CSV: a seed needs a header row.`);
    const raw = records[0].record.map((h) => h.trim());
    const names = seed.config.normalize_columns === false ? raw : raw.map(snakeCase);
    const seen = new Set<string>();
    for (const [i, n] of names.entries()) {
      if (!n) throw new SeedError(file, 1, `header column ${i + 1} is empty`, i + 1);
      if (seen.has(n)) throw new SeedError(file, 1, `header column '${raw[i]}' appears twice (as '${n}')`, i + 1);
      seen.add(n);
    }
    if (!header) {
      header = names;
      headerFile = file;
    } else if (header.join('\u0000') !== names.join('\u0000')) {
      const missing = header.filter((h) => !names.includes(h));
      const extra = names.filter((n) => !header!.includes(n));
      throw new SeedError(
        file,
        1,
        `its header differs from ${headerFile} (missing: ${missing.join(', ') || 'none'}; ` +
          `extra: ${extra.join(', ') || 'none'}; or another order). ` +
          `Every file of seed '${seed.name}' needs the same columns.`,
      );
    }
    for (const { record, info } of records.slice(1)) {
      located.push({
        cells: record.map((c) => (nulls.has(c) ? null : c)),
        file,
        line: info.lines - countNewlines(record),
      });
    }
  }
  const columnsIn = header!;
  const declared = new Map(
    Object.entries(seed.config.column_types ?? {}).map(([k, v]) => [
      seed.config.normalize_columns === false ? k : snakeCase(k),
      v,
    ]),
  );
  for (const name of declared.keys()) {
    if (!columnsIn.includes(name))
      throw new SeedError(
        seed.path,
        undefined,
        `column_types names '${name}', which is not a column of seed '${seed.name}' ` +
          `(columns: ${columnsIn.slice(0, 8).join(', ')}...)`,
      );
  }
  const columns = columnsIn.map((name, i) => ({
    name,
    type: declared.get(name) ?? inferType(nonNull(located, i), dayFirst),
  }));
  const converters = columns.map((c) => converterFor(c.type, dayFirst));
  for (const row of located) {
    for (let i = 0; i < columns.length; i++) {
      const v = row.cells[i];
      if (v === null) continue;
      const converted = converters[i](v);
      if (!converted.ok) {
        throw new SeedError(
          row.file,
          row.line,
          `column '${columns[i].name}' expects ${converted.expected}, ` +
            `got ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v)}. ` +
            "Fix the cell or declare the column's type in column_types; " +
            `nothing of seed '${seed.name}' was loaded.`,
          i + 1,
        );
      }
      row.cells[i] = converted.value;
    }
  }
  const { rows, duplicates } = dedupe(seed, columnsIn, located);
  return { columns, rows, duplicates };
}

function countNewlines(record: string[]): number {
  let n = 0;
  for (const c of record) for (let i = c.indexOf('\n'); i >= 0; i = c.indexOf('\n', i + 1)) n++;
  return n;
}

function* nonNull(rows: Located[], i: number): Iterable<string> {
  for (const r of rows) if (r.cells[i] !== null) yield r.cells[i]!;
}

/**
 * Several exports of one table: identical copies of a record merge, conflicting ones are an error naming
 * both files.
 */
function dedupe(seed: SeedNode, columns: string[], rows: Located[]): { rows: (string | null)[][]; duplicates: number } {
  const keys = (seed.config.unique_key ?? []).map((k) => (seed.config.normalize_columns === false ? k : snakeCase(k)));
  if (keys.length === 0) return { rows: rows.map((r) => r.cells), duplicates: 0 };
  const idx = keys.map((k) => {
    const i = columns.indexOf(k);
    if (i < 0) throw new SeedError(seed.path, undefined, `unique_key '${k}' is not a column of seed '${seed.name}'`);
    return i;
  });
  const byKey = new Map<string, Located>();
  let duplicates = 0;
  for (const row of rows) {
    const key = JSON.stringify(idx.map((i) => row.cells[i]));
    if (idx.some((i) => row.cells[i] === null))
      throw new SeedError(row.file, row.line, `unique_key column '${keys[0]}' is empty`);
    const prior = byKey.get(key);
    if (!prior) {
      byKey.set(key, row);
      continue;
    }
    if (JSON.stringify(prior.cells) !== JSON.stringify(row.cells)) {
      const col = prior.cells.findIndex((c, i) => c !== row.cells[i]);
      throw new SeedError(
        row.file,
        row.line,
        `${keys.join(', ')} ${idx.map((i) => row.cells[i]).join(', ')} also appears in ` +
          `${prior.file}:${prior.line} with different content (first difference in column '${columns[col]}'). ` +
          'Keep one version of the record.',
      );
    }
    duplicates++;
  }
  return { rows: [...byKey.values()].map((r) => r.cells), duplicates };
}

export function toCsv(rows: (string | null)[][]): string {
  const cell = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
  return rows.map((r) => r.map(cell).join(',')).join('\n') + (rows.length ? '\n' : '');
}

/** Loads a parsed seed into a scratch table and swaps it in: readers see the old or the new seed, never half. */
export async function loadSeed(
  db: Database,
  seed: SeedNode,
  parsed: ParsedSeed,
  runToken: string,
  existingKind: 'table' | 'view' | 'materialized_view' | undefined,
  /** The database is a Citus coordinator (the run found out once): `reference` seeds become reference tables. */
  distributed = false,
): Promise<number> {
  const { knex } = db;
  const schema = seed.relation.schema;
  const tmp = scratchName(seed.relation.identifier, 'tmp', runToken);
  await knex.raw(`drop table if exists ${qualified(schema, tmp)}`);
  await knex.raw(
    `create table ${qualified(schema, tmp)} ` +
      `(${parsed.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
  );
  try {
    if (seed.config.reference && distributed) {
      await knex.raw('select create_reference_table(?)', [`${schema}.${tmp}`]);
    }
    const batch = 5000;
    for (let i = 0; i < parsed.rows.length; i += batch) {
      await db.copyCsv(
        qualified(schema, tmp),
        parsed.columns.map((c) => c.name),
        toCsv(parsed.rows.slice(i, i + batch)),
      );
    }
    await swapIntoPlace(
      knex,
      { schema, name: tmp },
      seed.relation,
      existingKind,
      scratchName(seed.relation.identifier, 'old', runToken),
      (trx: Knex.Transaction) =>
        seed.description
          ? runVerbatim(trx, `comment on table ${String(seed.relation)} is ${quoteLiteral(seed.description)}`).then(
              () => undefined,
            )
          : Promise.resolve(),
    );
  } catch (err) {
    await knex.raw(`drop table if exists ${qualified(schema, tmp)}`).catch(() => undefined);
    throw err;
  }
  return parsed.rows.length;
}
