// LightGBM's text model format (src/boosting/gbdt_model_text.cpp): header, tree blocks, importances, parameters.
import { ModelFormatError } from '../utils/errors.ts';
import { Tree } from './tree.ts';

export interface ModelText {
  version: string;
  maxFeatureIdx: number;
  objective: string;
  featureNames: string[];
  featureInfos: string[];
  trees: Tree[];
  /** Raw `[key: value]` pairs from the parameters block, if present. */
  parameters: Map<string, string>;
}

const SUPPORTED_VERSIONS = new Set(['v3', 'v4']);
const SUPPORTED_OBJECTIVES = new Set(['regression', 'regression_l1', 'huber', 'fair', 'quantile']);

export function parseModelText(text: string): ModelText {
  if (typeof text !== 'string' || text.length === 0) throw new ModelFormatError('the model text is empty');
  const normalized = text.replace(/\r\n/g, '\n');
  const treeStart = normalized.search(/^Tree=/m);
  const endIdx = normalized.indexOf('\nend of trees');
  const headerText =
    treeStart >= 0 ? normalized.slice(0, treeStart) : endIdx >= 0 ? normalized.slice(0, endIdx) : normalized;
  const header = new Map<string, string>();
  for (const line of headerText.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) header.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (!normalized.startsWith('tree\n') && !normalized.startsWith('tree')) {
    throw new ModelFormatError('not a LightGBM text model: the first line must be "tree"');
  }
  const version = header.get('version');
  if (version === undefined)
    throw new ModelFormatError('model header has no "version=" line; is this a LightGBM text model?');
  if (!SUPPORTED_VERSIONS.has(version)) {
    throw new ModelFormatError(
      `model format version "${version}" is not supported; this reader understands v3 and v4 ` +
        '(LightGBM 3.x/4.x). Re-save the model with LightGBM 4.x.',
    );
  }
  const numClass = Number(header.get('num_class') ?? '1');
  if (numClass !== 1)
    throw new ModelFormatError(`num_class=${numClass}: only single-output (regression) models are supported`);
  const maxFeatureIdx = Number(header.get('max_feature_idx'));
  if (!Number.isInteger(maxFeatureIdx) || maxFeatureIdx < 0)
    throw new ModelFormatError('model header has no valid "max_feature_idx="');
  const objectiveLine = header.get('objective') ?? 'regression';
  const objective = objectiveLine.split(' ')[0];
  if (!SUPPORTED_OBJECTIVES.has(objective) || objectiveLine.includes('sqrt')) {
    throw new ModelFormatError(
      `objective "${objectiveLine}" is not supported; supported: ${[...SUPPORTED_OBJECTIVES].join(', ')}`,
    );
  }
  const nf = maxFeatureIdx + 1;
  const featureNames = (header.get('feature_names') ?? '').split(' ').filter((s) => s.length > 0);
  if (featureNames.length !== nf) {
    throw new ModelFormatError(`feature_names lists ${featureNames.length} names but max_feature_idx=${maxFeatureIdx}`);
  }
  const featureInfos = (header.get('feature_infos') ?? '').split(' ').filter((s) => s.length > 0);
  if (endIdx < 0) throw new ModelFormatError('the model text has no "end of trees" line: the file is truncated');

  const treeSizes = header
    .get('tree_sizes')
    ?.split(' ')
    .filter((s) => s)
    .map(Number);
  const body = normalized.slice(treeStart >= 0 ? treeStart : endIdx, endIdx + 1);
  const blocks = body.split(/^(?=Tree=)/m).filter((b) => b.startsWith('Tree='));
  if (treeSizes && treeSizes.length !== blocks.length) {
    throw new ModelFormatError(
      `tree_sizes lists ${treeSizes.length} trees but ${blocks.length} were found: the file is truncated or corrupt`,
    );
  }
  const trees = blocks.map((b, i) => {
    const t = Tree.fromText(b, i);
    for (let n = 0; n < t.numLeaves - 1; n++) {
      if (t.splitFeature[n] < 0 || t.splitFeature[n] >= nf) {
        throw new ModelFormatError(`tree ${i}: split_feature ${t.splitFeature[n]} is outside 0..${maxFeatureIdx}`);
      }
    }
    return t;
  });

  const parameters = new Map<string, string>();
  const pStart = normalized.indexOf('\nparameters:\n');
  if (pStart >= 0) {
    const pEnd = normalized.indexOf('\nend of parameters', pStart);
    for (const m of normalized.slice(pStart, pEnd < 0 ? undefined : pEnd).matchAll(/^\[([^:\]]+): ?(.*)\]$/gm)) {
      parameters.set(m[1], m[2]);
    }
  }
  return { version, maxFeatureIdx, objective: objectiveLine, featureNames, featureInfos, trees, parameters };
}

export interface WriteModelOptions {
  objective: string;
  featureNames: string[];
  featureInfos: string[];
  trees: Tree[];
  parameters: [string, string][];
  /** Split counts per feature for the feature_importances block. */
  importance: Float64Array;
}

/** SaveModelToString: byte-for-byte LightGBM's layout, including exact tree_sizes. */
export function writeModelText(o: WriteModelOptions): string {
  const blocks = o.trees.map((t, i) => t.toText(i));
  const names = o.featureNames.map((n) => n.replace(/ /g, '_'));
  const header = [
    'tree',
    'version=v4',
    'num_class=1',
    'num_tree_per_iteration=1',
    'label_index=0',
    `max_feature_idx=${o.featureNames.length - 1}`,
    `objective=${o.objective}`,
    `feature_names=${names.join(' ')}`,
    `feature_infos=${o.featureInfos.join(' ')}`,
    `tree_sizes=${blocks.map((b) => Buffer.byteLength(b, 'utf8')).join(' ')}`,
    '',
    '',
  ].join('\n');
  const imp = names.map((n, i) => ({ n, v: o.importance[i] })).filter((x) => x.v > 0);
  imp.sort((a, b) => b.v - a.v); // Array.prototype.sort is stable, as std::stable_sort is
  const trailer = [
    'end of trees',
    '',
    'feature_importances:',
    ...imp.map((x) => `${x.n}=${x.v}`),
    '',
    'parameters:',
    ...o.parameters.map(([k, v]) => `[${k}: ${v}]`),
    '',
    'end of parameters',
    '',
  ].join('\n');
  return header + blocks.join('') + trailer;
}
