export {
  type Batch,
  type BatchStream,
  type DataLoadersLike,
  imagenetStats,
  inceptionStats,
  type JsonObject,
  type JsonValue,
  type NormalizeStats,
  type TestDlOptions,
} from './batch.js';
export {
  type AugExecutorChoice,
  type Block,
  type BlockLike,
  CategoryBlock,
  type CategoryBlockOptions,
  type EncodeContext,
  type FittedBlock,
  MultiCategoryBlock,
  type MultiCategoryBlockOptions,
  RegressionBlock,
  type RegressionBlockOptions,
  resolveBlock,
  type ShowOptions,
} from './blocks.js';
export { type ReadCsvOptions, readCsv } from './csv.js';
export { DataBlock, type DataBlockOptions, type SummaryOptions } from './data-block.js';
export {
  collateSamples,
  DataLoader,
  type DataLoaderSettings,
  type SkippedItem,
} from './data-loader.js';
export { DataLoaders, type DataLoadersOptions, type ShowBatchOptions } from './data-loaders.js';
export { type DatasetSplit, Datasets, type Getter } from './datasets.js';
export {
  ExportedDataLoaders,
  type PipelineLoader,
  rebuildDataLoaders,
  registerPipelineLoader,
} from './exported-data-loaders.js';
export {
  type GetFilesOptions,
  type GetImageFilesOptions,
  getFiles,
  getImageFiles,
  imageExtensions,
} from './getters.js';
export {
  ColReader,
  type ColReaderOptions,
  type PathAttr,
  parentLabel,
  pathAttr,
  RegexLabeller,
  type RegexLabellerOptions,
  usingAttr,
} from './labellers.js';
export { Normalize } from './normalize.js';
export {
  blockFromConfig,
  registerBlock,
  registerTransform,
  transformFromConfig,
} from './registry.js';
export {
  ColSplitter,
  type ColSplitterOptions,
  type DataSplitter,
  FileSplitter,
  FuncSplitter,
  GrandparentSplitter,
  type GrandparentSplitterOptions,
  IndexSplitter,
  RandomSplitter,
  type RandomSplitterOptions,
  type Splits,
  TrainTestSplitter,
  type TrainTestSplitterOptions,
} from './splitters.js';
export {
  EndSplitter,
  type EndSplitterOptions,
  MaskSplitter,
  RandomSubsetSplitter,
  type RandomSubsetSplitterOptions,
} from './subset-splitters.js';
export {
  type BatchTransform,
  type BatchTransformContext,
  isBatchTransform,
  type Transform,
} from './transforms.js';
