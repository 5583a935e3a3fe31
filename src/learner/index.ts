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
export { closeTrainingThreads } from './data-parallel/data-parallel.js';
export { THREADS_ENV_VAR, type ThreadCount, trainingThreads } from './data-parallel/threads.js';
// Segmentation losses and metrics.
export { DiceLoss, type DiceLossOptions } from './dice-loss.js';
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
export { Larc, type LarcOptions } from './larc.js';
export { Learner } from './learner.js';
export {
  type ExportOptions,
  exportLearner,
  folderHandler,
  type LoadLearnerOptions,
  type LoadOptions,
  loadLearner,
  loadWeights,
  type SaveOptions,
  saveWeights,
} from './learner-io.js';
export type { LearnerOptions, LossFunction } from './learner-options.js';
export { Lookahead, type LookaheadOptions, type RangerOptions, ranger } from './lookahead.js';
export {
  BCEWithLogitsLossFlat,
  type BCEWithLogitsLossFlatOptions,
  CrossEntropyLossFlat,
  type CrossEntropyLossFlatOptions,
  FocalLossFlat,
  type FocalLossFlatOptions,
  type FocalReduction,
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
  type ClassScoreOptions,
  errorRate,
  F1Score,
  flattenCheck,
  type Metric,
  type MetricFunc,
  Precision,
  Recall,
  type ScoreAverage,
  toMetric,
  topKAccuracy,
} from './metrics.js';
export {
  accumulateMicroBatches,
  type MicroBatchForward,
  type MicroBatchResult,
} from './micro-batching.js';
export {
  F1ScoreMulti,
  type MultiScoreAverage,
  type MultiScoreOptions,
  PrecisionMulti,
  RecallMulti,
} from './multi-label-scores.js';
export {
  type Hypers,
  Optimizer,
  type OptimizerFactory,
  type OptimizerState,
  type ParamFlags,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
export {
  adamStep,
  averageGrad,
  averageSqrGrad,
  debias,
  decayStep,
  l2Reg,
  lambStep,
  larcStep,
  momentumStep,
  type OptimizerStep,
  qhadamStep,
  radamStep,
  rmsPropStep,
  type StepContext,
  sgdStep,
  weightDecay,
} from './optimizer-steps.js';
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
export { QHAdam, type QHAdamOptions } from './qhadam.js';
export { RAdam, type RAdamOptions } from './radam.js';
export { RMSProp, type RMSPropOptions } from './rmsprop.js';
export {
  Dice,
  DiceMulti,
  ForegroundAcc,
  type ForegroundAccOptions,
  foregroundAcc,
  JaccardCoeff,
  JaccardCoeffMulti,
  pixelAccuracy,
} from './segmentation-metrics.js';
export { SGD, type SGDOptions } from './sgd.js';
export {
  getResultsRenderer,
  type ResultsBatch,
  type ResultsRenderer,
  registerResultsRenderer,
  type ShowResultsOptions,
  showResults,
} from './show-results.js';
export type { FitOptions } from './training-loop.js';
