export {
  type BackendName,
  ENGINE_ORDER,
  type EngineAttempt,
  type EngineName,
  NODE_GPU_REQUIREMENTS,
} from './engines.js';
export { activeBackend, BACKEND_ENV_VAR, type BackendChoice, ready } from './ready.js';
export {
  BATCH_NORM_BACKWARD,
  BATCH_NORM_FORWARD,
  hasFusedChannelKernels,
  RELU6_GRAD,
  WASM_ONLY_KERNELS,
} from './wasm-kernels/index.js';
