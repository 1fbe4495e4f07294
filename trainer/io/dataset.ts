// Training data: raw Float64 columns (NaN = missing) plus, once constructed for training, one bin column per
// feature in shared memory so histogram workers can read it without copies. A dataset read from a file
// (io/text-loader.ts) has the bins alone: its rows were binned as they were parsed.
import { BinMapper } from './binning.ts';
import { DataError } from '../utils/errors.ts';
import type { Params } from './params.ts';
import { LcgRandom } from '../utils/random.ts';

export interface DatasetInit {
  columns: ArrayLike<number>[];
  featureNames?: string[];
  /** Indices or names of categorical columns (values are non-negative integer codes). */
  categorical?: (number | string)[];
  label: ArrayLike<number>;
}

/** Binned training data: a row-major byte matrix for features with <= 256 bins, Uint16 columns for the rest. */
export interface BinnedData {
  rowBins: Uint8Array;
  stride: number;
  /** Byte position of each feature in a row; -1 for trivial or wide features. */
  binPos: Int32Array;
  wide: (Uint16Array | null)[];
  /**
   * The same bins column-major (null for trivial features). Partitioning a leaf reads one feature for scattered
   * rows: a 1-byte-per-row column stays in cache where the row-major matrix would miss on every row.
   */
  cols: (Uint8Array | Uint16Array | null)[];
}

/** A dataset binned while it was read (io/text-loader.ts): no raw columns. */
export interface BinnedInit {
  featureNames: string[];
  categorical: Set<number>;
  label: Float32Array;
  mappers: BinMapper[];
  binned: BinnedData;
  /** The parameters the bins were found with (none for a set binned with another set's mappers). */
  params?: Params;
}

export class Dataset {
  /** Null when the dataset was binned as it was read from a file. */
  readonly columns: ArrayLike<number>[] | null;
  readonly featureNames: string[];
  readonly categorical: Set<number>;
  /** float32, as LightGBM's label_t. */
  readonly label: Float32Array;
  readonly numData: number;
  mappers: BinMapper[] | null = null;
  binned: BinnedData | null = null;
  private constructedWith = '';

  private constructor(
    columns: ArrayLike<number>[] | null,
    featureNames: string[],
    categorical: Set<number>,
    label: Float32Array,
  ) {
    this.columns = columns;
    this.featureNames = featureNames;
    this.categorical = categorical;
    this.label = label;
    this.numData = label.length;
  }

  get numFeatures(): number {
    return this.featureNames.length;
  }

  static fromBinned(init: BinnedInit): Dataset {
    const ds = new Dataset(null, init.featureNames, init.categorical, init.label);
    ds.mappers = init.mappers;
    ds.binned = init.binned;
    ds.constructedWith = init.params ? binKey(init.params) : '';
    return ds;
  }

