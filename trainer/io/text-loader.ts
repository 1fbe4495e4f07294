// LightGBM's DatasetLoader for text files, streamed: the file is read in chunks and never held, nor is a Float64
// copy of its values. Pass 1 counts the rows; pass 2 parses the rows LightGBM samples for the bins
// (Random(data_random_seed).Sample(rows, bin_construct_sample_cnt), as its default loading does) and finds the
// bin mappers; pass 3 parses every row and bins it straight into the compact bin matrix. A validation file is
// counted and then binned with the training set's mappers. Column options follow LightGBM: label_column counts
// all columns, ignore_column and categorical_feature count the features (the label left out), and `name:` picks
// columns by their header names.
import { z } from 'zod';
import type { BinMapper } from './binning.ts';
import { BinWriter, binSample, Dataset, findBinMappers } from './dataset.ts';
import { forEachLine, type LineHandler } from './line-reader.ts';
import type { Params } from './params.ts';
import { detectFormat, headerNames, libsvmRow, parseDense, parseLibsvm, type TextFormat } from './parser.ts';
import { DataError, ParameterError } from '../utils/errors.ts';

export interface TextFileOptions {
  header: boolean;
  /** Column index counting all columns, or `name:<column>`. */
  labelColumn: string;
  /** Feature indices (the label not counted) or `name:a`, `b`, ...: kept in the model, never split on. */
  ignoreColumns?: string[];
  categorical?: string[];
  /** Bytes read at a time (tests use tiny chunks to put line breaks at chunk edges). */
  chunkSize?: number;
}

const ColumnList = z.array(z.string().trim().min(1));
const ColumnIndex = z.coerce.number().int().min(0);

/** Where a file's values go: its format, which column is the label, the features' names and kinds. */
interface Layout {
  path: string;
  format: TextFormat;
  header: boolean;
  /** Dense: fields per row. */
  width: number;
  /** Dense: the label's field, or -1 when the rows have none (prediction files may leave it out). */
  labelIdx: number;
  names: string[];
  categorical: Set<number>;
  ignored: Set<number>;
  chunkSize: number | undefined;
}

