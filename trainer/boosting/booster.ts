// The trained (or loaded) model: prediction, contributions, importance and the text format round trip.
import { DataError, ModelFormatError } from '../utils/errors.ts';
import { parseModelText, writeModelText } from '../io/model-text.ts';
import { treeShap } from './shap.ts';
import type { Tree } from '../io/tree.ts';
import { compileTrees, predictRows, type CompiledModel } from '../predict/predict-kernel.ts';
import { predictParallel } from '../predict/predict-pool.ts';
import { availableParallelism } from 'node:os';

/** Column-major input (one array per feature, the layout the product streams from PostgreSQL) or rows. */
export type PredictInput = ArrayLike<number>[] | Float64Array[] | Float32Array[] | number[][];

export interface PredictOptions {
  /** Use only the first k iterations (default: best iteration if early stopping set one, else all). */
  numIteration?: number;
  /** Treat the input as rows (array of per-row arrays) even if ambiguous. */
  layout?: 'columns' | 'rows';
  /** Threads for large inputs, the calling one included (default: the machine's cores, at most 4). */
  numThreads?: number;
}

// Below this many row x tree visits the trees are walked one by one: compiling the model would cost more than it
// saves.
const COMPILE_MIN_WORK = 2_000_000;
// Below this many row x tree visits prediction stays on the calling thread.
const PARALLEL_MIN_WORK = 4_000_000;

export interface EvalRecord {
  iteration: number;
  /** e.g. "valid_1" */
  dataset: string;
  metric: string;
  value: number;
}

export class Booster {
  trees: Tree[];
  featureNames: string[];
  featureInfos: string[];
  objective: string;
  parameters: [string, string][];
  /** 1-based iteration with the best validation score when early stopping ran, else 0 (LightGBM's convention). */
  bestIteration = 0;
  evalHistory: EvalRecord[] = [];

  constructor(init: {
    trees: Tree[];
    featureNames: string[];
    featureInfos: string[];
    objective: string;
    parameters?: [string, string][];
  }) {
    this.trees = init.trees;
    this.featureNames = init.featureNames;
    this.featureInfos = init.featureInfos;
    this.objective = init.objective;
    this.parameters = init.parameters ?? [];
  }

  get numFeatures(): number {
    return this.featureNames.length;
  }

  get numTrees(): number {
    return this.trees.length;
  }

  static fromString(text: string): Booster {
    const m = parseModelText(text);
    if (m.featureInfos.length !== m.featureNames.length) {
      throw new ModelFormatError(
        `feature_infos lists ${m.featureInfos.length} entries for ${m.featureNames.length} features`,
      );
    }
    return new Booster({
      trees: m.trees,
      featureNames: m.featureNames,
      featureInfos: m.featureInfos,
      objective: m.objective,
      parameters: [...m.parameters.entries()],
    });
  }

  toString(numIteration?: number): string {
    const k = this.iterations(numIteration);
    return writeModelText({
      objective: this.objective,
      featureNames: this.featureNames,
      featureInfos: this.featureInfos,
      trees: this.trees.slice(0, k),
      parameters: this.parameters,
      importance: this.featureImportance('split', k),
    });
  }

  private iterations(numIteration?: number): number {
    if (numIteration !== undefined && numIteration > 0) return Math.min(numIteration, this.trees.length);
    if (this.bestIteration > 0) return Math.min(this.bestIteration, this.trees.length);
    return this.trees.length;
  }

