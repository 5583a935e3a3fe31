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