/** The header line and up to two data lines, to detect the format as LightGBM does. */
async function peek(path: string, o: TextFileOptions): Promise<{ header: string | null; lines: string[] }> {
  const lines: string[] = [];
  await forEachLine(
    path,
    (b, s, e) => {
      lines.push(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8'));
      return lines.length >= (o.header ? 3 : 2);
    },
    o.chunkSize,
  );
  const header = o.header ? (lines.shift() ?? null) : null;
  if (lines.length === 0) throw new DataError(`data file ${path} has no data rows`);
  return { header, lines };
}

/**
 * Resolves the columns. `expectFeatures` (prediction): a dense file with exactly that many fields has no label.
 * LibSVM widths come from the count pass (setLibsvmWidth).
 */
async function readLayout(path: string, o: TextFileOptions, expectFeatures?: number): Promise<Layout> {
  const { header, lines } = await peek(path, o);
  const format = detectFormat(lines);
  const headerCells = header === null ? null : headerNames(header, format);
  let width = 0;
  let labelIdx = 0;
  if (format.kind === 'dense') {
    width =
      format.sep === 32 ? lines[0].trim().split(/ +/).length : lines[0].split(String.fromCharCode(format.sep)).length;
    labelIdx = expectFeatures === width ? -1 : labelColumn(o.labelColumn, headerCells, width, path);
  } else if (o.labelColumn.trim() !== '0') {
    throw new ParameterError(`label_column=${o.labelColumn}: a LibSVM file (${path}) has its label first; use 0`);
  }
  const layout: Layout = {
    path,
    format,
    header: o.header,
    width,
    labelIdx,
    names: [],
    categorical: new Set(),
    ignored: new Set(),
    chunkSize: o.chunkSize,
  };
  if (format.kind === 'dense') setNames(layout, headerCells, width - (labelIdx >= 0 ? 1 : 0), o);
  else layout.names = headerCells ?? [];
  return layout;
}

function labelColumn(spec: string, header: string[] | null, width: number, path: string): number {
  const s = spec.trim();
  if (s.startsWith('name:')) {
    const i = header?.indexOf(s.slice(5)) ?? -1;
    if (i < 0) {
      throw new ParameterError(
        `label_column=${s}: no column named "${s.slice(5)}" in ${path}` +
          (header ? ` (its header has ${header.join(', ')})` : '; name: needs header=true'),
      );
    }
    return i;
  }
  const r = ColumnIndex.safeParse(s);
  if (!r.success || r.data >= width) {
    throw new ParameterError(
      `label_column=${s} is not a column of ${path} (it has ${width} columns, numbered from 0); ` +
        'give a column number or name:<column>',
    );
  }
  return r.data;
}

/** Feature names (header or Column_i) and the feature indices that ignore_column and categorical_feature pick. */
function setNames(layout: Layout, headerCells: string[] | null, numFeatures: number, o: TextFileOptions): void {
  const names = headerCells
    ? headerCells.filter((_, c) => c !== layout.labelIdx)
    : Array.from({ length: numFeatures }, (_, i) => `Column_${i}`);
  if (names.length !== numFeatures) {
    throw new DataError(`${layout.path}: the header has ${headerCells!.length} names for ${layout.width} columns`);
  }
  layout.names = names;
  layout.ignored = featureSet('ignore_column', o.ignoreColumns ?? [], names, headerCells !== null);
  layout.categorical = featureSet('categorical_feature', o.categorical ?? [], names, headerCells !== null);
}

function featureSet(option: string, list: string[], names: string[], hasHeader: boolean): Set<number> {
  const parsed = ColumnList.safeParse(list);
  if (!parsed.success) throw new ParameterError(`${option}: empty entry in "${list.join(',')}"`);
  const items = parsed.data;
  if (items.length === 0) return new Set();
  if (items[0].startsWith('name:')) {
    if (!hasHeader) throw new ParameterError(`${option}=${items.join(',')}: name: needs header=true`);
    return new Set(
      [items[0].slice(5), ...items.slice(1)].map((n) => {
        const i = names.indexOf(n);
        if (i < 0) throw new ParameterError(`${option}: no feature named "${n}" (features: ${names.join(', ')})`);
        return i;
      }),
    );
  }
  return new Set(
    items.map((s) => {
      const r = ColumnIndex.safeParse(s);
      if (!r.success || r.data >= names.length) {
        throw new ParameterError(
          `${option}: "${s}" is not a feature index 0..${names.length - 1} ` +
            '(indices do not count the label column; or use name:<feature>,...)',
        );
      }
      return r.data;
    }),
  );
}

/**
 * Pass 1: the number of data rows; for LibSVM also the feature count: the largest index + 1, at least
 * `minFeatures` (a validation or prediction file need not reach the training set's last feature).
 */
async function countRows(layout: Layout, o: TextFileOptions, minFeatures = 0): Promise<number> {
  let rows = 0;
  let maxIndex = -1;
  const none = new Float64Array(0);
  const libsvm = layout.format.kind === 'libsvm';
  await forEachDataLine(layout, (b, s, e) => {
    if (libsvm) {
      parseLibsvm(b, s, e, none);
      if (libsvmRow.maxIndex > maxIndex) maxIndex = libsvmRow.maxIndex;
    }
    rows++;
  });
  if (libsvm) {
    const header = layout.names.length > 0 ? layout.names : null;
    setNames(layout, header, Math.max(header?.length ?? 0, maxIndex + 1, minFeatures), o);
  }
  return rows;
}

/**
 * Calls onRow for every data row (or only the rows `wanted` accepts, the others not even parsed) with its 0-based
 * number and label; its feature values are then in `values`. Returning true stops the pass.
 */
async function forEachRow(
  layout: Layout,
  values: Float64Array,
  onRow: (row: number, label: number) => unknown,
  wanted?: (row: number) => boolean,
): Promise<void> {
  const { format, labelIdx, width } = layout;
  const cells = new Float64Array(width);
  let row = 0;
  await forEachDataLine(layout, (b, s, e) => {
    if (wanted !== undefined && !wanted(row)) {
      row++;
      return undefined;
    }
    let label = 0;
    if (format.kind === 'libsvm') {
      values.fill(0);
      label = parseLibsvm(b, s, e, values);
    } else {
      const n = parseDense(b, s, e, format.sep, cells);
      if (n !== width) throw new DataError(`${n} fields, expected ${width} (as on the first data line)`);
      for (let c = 0, f = 0; c < width; c++) {
        if (c === labelIdx) label = cells[c];
        else values[f++] = cells[c];
      }
    }
    return onRow(row++, label);
  });
}

/** forEachLine over the data lines: the header line, when the file has one, is not a row. */
function forEachDataLine(layout: Layout, onLine: LineHandler): Promise<void> {
  let skipHeader = layout.header;
  return forEachLine(
    layout.path,
    (b, s, e, lineNo) => {
      if (!skipHeader) return onLine(b, s, e, lineNo);
      skipHeader = false;
    },
    layout.chunkSize,
  );
}

/** Rows parsed at a time before their bins are written, feature by feature. */
const BLOCK_ROWS = 4096;

/** Pass 3: every row's bins and its label (float32, as LightGBM's label_t; a row without finite label fails). */
async function binRows(layout: Layout, mappers: BinMapper[], numData: number) {
  const nf = layout.names.length;
  const writer = new BinWriter(mappers, numData, BLOCK_ROWS);
  const label = new Float32Array(numData);
  const block = new Float64Array(BLOCK_ROWS * nf);
  const values = new Float64Array(nf);
  const used = mappers.map((m, f) => (m.isTrivial ? -1 : f)).filter((f) => f >= 0);
  let row0 = 0;
  let rows = 0;
  const flush = (n: number): void => {
    for (const f of used) writer.write(f, block.subarray(f * BLOCK_ROWS, f * BLOCK_ROWS + n), n, row0);
    row0 += n;
  };
  await forEachRow(layout, values, (row, y) => {
    if (row >= numData) throw new DataError(`more rows than the ${numData} counted: did the file change?`);
    rows = row + 1;
    label[row] = y;
    if (!Number.isFinite(label[row])) {
      throw new DataError(
        `the label is ${y}; labels must be finite numbers (drop or impute rows with missing targets)`,
      );
    }
    const r = row - row0;
    for (const f of used) block[f * BLOCK_ROWS + r] = values[f];
    if (r + 1 === BLOCK_ROWS) flush(BLOCK_ROWS);
    return undefined;
  });
  if (rows !== numData) throw new DataError(`${layout.path} has ${rows} rows now, ${numData} when counted`);
  flush(numData - row0);
  return { label, binned: writer.binned };
}

/** `dpm gbdt`'s training data: the file streamed in three passes into a binned Dataset. */
export async function loadTrainingFile(path: string, o: TextFileOptions, p: Params): Promise<Dataset> {
  const layout = await readLayout(path, o);
  const numData = await countRows(layout, o);
  const mappers = await sampleMappers(layout, numData, p);
  const { label, binned } = await binRows(layout, mappers, numData);
  const { names: featureNames, categorical } = layout;
  return Dataset.fromBinned({ featureNames, categorical, label, mappers, binned, params: p });
}

/** Pass 2: the sampled rows' values (held only here), then the bin mappers found on them. */
async function sampleMappers(layout: Layout, numData: number, p: Params): Promise<BinMapper[]> {
  const nf = layout.names.length;
  const sample = binSample(numData, p);
  const cnt = sample.length;
  const sampled = new Float64Array(cnt * nf);
  const values = new Float64Array(nf);
  let k = 0;
  // Only the sampled rows are parsed here; pass 3 parses (and checks) every row.
  const wanted = (row: number): boolean => row === sample[k];
  await forEachRow(
    layout,
    values,
    () => {
      for (let f = 0; f < nf; f++) sampled[f * cnt + k] = values[f];
      return ++k === cnt;
    },
    wanted,
  );
  const value = (f: number, s: number): number => sampled[f * cnt + s];
  return findBinMappers(nf, numData, cnt, value, layout.categorical, layout.ignored, p);
}

/** A validation file, binned with the training set's bin mappers (LightGBM's reference dataset). */
export async function loadValidFile(path: string, o: TextFileOptions, train: Dataset): Promise<Dataset> {
  const layout = await readLayout(path, o);
  const numData = await countRows(layout, o, train.numFeatures);
  if (layout.names.length !== train.numFeatures) {
    throw new DataError(
      `validation file ${path} has ${layout.names.length} features but the training data has ${train.numFeatures}; ` +
        'both must have the same columns in the same order',
    );
  }
  const { label, binned } = await binRows(layout, train.mappers!, numData);
  return Dataset.fromBinned({
    featureNames: layout.names,
    categorical: train.categorical,
    label,
    mappers: train.mappers!,
    binned,
  });
}

export interface TextColumns {
  names: string[];
  numRows: number;
  columns: Float64Array[];
  /** Null when the file has no label column (a prediction file with exactly the model's features). */
  label: Float64Array | null;
}

/**
 * A file's values as Float64 columns and its label: for prediction, and for training in memory. With
 * `expectFeatures`, a dense file with exactly that many fields has no label column.
 */
export async function readTextColumns(path: string, o: TextFileOptions, expectFeatures?: number): Promise<TextColumns> {
  const layout = await readLayout(path, o, expectFeatures);
  const numRows = await countRows(layout, o, expectFeatures);
  const columns = layout.names.map(() => new Float64Array(numRows));
  const label = layout.labelIdx >= 0 ? new Float64Array(numRows) : null;
  const values = new Float64Array(layout.names.length);
  await forEachRow(layout, values, (row, y) => {
    for (let f = 0; f < columns.length; f++) columns[f][row] = values[f];
    if (label !== null) label[row] = y;
    return undefined;
  });
  return { names: layout.names, numRows, columns, label };
}
