// Rows of LightGBM's text data formats, parsed straight from the file's bytes: CSV, TSV (and space-separated
// values, which LightGBM itself does not read) and LibSVM (`label index:value ...`, zero-based indices).
// Numbers go through LightGBM's own fast Atof (precise_float_parser=false), which can differ from correct
// rounding in the last bit: the same parser gives the same bin boundaries as LightGBM.
import { DataError } from '../utils/errors.ts';

export type TextFormat =
  | { kind: 'dense'; sep: number; name: 'CSV' | 'TSV' | 'space-separated' }
  | { kind: 'libsvm'; name: 'LibSVM' };

const COMMA = 44,
  TAB = 9,
  SPACE = 32,
  COLON = 58;

function pow(base: number, power: number): number {
  if (power < 0) return 1.0 / pow(base, -power);
  if (power === 0) return 1;
  if (power % 2 === 0) return pow(base * base, power / 2);
  if (power % 3 === 0) return pow(base * base * base, power / 3);
  return base * pow(base, power - 1);
}

/** pow(10, n) for the digit counts of real data, from the same recursion: a lookup per number instead. */
const POW10 = Array.from({ length: 32 }, (_, n) => pow(10.0, n));

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Where the last atofAt stopped: after the number and the spaces that follow it, as LightGBM's Atof. */
export const cursor = { pos: 0 };

/** Common::Atof (include/LightGBM/utils/common.h) on bytes [p, end). An empty field is NaN (missing). */
export function atofAt(b: Uint8Array, p: number, end: number): number {
  while (p < end && b[p] === SPACE) p++;
  let sign = 1.0;
  if (p < end && b[p] === 45) {
    sign = -1.0;
    p++;
  } else if (p < end && b[p] === 43) p++;
  const c0 = p < end ? b[p] : 0;
  let out = NaN;
  if (isDigit(c0) || c0 === 46 || c0 === 101 || c0 === 69) {
    let value = 0.0;
    for (; p < end && isDigit(b[p]); p++) value = value * 10.0 + (b[p] - 48);
    if (p < end && b[p] === 46) {
      let right = 0.0;
      let nn = 0;
      for (p++; p < end && isDigit(b[p]); p++, nn++) right = b[p] - 48 + right * 10.0;
      value += right / (nn < POW10.length ? POW10[nn] : pow(10.0, nn));
    }
    let frac = false;
    let scale = 1.0;
    if (p < end && (b[p] === 101 || b[p] === 69)) {
      p++;
      if (p < end && b[p] === 45) {
        frac = true;
        p++;
      } else if (p < end && b[p] === 43) p++;
      let expon = 0;
      for (; p < end && isDigit(b[p]); p++) expon = expon * 10 + (b[p] - 48);
      if (expon > 308) expon = 308;
      for (; expon >= 50; expon -= 50) scale *= 1e50;
      for (; expon >= 8; expon -= 8) scale *= 1e8;
      for (; expon > 0; expon -= 1) scale *= 10.0;
    }
    out = sign * (frac ? value / scale : value * scale);
  } else {
    const s = p;
    for (; p < end; p++) {
      const c = b[p];
      if (c === SPACE || c === TAB || c === COMMA || c === COLON) break;
    }
    if (p > s) {
      const tok = Buffer.from(b.buffer, b.byteOffset + s, p - s)
        .toString('latin1')
        .toLowerCase();
      if (tok === 'inf' || tok === 'infinity') out = sign * 1e308;
      else if (tok !== 'na' && tok !== 'nan' && tok !== 'null')
        throw new DataError(`unknown token "${tok}"; numbers, empty cells or na/nan/null are expected`);
    }
  }
  while (p < end && b[p] === SPACE) p++;
  cursor.pos = p;
  return out;
}

/** LightGBM's GetDataType on the first two data lines; a line with spaces alone reads as space-separated. */
export function detectFormat(lines: string[]): TextFormat {
  const stat = (l: string) => ({
    comma: l.split(',').length - 1,
    tab: l.split('\t').length - 1,
    colon: l.split(':').length - 1,
  });
  const [a, b] = lines.map(stat);
  if (a.colon > 0 || (b !== undefined && b.colon > 0)) return { kind: 'libsvm', name: 'LibSVM' };
  if (a.tab > 0 && (b === undefined || b.tab === a.tab)) return { kind: 'dense', sep: TAB, name: 'TSV' };
  if (a.comma > 0 && (b === undefined || b.comma === a.comma)) return { kind: 'dense', sep: COMMA, name: 'CSV' };
  if (a.tab === 0 && a.comma === 0 && lines[0].trim().includes(' '))
    return { kind: 'dense', sep: SPACE, name: 'space-separated' };
  return { kind: 'dense', sep: COMMA, name: 'CSV' };
}

/** Header names: LightGBM splits the first line at tabs and commas; a space-separated file at runs of spaces. */
export function headerNames(line: string, f: TextFormat): string[] {
  const parts = f.kind === 'dense' && f.sep === SPACE ? line.trim().split(/ +/) : line.split(/[\t,]/);
  return parts.map((s) => s.trim());
}

/** Parses a dense row into out (its first out.length fields) and returns how many fields the row has. */
export function parseDense(b: Uint8Array, start: number, end: number, sep: number, out: Float64Array): number {
  let p = start;
  let c = 0;
  for (;;) {
    const v = atofAt(b, p, end);
    if (c < out.length) out[c] = v;
    c++;
    const q = cursor.pos;
    if (q >= end) return c;
    // Atof ends a number at the first byte that cannot continue it: that byte must be the separator.
    const ok = sep === SPACE ? q > p && b[q - 1] === SPACE : b[q] === sep;
    if (!ok) {
      throw new DataError(
        `unexpected "${String.fromCharCode(b[q])}" in field ${c} (column ${q - start + 1}); ` +
          'fields must be numbers, empty or na/nan/null',
      );
    }
    p = sep === SPACE ? q : q + 1;
  }
}

/** The largest feature index of the last parseLibsvm row (-1 for a row without features). */
export const libsvmRow = { maxIndex: -1 };

/** Parses `label index:value ...`: values go to out[index] (out zeroed by the caller); returns the label. */
export function parseLibsvm(b: Uint8Array, start: number, end: number, out: Float64Array): number {
  const label = atofAt(b, start, end);
  let p = skipBlanks(b, cursor.pos, end);
  let maxIndex = -1;
  while (p < end) {
    const s = p;
    let idx = 0;
    for (; p < end && isDigit(b[p]); p++) idx = idx * 10 + (b[p] - 48);
    p = skipBlanks(b, p, end);
    if (p === s || p >= end || b[p] !== COLON) {
      throw new DataError(`expected index:value at column ${s - start + 1}; LibSVM rows are "label index:value ..."`);
    }
    const v = atofAt(b, p + 1, end);
    if (idx < out.length) out[idx] = v;
    if (idx > maxIndex) maxIndex = idx;
    p = skipBlanks(b, cursor.pos, end);
  }
  libsvmRow.maxIndex = maxIndex;
  return label;
}

function skipBlanks(b: Uint8Array, p: number, end: number): number {
  while (p < end && (b[p] === SPACE || b[p] === TAB)) p++;
  return p;
}
