/**
 * The built-in callbacks: recording, progress, schedules and the LR finder, trackers,
 * gradient tools, MixUp/CutMix.
 */
export { BnFreeze, type BnFreezeOptions } from './bn-freeze.js';
export { CSVLogger, type CSVLoggerOptions } from './csv-logger.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { GradientAccumulation, type GradientAccumulationOptions } from './gradient-accumulation.js';
export { GradientClip, type GradientClipOptions } from './gradient-clip.js';
export {
  LRFinder,
  type LRFinderOptions,
  lrFind,
  minimum,
  plotLrFind,
  SUGGESTION_FUNCS,
  type SuggestedLRs,
  type SuggestFunc,
  type Suggestion,
  type SuggestionName,
  slide,
  steep,
  valley,
} from './lr-finder.js';
export { CutMix, type MixOptions, MixUp, type ShuffledBatch, sampleBeta } from './mixup.js';
export { formatTime, Progress } from './progress.js';
export {
  type PlotLossOptions,
  type PlotSchedOptions,
  Recorder,
  type RecorderOptions,
  SmoothLoss,
} from './recorder.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
export { SaveModel, type SaveModelOptions } from './save-model.js';
export { schedPoly } from './sched-poly.js';
export {
  combinedCos,
  combineScheds,
  type FineTuneOptions,
  type FitFlatCosOptions,
  type FitOneCycleOptions,
  type FitSgdrOptions,
  fineTune,
  fitFlatCos,
  fitOneCycle,
  fitSgdr,
  ParamScheduler,
  type Schedule,
  type Schedules,
  schedCos,
  schedExp,
  schedLin,
  schedNo,
} from './schedule.js';
export { TerminateOnNaN } from './terminate-on-nan.js';
export { TRACKER_KEYS, TrackerCallback, type TrackerOptions } from './tracker.js';
export { TrainEval } from './train-eval.js';
