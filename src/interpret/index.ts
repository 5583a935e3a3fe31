export {
  ClassificationInterpretation,
  type ConfusedPair,
  type FromLearnerOptions,
  type InterpretationInputs,
  type MostConfusedOptions,
  type PlotConfusionMatrixOptions,
  type PlotTopLossesOptions,
  type TopLoss,
} from './classification-interpretation.js';
export {
  type ClassificationScores,
  type ClassScores,
  classificationReport,
  classificationScores,
} from './classification-report.js';
export {
  type PlotSegmentationTopLossesOptions,
  SegmentationInterpretation,
  type SegmentationInterpretationOptions,
  type SegmentationTopLoss,
} from './segmentation-interpretation.js';
