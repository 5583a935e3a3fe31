/**
 * `Transpose` for wasm when the permutation moves one block of axes past another (leading
 * axes fixed): a batch of 2D transposes, e.g. `[P, C] -> [C, P]` in every pointwise filter
 * gradient, or NHWC -> `[C, N, H, W]`. The package's kernel walks elements one by one (~3.4 ms
 * for a `[32768, 32]` matrix); tsfast's SIMD kernel moves 4x4 blocks with shuffles. Other
 * permutations and dtypes go to the package's kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import { heapOrFallback, type KernelFn } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';

/** A permutation seen as `batch` transposes of `rows x cols` matrices. @internal */
export interface MatrixView {
  batch: number;
  rows: number;
  cols: number;
}

/**
 * The batched-matrix view of a transpose, or `undefined` when `perm` is not of the form
 * `[0..b-1, b+k..r-1, b..b+k-1]`.
 *
 * @param shape - Input shape.
 * @param perm - The permutation.
 * @returns The view.
 * @internal
 */
export function matrixView(
  shape: readonly number[],
  perm: readonly number[],
): MatrixView | undefined {
  const rank = shape.length;
  if (perm.length !== rank) return undefined;
  let b = 0;
  while (b < rank && perm[b] === b) b++;
  if (b === rank) return undefined;
  const k = perm[b]! - b; // axes b..b+k-1 move to the end
  if (k <= 0) return undefined;
  for (let i = b; i < rank; i++) {
    const expected = i - b < rank - b - k ? b + k + (i - b) : b + (i - b - (rank - b - k));
    if (perm[i] !== expected) return undefined;
  }
  const prod = (from: number, to: number): number => {
    let p = 1;
    for (let i = from; i < to; i++) p *= shape[i]!;
    return p;
  };
  return { batch: prod(0, b), rows: prod(b, b + k), cols: prod(b + k, rank) };
}

/**
 * Batched 2D transpose on the wasm heap into a fresh output.
 * @internal
 */
export function transposeHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  perm: readonly number[],
  view: MatrixView,
): tf.TensorInfo {
  const out = backend.makeOutput(
    perm.map((p) => x.shape[p]!),
    'float32',
  );
  const { batch, rows, cols } = view;
  const src = heapIndex(backend, x.dataId);
  const dst = heapIndex(backend, out.dataId);
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  if (r4 > 0 && c4 > 0) simd.transpose4(src * 4, dst * 4, batch, rows, cols, r4, c4);
  if (r4 < rows || c4 < cols) {
    // Read the view after allocating: a grown heap replaces it.
    const heap = backend.wasm.HEAPF32;
    const size = rows * cols;
    for (let bt = 0; bt < batch; bt++) {
      const s0 = src + bt * size;
      const d0 = dst + bt * size;
      for (let i = 0; i < rows; i++) {
        for (let j = i < r4 ? c4 : 0; j < cols; j++) {
          heap[d0 + j * rows + i] = heap[s0 + i * cols + j] as number;
        }
      }
    }
  }
  return out;
}

/**
 * Wraps the package's `Transpose`: float32 block transposes go to {@link transposeHeap}.
 *
 * @param original - The package's kernel config.
 * @returns The wrapping config.
 * @internal
 */
export function blockTransposeKernel(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = heapOrFallback(
    ({ inputs, attrs = {} }, backend) => {
      const x = inputs.x!;
      const perm = (attrs.perm ?? []) as number[];
      const view = x.dtype === 'float32' ? matrixView(x.shape, perm) : undefined;
      const simd = view === undefined ? undefined : simdKernels(backend);
      if (view === undefined || simd === undefined || view.rows <= 1 || view.cols <= 1) {
        return undefined;
      }
      return transposeHeap(backend, simd, x, perm, view);
    },
    original.kernelFunc as unknown as KernelFn,
  );
  return { ...original, kernelFunc };
}