  static fromColumns(init: DatasetInit): Dataset {
    const { columns } = init;
    if (!Array.isArray(columns))
      throw new DataError('Dataset.fromColumns: "columns" must be an array of feature columns');
    if (columns.length === 0)
      throw new DataError('Dataset.fromColumns: no feature columns were given; a dataset needs at least one feature');
    const n = init.label?.length ?? 0;
    if (n === 0)
      throw new DataError(
        'Dataset.fromColumns: the dataset is empty (0 rows); training needs at least one labelled row',
      );
    const names = init.featureNames ?? columns.map((_, i) => `Column_${i}`);
    if (names.length !== columns.length) {
      throw new DataError(`Dataset.fromColumns: ${names.length} feature names for ${columns.length} columns`);
    }
    columns.forEach((c, i) => {
      if (c.length !== n)
        throw new DataError(
          `Dataset.fromColumns: column ${i} (${names[i]}) has ${c.length} values but the label has ${n}`,
        );
    });
    const label = Float32Array.from(init.label);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(label[i])) {
        throw new DataError(
          `Dataset.fromColumns: label of row ${i} is ${init.label[i]}; ` +
            'labels must be finite numbers (drop or impute rows with missing targets)',
        );
      }
    }
    const categorical = new Set<number>();
    for (const c of init.categorical ?? []) {
      const idx = typeof c === 'number' ? c : names.indexOf(c);
      if (!Number.isInteger(idx) || idx < 0 || idx >= columns.length) {
        throw new DataError(
          `Dataset.fromColumns: categorical feature ${JSON.stringify(c)} is not one of the ${columns.length} columns`,
        );
      }
      categorical.add(idx);
    }
    return new Dataset(columns, names, categorical, label);
  }

  /** Finds bins (LightGBM's sampling and BinMapper) and bins every column. Idempotent for the same parameters. */
  construct(p: Params): void {
    const key = binKey(p);
    if (this.mappers && this.binned && key === this.constructedWith) return;
    const columns = this.columns;
    if (columns === null) {
      throw new DataError(
        'this dataset was binned as it was read from its file; binning parameters cannot change afterwards ' +
          '(load the file again with the new max_bin, min_data_in_bin, ... )',
      );
    }
    const N = this.numData;
    const sample = binSample(N, p);
    const mappers = findBinMappers(
      columns.length,
      N,
      sample.length,
      (f, s) => columns[f][sample[s]],
      this.categorical,
      new Set(),
      p,
    );
    const writer = new BinWriter(mappers, N);
    mappers.forEach((m, f) => {
      if (!m.isTrivial) writer.write(f, columns[f], N, 0);
    });
    this.binned = writer.binned;
    this.mappers = mappers;
    this.constructedWith = key;
  }
}

/** The parameters the bins depend on. */
function binKey(p: Params): string {
  return JSON.stringify([
    p.max_bin,
    p.min_data_in_bin,
    p.bin_construct_sample_cnt,
    p.data_random_seed,
    p.use_missing,
    p.zero_as_missing,
    p.feature_pre_filter,
    p.min_data_in_leaf,
  ]);
}

/** The rows LightGBM samples to find bins: Random(data_random_seed).Sample(rows, bin_construct_sample_cnt). */
export function binSample(numData: number, p: Params): Int32Array {
  return new LcgRandom(p.data_random_seed).sample(numData, Math.min(numData, p.bin_construct_sample_cnt));
}

/**
 * One BinMapper per feature from the sample: `value(f, s)` is feature f in sampled row s. Ignored features
 * (LightGBM's ignore_column) get the trivial mapper: they keep their place in the model but never split.
 */
export function findBinMappers(
  numFeatures: number,
  numData: number,
  sampleCnt: number,
  value: (f: number, s: number) => number,
  categorical: Set<number>,
  ignored: Set<number>,
  p: Params,
): BinMapper[] {
  const filterCnt = Math.trunc((p.min_data_in_leaf * sampleCnt) / numData);
  const tmp = new Float64Array(sampleCnt);
  return Array.from({ length: numFeatures }, (_, f) => {
    if (ignored.has(f)) return new BinMapper();
    let k = 0;
    for (let s = 0; s < sampleCnt; s++) {
      const v = value(f, s);
      if (v !== v || Math.abs(v) > 1.0000000180025095e-35) tmp[k++] = v;
    }
    return BinMapper.find(tmp.subarray(0, k), sampleCnt, categorical.has(f), {
      maxBin: p.max_bin,
      minDataInBin: p.min_data_in_bin,
      filterCnt,
      preFilter: p.feature_pre_filter,
      useMissing: p.use_missing,
      zeroAsMissing: p.zero_as_missing,
    });
  });
}

/**
 * Fills the compact bin matrix of `numData` rows, a block of rows of one feature at a time: the in-memory path
 * writes whole columns, the file loader blocks of parsed rows.
 */
export class BinWriter {
  readonly binned: BinnedData;
  private readonly scratch: Uint16Array;

