/**
 * A new float32 tensor whose values a caller fills in place, on any engine. On wasm the tensor
 * lives in the module's linear memory and the caller writes there directly; elsewhere it wraps a
 * JavaScript array. Kept here because it reaches into tfjs-backend-wasm's internals, which only
 * `backend/` may know.
 */
import * as tf from '@tensorflow/tfjs';
import { heapIndex, isHeapBackend } from './wasm-kernels/heap.js';

/**
 * A float32 tensor of `shape` and a view of its values to fill. On wasm the tensor is allocated
 * on the module's heap and written there directly: building a 38 MB JavaScript array per batch
 * and copying it in with `tf.tensor` cost about a fifth of the CPU augmentation executor's time
 * (allocation, garbage collection, the copy). Elsewhere the array is handed to `tf.tensor`,
 * which keeps it. Nothing may allocate on the backend between this call and the last write into
 * `values` (the heap may grow and move).
 *
 * @param shape - The tensor's shape.
 * @returns The tensor (the caller owns it) and its values, unspecified on wasm until written.
 * @example
 * ```ts
 * const { tensor, values } = writableFloat32Tensor([1, 2, 2, 3]);
 * values.fill(0.5);
 * tensor.dispose();
 * ```
 * @internal
 */
export function writableFloat32Tensor(shape: readonly number[]): {
  tensor: tf.Tensor;
  values: Float32Array;
} {
  const size = shape.reduce((a, b) => a * b, 1);
  const backend = tf.backend();
  if (isHeapBackend(backend)) {
    const info = backend.makeOutput([...shape], 'float32');
    const tensor = tf.engine().makeTensorFromTensorInfo(info, backend);
    const start = heapIndex(backend, info.dataId);
    const values = backend.wasm.HEAPF32.subarray(start, start + size);
    return { tensor, values };
  }
  const values = new Float32Array(size);
  return { tensor: tf.tensor(values, [...shape], 'float32'), values };
}
