/**
 * `DepthToSpace` for wasm (NHWC, float32). The package's kernel computes every element's
 * address with strides in a generic loop: ~60 ms for a `[32, 64, 64, 12]` tensor, 25 x a
 * convolution producing it. In NHWC each input pixel's channels for one block row,
 * `in[n, a, b, i*s*C .. (i+1)*s*C)`, land contiguously at `out[n, a*s + i, b*s .. b*s + s, :]`,
 * so the kernel is a copy of contiguous runs of `s*C` floats (`memory.copy` in tsfast's wasm
 * module), done on the wasm heap into a fresh output.
 */
import type * as tf from '@tensorflow/tfjs';
import { heapOrFallback, type KernelFn } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { simdKernels } from './simd-kernels.js';

/**
 * Depth-to-space of an NHWC float32 tensor on the wasm heap.
 *
 * @param backend - The wasm backend.
 * @param x - Input `[N, H, W, s*s*C]`.
 * @param s - Block size.
 * @returns A new tensor `[N, H*s, W*s, C]`.
 * @internal
 */
export function depthToSpaceHeap(backend: HeapBackend, x: tf.TensorInfo, s: number): tf.TensorInfo {
  const [n, h, w, depth] = x.shape as [number, number, number, number];
  const c = depth / (s * s);
  const out = backend.makeOutput([n, h * s, w * s, c], 'float32');
  const src0 = heapIndex(backend, x.dataId);
  const dst0 = heapIndex(backend, out.dataId);
  const outRow = w * s * c; // floats per output row
  const runBytes = s * c * 4;
  const simd = simdKernels(backend);
  if (simd !== undefined) {
    simd.depthToSpace(src0 * 4, dst0 * 4, n * h, w, s, runBytes, outRow * 4);
    return out;
  }
  // Read the view after allocating: a grown heap replaces it.
  const heap = backend.wasm.HEAPF32;
  const run = s * c;
  let src = src0;
  for (let row = 0; row < n * h; row++) {
    const rowBase = dst0 + row * s * outRow;
    for (let q = 0; q < w; q++) {
      for (let i = 0; i < s; i++) {
        heap.copyWithin(rowBase + i * outRow + q * run, src, src + run);
        src += run;
      }
    }
  }
  return out;
}

/**
 * Wraps the package's `DepthToSpace`: NHWC float32 inputs are copied by
 * {@link depthToSpaceHeap}, others go to the original kernel.
 *
 * @param original - The package's kernel config.
 * @returns The wrapping config.
 * @internal
 */
export function depthToSpaceKernel(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = heapOrFallback(
    ({ inputs, attrs = {} }, backend) => {
      const x = inputs.x!;
      const nhwc = (attrs.dataFormat ?? 'NHWC') === 'NHWC' && x.shape.length === 4;
      return x.dtype === 'float32' && nhwc
        ? depthToSpaceHeap(backend, x, attrs.blockSize as number)
        : undefined;
    },
    original.kernelFunc as unknown as KernelFn,
  );
  return { ...original, kernelFunc };
}
