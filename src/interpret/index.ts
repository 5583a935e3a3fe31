export {
  ClassificationInterpretation,
  type ConfusedPair,
  type InterpretationInputs,
  type MostConfusedOptions,
  type PlotConfusionMatrixOptions,
  type TopLoss,
} from './classification-interpretation.js';