  constructor(
    private readonly mappers: BinMapper[],
    numData: number,
    blockRows = numData,
  ) {
    const N = numData;
    const binPos = new Int32Array(mappers.length).fill(-1);
    const wide: (Uint16Array | null)[] = mappers.map(() => null);
    const cols: (Uint8Array | Uint16Array | null)[] = mappers.map(() => null);
    let stride = 0;
    mappers.forEach((m, f) => {
      if (m.isTrivial) return;
      if (m.numBin <= 256) {
        binPos[f] = stride++;
        cols[f] = new Uint8Array(N);
      } else {
        wide[f] = new Uint16Array(new SharedArrayBuffer(2 * N));
        cols[f] = wide[f];
      }
    });
    const rowBins = new Uint8Array(new SharedArrayBuffer(Math.max(1, N * stride)));
    this.binned = { rowBins, stride, binPos, wide, cols };
    this.scratch = new Uint16Array(Math.max(1, Math.min(blockRows, N)));
  }

  /** Bins values[0, n) of feature f (non-trivial) as rows row0 .. row0 + n - 1. */
  write(f: number, values: ArrayLike<number>, n: number, row0: number): void {
    const { rowBins, stride, binPos, cols } = this.binned;
    const out = this.scratch.length >= n ? this.scratch : new Uint16Array(n);
    binColumn(this.mappers[f], values, n, out);
    const col = cols[f]!;
    col.set(out.subarray(0, n), row0);
    const pos = binPos[f];
    if (pos < 0) return;
    for (let i = 0, o = row0 * stride + pos; i < n; i++, o += stride) rowBins[o] = out[i];
  }
}

function binColumn(m: BinMapper, col: ArrayLike<number>, n: number, out: Uint16Array): void {
  if (m.isCategorical) {
    for (let i = 0; i < n; i++) out[i] = m.valueToBin(col[i]);
    return;
  }
  // Numerical: the bin is the number of upper bounds below the value (the first bound >= value), found by a
  // branch-free search over the bounds padded with +Infinity to 2^k - 1 entries, four values at a time so their
  // loads overlap (a branching search mispredicts at every level on random data; this runs N x F times).
  const ub = m.upperBounds;
  const nanBin = m.missingType === 2 ? m.numBin - 1 : -1;
  const rMax = m.numBin - 1 - (nanBin >= 0 ? 1 : 0);
  let pad = 1;
  while (pad < rMax) pad = 2 * pad + 1;
  const P = new Float64Array(pad).fill(Infinity);
  P.set(ub.subarray(0, rMax));
  const top = (pad + 1) >> 1;
  const value = (i: number): number => {
    const v = col[i];
    return v === v || nanBin >= 0 ? v : 0;
  };
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v0 = value(i),
      v1 = value(i + 1),
      v2 = value(i + 2),
      v3 = value(i + 3);
    let p0 = 0,
      p1 = 0,
      p2 = 0,
      p3 = 0;
    for (let step = top; step > 0; step >>= 1) {
      p0 += (((P[p0 + step - 1] < v0) as unknown as number) | 0) * step;
      p1 += (((P[p1 + step - 1] < v1) as unknown as number) | 0) * step;
      p2 += (((P[p2 + step - 1] < v2) as unknown as number) | 0) * step;
      p3 += (((P[p3 + step - 1] < v3) as unknown as number) | 0) * step;
    }
    out[i] = v0 === v0 ? p0 : nanBin;
    out[i + 1] = v1 === v1 ? p1 : nanBin;
    out[i + 2] = v2 === v2 ? p2 : nanBin;
    out[i + 3] = v3 === v3 ? p3 : nanBin;
  }
  for (; i < n; i++) {
    const v = value(i);
    let p = 0;
    for (let step = top; step > 0; step >>= 1) p += (((P[p + step - 1] < v) as unknown as number) | 0) * step;
    out[i] = v === v ? p : nanBin;
  }
}
