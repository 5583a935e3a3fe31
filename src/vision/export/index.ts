export {
  encodeSafetensors,
  type TensorToWrite,
  writeSafetensors,
} from '../models/safetensors-writer.js';
export {
  CONVERTED_LAYER_CLASSES,
  STOCK_LAYER_CLASSES,
  type StockTopology,
  toStockTopology,
} from './stock-layers.js';
export {
  type ExportSafetensorsOptions,
  exportSafetensors,
  type SafetensorsExport,
  type TorchNamingScheme,
} from './torch-export.js';
export {
  type ExportForWebOptions,
  exportForWeb,
  type WebActivation,
  type WebExport,
  type WebInferenceSpec,
} from './web-export.js';
