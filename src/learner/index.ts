/**
 * The Learner, its events and callbacks contract, optimizers, losses and metrics.
 */
export { Adam, type AdamOptions } from './adam.js';
export { CallbackList } from './callback-list.js';
export {
  CancelBackward,
  CancelBatch,
  CancelEpoch,
  CancelException,
  CancelFit,
  type CancelStage,
  CancelStep,
  CancelTrain,
  CancelValid,
} from './cancel.js';
export {
  type Callback,
  EVENTS,
  type EventContext,
  type EventName,
  type Hook,
  type Hooks,
  runEvent,
  runEventSync,
  SYNC_EVENTS,
} from './events.js';
export {
  type GetPredsOptions,
  type GetPredsResult,
  getPreds,
  type PredictResult,
  predict,
  type TtaOptions,
  type TtaResult,
  tta,
} from './inference.js';
export { Lamb, type LambOptions } from './lamb.js';
export { Learner } from './learner.js';
export {
  ExportedDataLoaders,
  type ExportOptions,
  exportLearner,
  folderHandler,
  type LoadLearnerOptions,
  type LoadOptions,
  loadLearner,
  loadWeights,
  type PipelineLoader,
  registerPipelineLoader,
  type SaveOptions,
  saveWeights,
} from './learner-io.js';
export type { LearnerOptions, LossFunction } from './learner-options.js';
export {
  BCEWithLogitsLossFlat,
  type BCEWithLogitsLossFlatOptions,
  CrossEntropyLossFlat,
  type CrossEntropyLossFlatOptions,
  FocalLossFlat,
  type FocalLossFlatOptions,
  isRegisteredLoss,
  LabelSmoothingCrossEntropy,
  type LabelSmoothingCrossEntropyOptions,
  type Loss,
  type LossConstructor,
  logSoftmax,
  lossFromConfig,
  MSELossFlat,
  type Reduction,
  registerLoss,
} from './losses.js';
export { lowMemoryApply } from './low-memory-forward.js';
export { type LowMemoryGrads, lowMemoryVariableGrads } from './low-memory-grads.js';
export {
  evenMults,
  expandHyper,
  type HyperValue,
  isLrRange,
  type LrRange,
  lrRange,
} from './lr-range.js';
export {
  type AccuracyMultiOptions,
  AvgMetric,
  accuracy,
  accuracyMulti,
  errorRate,
  F1Score,
  type Metric,
  type MetricFunc,
  Precision,
  Recall,
  toMetric,
  topKAccuracy,
} from './metrics.js';
export {
  accumulateMicroBatches,
  type MicroBatchForward,
  type MicroBatchResult,
} from './micro-batching.js';
export {
  debias,
  type Hypers,
  Optimizer,
  type OptimizerFactory,
  type OptimizerState,
  type ParamFlags,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
export {
  flattenLayers,
  forceInferenceMode,
  isBatchNorm,
  type ParamGroupSpec,
  type ParamInfo,
  type ResolvedParamGroups,
  resolveParamGroups,
  type Splitter,
  trainableParams,
} from './param-groups.js';
export { RMSProp, type RMSPropOptions } from './rmsprop.js';
export { SGD, type SGDOptions } from './sgd.js';
export type { FitOptions } from './training-loop.js';
