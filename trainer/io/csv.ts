// LightGBM CLI data files: CSV or TSV (auto-detected), optional header, label column, empty cell = missing.
// Numbers are parsed with LightGBM's own fast Atof by default (precise_float_parser=false), which can differ from
// correct rounding in the last bit; using the same parser gives the same bin boundaries as LightGBM.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../utils/errors.ts';

function pow(base: number, power: number): number {
  if (power < 0) return 1.0 / pow(base, -power);
  if (power === 0) return 1;
  if (power % 2 === 0) return pow(base * base, power / 2);
  if (power % 3 === 0) return pow(base * base * base, power / 3);
  return base * pow(base, power - 1);
}

/** Common::Atof (include/LightGBM/utils/common.h). Empty text is NaN (missing). */
export function lightgbmAtof(s: string): number {
  let p = 0;
  const n = s.length;
  while (p < n && s.charCodeAt(p) === 32) p++;
  let sign = 1.0;
  if (s[p] === '-') {
    sign = -1.0;
    p++;
  } else if (s[p] === '+') p++;
  const c0 = s.charCodeAt(p);
  if ((c0 >= 48 && c0 <= 57) || s[p] === '.' || s[p] === 'e' || s[p] === 'E') {
    let value = 0.0;
    for (; p < n; p++) {
      const c = s.charCodeAt(p);
      if (c < 48 || c > 57) break;
      value = value * 10.0 + (c - 48);
    }
    if (s[p] === '.') {
      let right = 0.0;
      let nn = 0;
      p++;
      for (; p < n; p++) {
        const c = s.charCodeAt(p);
        if (c < 48 || c > 57) break;
        right = c - 48 + right * 10.0;
        nn++;
      }
      value += right / pow(10.0, nn);
    }
    let frac = false;
    let scale = 1.0;
    if (s[p] === 'e' || s[p] === 'E') {
      p++;
      if (s[p] === '-') {
        frac = true;
        p++;
      } else if (s[p] === '+') p++;
      let expon = 0;
      for (; p < n; p++) {
        const c = s.charCodeAt(p);
        if (c < 48 || c > 57) break;
        expon = expon * 10 + (c - 48);
      }
      if (expon > 308) expon = 308;
      while (expon >= 50) {
        scale *= 1e50;
        expon -= 50;
      }
      while (expon >= 8) {
        scale *= 1e8;
        expon -= 8;
      }
      while (expon > 0) {
        scale *= 10.0;
        expon -= 1;
      }
    }
    return sign * (frac ? value / scale : value * scale);
  }
  const tok = s.slice(p).trim().toLowerCase();
  if (tok === '' || tok === 'na' || tok === 'nan' || tok === 'null') return NaN;
  if (tok === 'inf' || tok === 'infinity') return sign * 1e308;
  throw new DataError(`unknown token "${s}" in data file; numbers, empty cells or na/nan/null are expected`);
}

function preciseAtof(s: string): number {
  const t = s.trim();
  if (t === '') return NaN;
  const v = Number(t);
  if (!Number.isNaN(v)) return v;
  const l = t.toLowerCase();
  if (l === 'na' || l === 'nan' || l === 'null') return NaN;
  if (l === 'inf' || l === 'infinity' || l === '+inf') return 1e308;
  if (l === '-inf' || l === '-infinity') return -1e308;
  throw new DataError(`unknown token "${s}" in data file; numbers, empty cells or na/nan/null are expected`);
}

export interface TextData {
  names: string[];
  label: Float64Array;
  columns: Float64Array[];
}

export interface ReadOptions {
  header: boolean;
  /** Column index (counting all columns) or "name:<col>". */
  labelColumn: string;
  precise?: boolean;
  /** For prediction files: the label column may be absent (LightGBM drops it if the count matches). */
  expectFeatures?: number;
}

export function readTextData(path: string, o: ReadOptions): TextData {
  let text: string;
  try {
    const raw = readFileSync(path);
    text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (e) {
    throw new DataError(`cannot read data file ${path}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new DataError(`data file ${path} is empty`);
  const first = lines[o.header ? Math.min(1, lines.length - 1) : 0];
  const sep = first.includes('\t') ? '\t' : first.includes(',') ? ',' : first.includes(' ') ? ' ' : ',';
  let headerNames: string[] | null = null;
  if (o.header)
    headerNames = lines
      .shift()!
      .split(sep)
      .map((s) => s.trim());
  if (lines.length === 0) throw new DataError(`data file ${path} has a header but no data rows`);
  const width = lines[0].split(sep).length;
  let labelIdx: number;
  if (o.labelColumn.startsWith('name:')) {
    const name = o.labelColumn.slice(5);
    labelIdx = headerNames ? headerNames.indexOf(name) : -1;
    if (labelIdx < 0)
      throw new DataError(`label_column=${o.labelColumn}: no column named "${name}" in the header of ${path}`);
  } else {
    labelIdx = Number(o.labelColumn);
    if (!Number.isInteger(labelIdx) || labelIdx < 0 || labelIdx >= width) {
      throw new DataError(`label_column=${o.labelColumn} is not a column of ${path} (it has ${width} columns)`);
    }
  }
  // LightGBM's predictor accepts files without the label column when the width equals the feature count.
  const hasLabel = !(o.expectFeatures !== undefined && width === o.expectFeatures);
  const nFeat = hasLabel ? width - 1 : width;
  const n = lines.length;
  const atof = o.precise ? preciseAtof : lightgbmAtof;
  const label = new Float64Array(n);
  const columns = Array.from({ length: nFeat }, () => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const cells = lines[r].split(sep);
    if (cells.length !== width)
      throw new DataError(`${path} line ${r + 1 + (o.header ? 1 : 0)} has ${cells.length} fields, expected ${width}`);
    let f = 0;
    for (let c = 0; c < width; c++) {
      const v = atof(cells[c]);
      if (hasLabel && c === labelIdx) label[r] = v;
      else columns[f++][r] = v;
    }
  }
  const names = headerNames
    ? headerNames.filter((_, c) => !hasLabel || c !== labelIdx)
    : columns.map((_, i) => `Column_${i}`);
  return { names, label, columns };
}
