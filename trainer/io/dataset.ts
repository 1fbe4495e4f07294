// Training data: raw Float64 columns (NaN = missing) plus, once constructed for training, one bin column per
// feature in shared memory so histogram workers can read it without copies.
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

export class Dataset {
  readonly columns: ArrayLike<number>[];
  readonly featureNames: string[];
  readonly categorical: Set<number>;
  /** float32, as LightGBM's label_t. */
  readonly label: Float32Array;
  readonly numData: number;
  mappers: BinMapper[] | null = null;
  binned: BinnedData | null = null;
  private constructedWith = '';

  private constructor(
    columns: ArrayLike<number>[],
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
    return this.columns.length;
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
    const key = JSON.stringify([
      p.max_bin,
      p.min_data_in_bin,
      p.bin_construct_sample_cnt,
      p.data_random_seed,
      p.use_missing,
      p.zero_as_missing,
      p.feature_pre_filter,
      p.min_data_in_leaf,
    ]);
    if (this.mappers && this.binned && key === this.constructedWith) return;
    const N = this.numData;
    const sampleCnt = Math.min(N, p.bin_construct_sample_cnt);
    const sample = new LcgRandom(p.data_random_seed).sample(N, sampleCnt);
    const filterCnt = Math.trunc((p.min_data_in_leaf * sample.length) / N);
    const mappers: BinMapper[] = [];
    const tmp = new Float64Array(sample.length);
    for (let f = 0; f < this.numFeatures; f++) {
      const col = this.columns[f];
      let k = 0;
      for (let s = 0; s < sample.length; s++) {
        const v = col[sample[s]];
        if (v !== v || Math.abs(v) > 1.0000000180025095e-35) tmp[k++] = v;
      }
      mappers.push(
        BinMapper.find(tmp.subarray(0, k), sample.length, this.categorical.has(f), {
          maxBin: p.max_bin,
          minDataInBin: p.min_data_in_bin,
          filterCnt,
          preFilter: p.feature_pre_filter,
          useMissing: p.use_missing,
          zeroAsMissing: p.zero_as_missing,
        }),
      );
    }
    const binPos = new Int32Array(this.numFeatures).fill(-1);
    const wide: (Uint16Array | null)[] = mappers.map(() => null);
    const cols: (Uint8Array | Uint16Array | null)[] = mappers.map(() => null);
    let stride = 0;
    mappers.forEach((m, f) => {
      if (!m.isTrivial && m.numBin <= 256) binPos[f] = stride++;
    });
    const rowBins = new Uint8Array(new SharedArrayBuffer(Math.max(1, N * stride)));
    const colBuf = new Uint16Array(N);
    mappers.forEach((m, f) => {
      if (m.isTrivial) return;
      binColumn(m, this.columns[f], colBuf);
      if (binPos[f] < 0) {
        wide[f] = new Uint16Array(new SharedArrayBuffer(2 * N));
        wide[f]!.set(colBuf);
        cols[f] = wide[f];
        return;
      }
      cols[f] = Uint8Array.from(colBuf);
      const pos = binPos[f];
      for (let i = 0, o = pos; i < N; i++, o += stride) rowBins[o] = colBuf[i];
    });
    this.binned = { rowBins, stride, binPos, wide, cols };
    this.mappers = mappers;
    this.constructedWith = key;
  }
}

function binColumn(m: BinMapper, col: ArrayLike<number>, out: Uint16Array): void {
  const n = out.length;
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
