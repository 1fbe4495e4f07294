// Shared loaders for the gbdt-reference fixtures (copied from LightGBM 4.x runs; never read /work/shared).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { gbdtMain } from '../../trainer/application/gbdt.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/gbdt-reference/', import.meta.url));
export const OBJECTIVES = ['regression', 'regression_l1', 'huber', 'fair'] as const;

export function readFixture(name: string): string {
  const buf = readFileSync(FIXTURES + name);
  return (name.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

export function readPredictions(objective: string): Float64Array {
  return Float64Array.from(readFixture(`lightgbm_pred_${objective}.txt`).trim().split('\n').map(Number));
}

export interface Table {
  label: Float64Array;
  columns: Float64Array[];
  names: string[];
}

const cache = new Map<string, Table>();
/** label,f0..f23 CSV with empty cells as missing. */
export function readTable(name: string): Table {
  const hit = cache.get(name);
  if (hit) return hit;
  const lines = readFixture(name).trim().split('\n');
  const names = lines[0].split(',').slice(1);
  const n = lines.length - 1;
  const label = new Float64Array(n);
  const columns = names.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1].split(',');
    label[r] = Number(cells[0]);
    for (let f = 0; f < names.length; f++) columns[f][r] = cells[f + 1] === '' ? NaN : Number(cells[f + 1]);
  }
  const t = { label, columns, names };
  cache.set(name, t);
  return t;
}

export function l1(pred: ArrayLike<number>, label: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < label.length; i++) s += Math.abs(pred[i] - Math.fround(label[i]));
  return s / label.length;
}

/** `dpm gbdt` in process with its stdout and stderr captured. */
export async function runGbdt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((c: string) => {
    stdout += c;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => {
    stderr += c;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await gbdtMain(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
