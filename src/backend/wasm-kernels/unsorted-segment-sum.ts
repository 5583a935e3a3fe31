/**
 * `UnsortedSegmentSum` for wasm (the gradient of `gather`, e.g. of an embedding lookup): one
 * pass over the data, adding each row into its segment. The wasm backend reads tensor memory
 * synchronously, so a linear loop beats any formulation through matrix products, which would
 * cost `numSegments` times more arithmetic.
 */
import * as tf from '@tensorflow/tfjs';
import { tensorKernel } from './tensor-kernel.js';

/**
 * Sums the slices of `x` that share a segment id; ids outside `[0, numSegments)` are dropped,
 * as in TensorFlow.
 *
 * @param x - Data; its leading dimensions have the shape of `segmentIds`.
 * @param segmentIds - int32 segment of each slice.
 * @param numSegments - Number of output segments.
 * @returns `[numSegments, ...x.shape.slice(segmentIds.rank)]`, dtype of `x`.
 * @internal
 */
export function unsortedSegmentSumOps(
  x: tf.Tensor,
  segmentIds: tf.Tensor,
  numSegments: number,
): tf.Tensor {
  const inner = x.shape.slice(segmentIds.rank);
  const rowSize = inner.reduce((a, b) => a * b, 1);
  const ids = segmentIds.dataSync();
  const data = x.dataSync();
  const out =
    x.dtype === 'int32'
      ? new Int32Array(numSegments * rowSize)
      : new Float32Array(numSegments * rowSize);
  for (let row = 0; row < ids.length; row++) {
    const seg = ids[row]!;
    if (seg < 0 || seg >= numSegments) continue;
    const src = row * rowSize;
    const dst = seg * rowSize;
    for (let k = 0; k < rowSize; k++) out[dst + k]! += data[src + k]!;
  }
  return tf.tensor(out, [numSegments, ...inner], x.dtype === 'int32' ? 'int32' : 'float32');
}

/** Kernel config registering {@link unsortedSegmentSumOps} for wasm. */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ x, segmentIds }, attrs) =>
    unsortedSegmentSumOps(x!, segmentIds!, attrs.numSegments as number),
  ) as tf.KernelFunc,
};
