/**
 * Test helpers: run one kernel on the cpu and the wasm backend with the same inputs and
 * compare. Not a test file itself.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backend/wasm-kernels/index.js';
import type { RandomGenerator } from '../../../src/core/random.js';

/** Registers the kernels and activates wasm once. */
export async function wasmReady(): Promise<void> {
  assert.ok(await tf.setBackend('wasm'), 'wasm backend failed to initialise');
  registerWasmTrainingKernels();
}

/** Plain data of one kernel input. */
export interface InputSpec {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

/** Seeded uniform values in [-1, 1). */
export function randomValues(rng: RandomGenerator, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

/** Result of a kernel run, read back to JS. */
export interface KernelResult {
  shape: number[];
  values: Float32Array | Int32Array;
}

/** Runs `kernel` on `backend`, returns its output and leaves no tensor behind. */
export function runKernelOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, InputSpec>,
  attrs: tf.NamedAttrMap,
): KernelResult {
  const previous = tf.getBackend();
  tf.setBackend(backend);
  try {
    const before = tf.memory().numTensors;
    const result = tf.tidy(() => {
      const ins: tf.NamedTensorMap = {};
      for (const [name, spec] of Object.entries(inputs)) {
        ins[name] = tf.tensor(spec.values, spec.shape, spec.dtype ?? 'float32');
      }
      const out = tf.engine().runKernel(kernel, ins, attrs) as tf.Tensor;
      return { shape: out.shape.slice(), values: out.dataSync().slice() as Float32Array };
    });
    assert.equal(tf.memory().numTensors, before, `${kernel} on ${backend} leaked tensors`);
    return result;
  } finally {
    tf.setBackend(previous);
  }
}

/** Largest absolute difference divided by the largest absolute reference value. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length mismatch');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Asserts shapes equal and values within `tol` relative. */
export function assertClose(
  actual: KernelResult,
  expected: KernelResult,
  label: string,
  tol = 1e-4,
): void {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  const err = relativeError(actual.values, expected.values);
  assert.ok(err <= tol, `${label}: relative error ${err.toExponential(2)} > ${tol}`);
}
