/**
 * tsfast: fastai-style transfer learning for TypeScript on TensorFlow.js.
 * @packageDocumentation
 */
export {
  activeBackend,
  BACKEND_ENV_VAR,
  type BackendChoice,
  type BackendName,
  type DoctorReport,
  doctorReport,
  ENGINE_ORDER,
  type EngineAttempt,
  type EngineName,
  formatDoctorReport,
  NODE_GPU_REQUIREMENTS,
  ready,
} from './backend/index.js';
export {
  BackendError,
  CallbackError,
  checkOptionKeys,
  DataError,
  type ErrorCode,
  globalRandom,
  invalidValue,
  RandomGenerator,
  randomFor,
  setSeed,
  TsfastError,
  ValueError,
} from './core/index.js';
export {
  CACHE_ENV_VAR,
  cacheDir,
  cachedPath,
  DownloadError,
  type DownloadOptions,
  downloadFile,
  sha256File,
  type UntarDataOptions,
  URLs,
  untarData,
} from './external/index.js';
export {
  ClassificationInterpretation,
  type ConfusedPair,
  type InterpretationInputs,
  type MostConfusedOptions,
  type PlotConfusionMatrixOptions,
  type TopLoss,
} from './interpret/index.js';
export {
  type ChartMarker,
  type HeatmapOptions,
  heatmapSvg,
  type LineChartOptions,
  type LineSeries,
  lineChartSvg,
  PALETTE,
  svgToPng,
  writePng,
} from './plot/index.js';
