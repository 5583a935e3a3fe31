/**
 * `Sum` and `Mean` for wasm over a contiguous block of axes that does not end at the last axis
 * (e.g. the batch and spatial axes of an NHWC tensor: bias and BatchNorm gradients, batch
 * statistics, global average pooling). The wasm package's kernels first transpose the reduced
 * axes to the end (a full pass that costs more than the sum); here tsfast's SIMD kernel adds
 * the rows in place, reading the input once. Other reductions (trailing axes, non-contiguous
 * axes, non-float32 tensors) go to the package's kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOrFallback, type KernelFn } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';

/**
 * The `[a, r, b]` view of a reduction over contiguous axes that leaves `b > 1` values after
 * them, or `undefined` when the reduction is not of that form.
 * @internal
 */
export function rowReduction(
  shape: readonly number[],
  axis: unknown,
): { a: number; r: number; b: number; axes: number[] } | undefined {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape as number[]);
  axes.sort((p, q) => p - q);
  if (axes.length === 0) return undefined;
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  if (last - first + 1 !== axes.length || last === shape.length - 1) return undefined;
  const size = (from: number, to: number): number => {
    let p = 1;
    for (let i = from; i < to; i++) p *= shape[i]!;
    return p;
  };
  return { a: size(0, first), r: size(first, last + 1), b: size(last + 1, shape.length), axes };
}

function reduceHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  view: { a: number; r: number; b: number; axes: number[] },
  keepDims: boolean,
  mean: boolean,
): tf.TensorInfo {
  const outShape = x.shape.flatMap((d, i) => (view.axes.includes(i) ? (keepDims ? [1] : []) : [d]));
  const out = backend.makeOutput(outShape, 'float32');
  const count = view.a * view.b;
  const o = heapIndex(backend, out.dataId);
  // Read the view after allocating: a grown heap replaces it.
  backend.wasm.HEAPF32.fill(0, o, o + count);
  const bb = view.b * 4;
  const bv = (view.b >> 2) * 16;
  if (view.r > 0) simd.sumRows(heapIndex(backend, x.dataId) * 4, o * 4, view.a, view.r, bv, bb);
  if (mean) simd.divide(o * 4, (count >> 2) * 16, count * 4, view.r);
  return out;
}

/**
 * Wraps the wasm package's `Sum` or `Mean` kernel config: row reductions of float32 tensors run
 * in tsfast's SIMD kernel, everything else in the original.
 *
 * @param original - The package's kernel config.
 * @param mean - Whether it is `Mean` (the sum is then divided by the reduced count).
 * @returns The wrapping config (keeping the original's setup function).
 * @internal
 */
export function rowReduceKernel(original: tf.KernelConfig, mean: boolean): tf.KernelConfig {
  const kernelFunc = heapOrFallback(
    ({ inputs, attrs = {} }, backend) => {
      const x = inputs.x!;
      const view = x.dtype === 'float32' ? rowReduction(x.shape, attrs.axis) : undefined;
      const simd = view === undefined ? undefined : simdKernels(backend);
      if (view === undefined || simd === undefined) return undefined;
      return reduceHeap(backend, simd, x, view, attrs.keepDims === true, mean);
    },
    original.kernelFunc as unknown as KernelFn,
  );
  return { ...original, kernelFunc };
}
