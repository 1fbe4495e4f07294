// Public API of the trainer: what `dpm train` / `dpm predict` and the rest of the product use.
export { train, type TrainOptions, type IterationInfo } from './boosting/boosting.ts';
export { Dataset, type DatasetInit } from './io/dataset.ts';
export { Booster, type PredictInput, type PredictOptions, type EvalRecord } from './boosting/booster.ts';
export { TrainerError, ParameterError, ModelFormatError, DataError } from './utils/errors.ts';
export { PARAMS, resolveParams, paramsMarkdown, type Params, type ParamInput, type ParamSpec } from './io/params.ts';
export { gbdtMain, GBDT_HELP } from './application/gbdt.ts';
export { loadTrainingFile, loadValidFile, readTextColumns, type TextFileOptions } from './io/text-loader.ts';
