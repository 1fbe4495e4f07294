// Public API of the trainer: what `dpm train` / `dpm predict` and the rest of the product use.
export { train, type TrainOptions, type IterationInfo } from './boosting.ts';
export { Dataset, type DatasetInit } from './dataset.ts';
export { Booster, type PredictInput, type PredictOptions, type EvalRecord } from './booster.ts';
export { TrainerError, ParameterError, ModelFormatError, DataError } from './errors.ts';
export { PARAMS, resolveParams, paramsMarkdown, type Params, type ParamInput, type ParamSpec } from './params.ts';
export { gbdtMain, GBDT_HELP } from './cli/gbdt.ts';
