export type { Engine, EngineAccelerations } from './engine.js';
export {
  type BackendName,
  ENGINE_ORDER,
  ENGINES,
  type EngineAttempt,
  type EngineName,
  engineAccelerations,
  NODE_GPU_REQUIREMENTS,
} from './engines.js';
export { activeBackend, BACKEND_ENV_VAR, type BackendChoice, ready } from './ready.js';
export {
  BATCH_NORM_BACKWARD,
  BATCH_NORM_FORWARD,
  BATCH_NORM_GRAD_INPUT,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  hasFusedChannelKernels,
  heapValues,
  isOutOfEngineMemory,
  RELU6_GRAD,
  WASM_ONLY_KERNELS,
} from './wasm-kernels/index.js';
export { writableFloat32Tensor } from './writable-tensor.js';
