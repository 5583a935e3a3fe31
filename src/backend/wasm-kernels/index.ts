export {
  BATCH_NORM_BACKWARD,
  BATCH_NORM_FORWARD,
  BATCH_NORM_GRAD_INPUT,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  hasFusedChannelKernels,
  RELU6_GRAD,
  WASM_ONLY_KERNELS,
} from './batch-norm-kernels.js';
export { FAST_GRADIENTS, registerFastGradients } from './fast-gradients.js';
export { heapValues } from './heap.js';
export {
  DEFAULT_WASM_TENSOR_LIMIT,
  installWasmMemoryGuard,
  isOutOfEngineMemory,
  wasmTensorBytes,
} from './memory-guard.js';
export {
  checkWasmPackageVersion,
  registerWasmTrainingKernels,
  WASM_PACKAGE_VERSION,
  WASM_TRAINING_KERNELS,
} from './register.js';
