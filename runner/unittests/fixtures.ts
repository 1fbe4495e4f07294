// A unit test's rows as written in yml (dbt's formats dict, csv and sql) turned into one shape: column names and
// text cells, which the run casts to the real column types, or a query used as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ProjectError, didYouMean } from '../errors.ts';
import { listFiles } from '../project/files.ts';
import type { Fixture } from '../project/nodes.ts';
import type { FixtureSpec } from '../project/properties.ts';

/** Cells a CSV fixture reads as NULL, as dpm's seeds do (dict rows write `null`). */
const CSV_NULLS = new Set(['', 'null', 'NULL', 'None']);

/** Where a fixture's problems are reported: the yml file and line, and which unit test and part it is. */
export interface FixturePlace {
  file: string;
  line: number;
  /** e.g. "unit test 'x', given ref('y')". */
  what: string;
}

/**
 * The fixture of one `given:` entry or of `expect:`. `fixture: name` reads `<test path>/fixtures/**\/name.csv`
 * (dbt's tests/fixtures); sql fixtures are written inline, since .sql files under test paths are singular tests.
 */
export function readFixture(spec: FixtureSpec, place: FixturePlace, root: string, testPaths: string[]): Fixture {
  const fail = (problem: string) => new ProjectError(place.file, place.line, `${place.what}: ${problem}`);
  if (spec.rows !== undefined && spec.fixture !== undefined) throw fail('give either rows or fixture, not both');
  if (spec.format === 'dict') {
    if (spec.fixture !== undefined) throw fail('format dict takes rows inline; fixture files are csv');
    if (!Array.isArray(spec.rows)) {
      throw fail('format dict takes rows as a list of mappings, e.g. rows: [{id: 1, name: gerda}]');
    }
    return dictRows(spec.rows);
  }
  if (spec.format === 'sql') {
    if (typeof spec.rows !== 'string') {
      throw fail('format sql takes a query under rows: (rows: "select 1 as id, \'gerda\' as name")');
    }
    return { kind: 'sql', sql: spec.rows.trim().replace(/;\s*$/, '') };
  }
  if (spec.fixture !== undefined) return csvRows(readCsvFixture(spec.fixture, root, testPaths, fail), fail);
  if (typeof spec.rows !== 'string') {
    throw fail('format csv takes rows as a CSV text with a header line (rows: |) or fixture: a file name');
  }
  return csvRows(spec.rows, fail);
}

function dictRows(rows: Record<string, unknown>[]): Fixture {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return { kind: 'rows', columns, rows: rows.map((r) => columns.map((c) => cell(r[c]))) };
}

/** A yml value as the text PostgreSQL casts to the column's type; objects and lists as JSON (json columns). */
function cell(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvRows(text: string, fail: (problem: string) => Error): Fixture {
  let records: string[][];
  try {
    // Cells are trimmed so that columns may be aligned for reading.
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true });
  } catch (err) {
    throw fail(`bad CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw fail('the CSV has no header line (the column names)');
  return { kind: 'rows', columns: header, rows: rows.map((r) => r.map((c) => (CSV_NULLS.has(c) ? null : c))) };
}

function readCsvFixture(name: string, root: string, testPaths: string[], fail: (problem: string) => Error): string {
  const files = testPaths.flatMap((dir) => listFiles(root, join(dir, 'fixtures'), ['.csv']));
  const found = files.find((f) => f.endsWith(`/${name}.csv`));
  if (!found) {
    const names = files.map((f) => f.slice(f.lastIndexOf('/') + 1, -'.csv'.length));
    const where = testPaths.map((d) => `${d}/fixtures/`).join(' or ');
    throw fail(`fixture '${name}' is not a file ${name}.csv under ${where}.${didYouMean(name, names)}`);
  }
  return readFileSync(join(root, found), 'utf8');
}
