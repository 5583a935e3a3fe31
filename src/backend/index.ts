export {
  type BackendName,
  ENGINE_ORDER,
  type EngineAttempt,
  type EngineName,
  NODE_GPU_REQUIREMENTS,
} from './engines.js';
export { activeBackend, BACKEND_ENV_VAR, type BackendChoice, ready } from './ready.js';
export { writableFloat32Tensor } from './writable-tensor.js';