  /** Normalizes input to column-major and checks the feature count. */
  toColumns(input: PredictInput, layout?: 'columns' | 'rows'): { cols: ArrayLike<number>[]; n: number } {
    if (!Array.isArray(input)) throw new DataError('predict input must be an array of feature columns or of rows');
    const nf = this.numFeatures;
    const asRows =
      layout === 'rows' ||
      (layout === undefined &&
        input.length > 0 &&
        Array.isArray(input[0]) &&
        !ArrayBuffer.isView(input[0]) &&
        input.length !== nf);
    if (
      !asRows &&
      (layout === 'columns' || input.length === 0 || ArrayBuffer.isView(input[0]) || input.length === nf)
    ) {
      if (input.length !== nf) {
        throw new DataError(
          `the model expects ${nf} features but the input has ${input.length} columns; ` +
            'pass one column per feature in the training order ' +
            `(${this.featureNames.slice(0, 5).join(', ')}${nf > 5 ? ', ...' : ''})`,
        );
      }
      const n = nf === 0 ? 0 : input[0].length;
      for (let f = 0; f < nf; f++) {
        if (input[f].length !== n)
          throw new DataError(
            `feature column ${f} (${this.featureNames[f]}) has ${input[f].length} values, column 0 has ${n}`,
          );
      }
      return { cols: input as ArrayLike<number>[], n };
    }
    const rows = input as ArrayLike<number>[];
    const n = rows.length;
    const cols: Float64Array[] = [];
    for (let f = 0; f < nf; f++) cols.push(new Float64Array(n));
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (row.length !== nf)
        throw new DataError(`row ${r} has ${row.length} values but the model expects ${nf} features`);
      for (let f = 0; f < nf; f++) cols[f][r] = row[f];
    }
    return { cols, n };
  }

  /** Raw scores (regression objectives have no output transform). */
  predict(input: PredictInput, options: PredictOptions = {}): Float64Array {
    const { cols, n } = this.toColumns(input, options.layout);
    const k = this.iterations(options.numIteration);
    const out = new Float64Array(n);
    const work = n * k;
    const m = work >= COMPILE_MIN_WORK ? this.compiled(k) : null;
    if (m !== null) {
      const threads = Math.max(1, options.numThreads ?? Math.min(availableParallelism(), 4));
      if (threads > 1 && work >= PARALLEL_MIN_WORK) predictParallel(m, cols, n, out, threads);
      else predictRows(m, cols, n, out);
      return out;
    }
    // Small inputs: rows are copied into a small row-major block so one row's features share cache lines, and
    // trees are the outer loop so each tree's arrays stay hot. Each row still sums trees 0, 1, ... in LightGBM's
    // order, so the results are bit-identical to LightGBM's (and to the compiled path).
    const F = cols.length;
    const BLOCK = 2048;
    const X = new Float64Array(BLOCK * Math.max(1, F));
    for (let start = 0; start < n; start += BLOCK) {
      const len = Math.min(BLOCK, n - start);
      for (let f = 0; f < F; f++) {
        const c = cols[f];
        for (let r = 0, o = f; r < len; r++, o += F) X[o] = c[start + r];
      }
      const part = out.subarray(start, start + len);
      for (let t = 0; t < k; t++) this.trees[t].addPredictionRowMajor(X, F, len, part);
    }
    return out;
  }

  private compiledCache: { trees: Tree[]; model: CompiledModel | null } | null = null;

  /**
   * The first k trees compiled for block prediction (predict-kernel.ts), in WebAssembly memory; cached per
   * tree list.
   */
  private compiled(k: number): CompiledModel | null {
    const c = this.compiledCache;
    if (c && c.trees.length === k && c.trees.every((t, i) => t === this.trees[i])) return c.model;
    const model = compileTrees(this.trees, k, this.numFeatures);
    this.compiledCache = { trees: this.trees.slice(0, k), model };
    return model;
  }

  /** SHAP values: n rows of numFeatures+1 values (last = expected value), row-major; each row sums to predict(). */
  contributions(input: PredictInput, options: PredictOptions = {}): Float64Array[] {
    const { cols, n } = this.toColumns(input, options.layout);
    const k = this.iterations(options.numIteration);
    const nf = this.numFeatures;
    const depths = this.trees.slice(0, k).map((t) => t.maxDepth());
    const out: Float64Array[] = [];
    for (let r = 0; r < n; r++) {
      const phi = new Float64Array(nf + 1);
      const x = (f: number): number => cols[f][r];
      for (let t = 0; t < k; t++) treeShap(this.trees[t], x, phi, 0, nf, depths[t]);
      out.push(phi);
    }
    return out;
  }

  /** LightGBM's FeatureImportance: split counts or summed float32 gains of splits with positive gain. */
  featureImportance(type: 'split' | 'gain' = 'split', numIteration?: number): Float64Array {
    const k = this.iterations(numIteration);
    const imp = new Float64Array(this.numFeatures);
    for (let t = 0; t < k; t++) {
      const tree = this.trees[t];
      for (let i = 0; i < tree.numLeaves - 1; i++) {
        if (tree.splitGain[i] > 0) imp[tree.splitFeature[i]] += type === 'split' ? 1 : tree.splitGain[i];
      }
    }
    return imp;
  }
}
