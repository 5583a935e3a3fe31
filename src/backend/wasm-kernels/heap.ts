/**
 * Direct access to the wasm backend's heap. tfjs-backend-wasm keeps every tensor's values in
 * the module's linear memory; a kernel written in JavaScript can read and write them there
 * instead of copying them out (`dataSync`) and back in (`tf.tensor`).
 */
import type * as tf from '@tensorflow/tfjs';
import { backend, getBackend } from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's `BackendWasm` that heap kernels use. @internal */
export interface HeapBackend extends tf.KernelBackend {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/**
 * Whether `backend` is tfjs-backend-wasm (it exposes its heap and data map).
 * @param backend - A tfjs backend.
 * @returns `true` for the wasm backend.
 * @internal
 */
export function isHeapBackend(backend: tf.KernelBackend): backend is HeapBackend {
  const b = backend as Partial<HeapBackend>;
  return b.wasm?.HEAPF32 !== undefined && b.dataIdMap !== undefined;
}

/**
 * Index (in floats) of a tensor's first value in `backend.wasm.HEAPF32`. Offsets stay valid
 * when the heap grows, but the `HEAPF32` view is replaced then: read it after allocating.
 * @param backend - The wasm backend.
 * @param dataId - The tensor's data id.
 * @returns The float index.
 * @internal
 */
export function heapIndex(backend: HeapBackend, dataId: tf.DataId): number {
  const entry = backend.dataIdMap.get(dataId);
  if (entry === undefined)
    throw new Error('tsfast wasm kernel: tensor data is not on the wasm backend.');
  return entry.memoryOffset >>> 2;
}

/**
 * A float32 tensor's values read in place on the wasm heap, for copying elsewhere (shared
 * memory) without the intermediate array `dataSync` allocates. Valid until the next
 * allocation on the backend (the heap may grow and replace its buffer): copy it at once.
 * @param t - A float32 tensor.
 * @returns The view, or `undefined` when `t` is not float32 or the active backend is not wasm
 *   (the caller then reads it with `dataSync`).
 * @internal
 */
export function heapValues(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || getBackend() !== 'wasm') return undefined;
  const active = backend();
  if (!isHeapBackend(active) || active.dataIdMap.get(t.dataId) === undefined) return undefined;
  const at = heapIndex(active, t.dataId);
  return active.wasm.HEAPF32.subarray(at, at + t.size);
}
