/**
 * The WebAssembly engine: `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD) plus tsfast's
 * training kernels, which read the package's private internals and so are registered only
 * for the release they were written for.
 */
import * as tf from '@tensorflow/tfjs';
import { activate, type Engine, type EngineAttempt, kernelsOf, messageOf } from './engine.js';
import {
  checkWasmPackageVersion,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from './wasm-kernels/index.js';

/**
 * The wasm engine.
 * @internal
 */
export const WASM_ENGINE: Engine = {
  name: 'wasm',
  backend: 'wasm',
  load: loadWasmEngine,
  kernels: () => kernelsOf('wasm'),
  accelerations: {
    addedKernels: WASM_TRAINING_KERNELS,
    // GatherV2 and broadcast integer Add have no SIMD path: the tensor sampler is ~10x slower.
    cpuAugmentation: true,
    batchNormKernels: 'pooling',
  },
};

async function loadWasmEngine(): Promise<EngineAttempt> {
  let packageVersion: string;
  try {
    packageVersion = (await import('@tensorflow/tfjs-backend-wasm')).version_wasm;
  } catch (err) {
    return {
      engine: 'wasm',
      backend: 'wasm',
      ok: false,
      reason: `@tensorflow/tfjs-backend-wasm failed to load: ${messageOf(err)}`,
    };
  }
  try {
    checkWasmPackageVersion(packageVersion);
  } catch (err) {
    return { engine: 'wasm', backend: 'wasm', ok: false, reason: messageOf(err) };
  }
  const attempt = await activate('wasm', 'wasm', 'WebAssembly kernels');
  if (!attempt.ok) return attempt;
  // Gradient kernels the wasm package lacks or runs slowly: lets conv nets train on wasm.
  registerWasmTrainingKernels(packageVersion);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  attempt.reason = `WebAssembly kernels (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})`;
  return attempt;
}
