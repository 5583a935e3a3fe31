/**
 * `MaxPoolGrad` for wasm. The package's kernel was measured ~30 x slower than the forward max
 * pool (a small CNN's 2x2 pool gradient cost more than its convolution gradients). This one
 * reads the input once, finds each window's first maximum exactly as the cpu backend does
 * (strict `>`, so ties go to the first position in the window and NaN windows get nothing),
 * and adds the output gradient there: one linear pass over the data, read and written in place
 * on the wasm heap (copying out and back in used to cost more than the pass itself). With a
 * channel count divisible by 4 the scan runs in tsfast's SIMD module (four channels per
 * instruction: small CNN pool gradient ~37 -> 5.5 ms); otherwise in JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOrFallback } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { simdKernels } from './simd-kernels.js';

/**
 * Gradient of a 2D max pool, computed on the wasm heap: reads the input and the output gradient
 * where they are and writes the result into a freshly allocated output (no copies in or out).
 *
 * @param backend - The wasm backend.
 * @param dy - Gradient of the pool output, NHWC.
 * @param input - Pool input, NHWC.
 * @param attrs - `filterSize`, `strides`, `pad`, `dimRoundingMode`.
 * @returns The input gradient.
 * @internal
 */
export function maxPoolGradHeap(
  backend: HeapBackend,
  dy: tf.TensorInfo,
  input: tf.TensorInfo,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const out = backend.makeOutput(input.shape.slice(), 'float32');
  // The heap view is read after the allocation (which may grow and replace it).
  const heap = backend.wasm.HEAPF32;
  const x = heapIndex(backend, input.dataId);
  const g = heapIndex(backend, dy.dataId);
  const dx = heapIndex(backend, out.dataId);
  heap.fill(0, dx, dx + batchSize * inHeight * inWidth * c);
  const simd =
    c % 4 === 0 && dilationHeight === 1 && dilationWidth === 1 ? simdKernels(backend) : undefined;
  if (simd !== undefined) {
    // Four channels per instruction in tsfast's SIMD module, one call per output row.
    const cb = c * 4;
    for (let b = 0; b < batchSize; b++) {
      for (let yR = 0; yR < outHeight; yR++) {
        const corner = yR * strideHeight - padTop;
        const r0 = Math.max(0, corner);
        const r1 = Math.min(inHeight, corner + effectiveFilterHeight);
        if (r1 <= r0) continue;
        const rowStart = (b * inHeight + r0) * inWidth * cb;
        simd.maxPoolGradRow(
          x * 4 + rowStart,
          g * 4 + (b * outHeight + yR) * outWidth * cb,
          dx * 4 + rowStart,
          outWidth,
          cb,
          strideWidth,
          padLeft,
          inWidth,
          effectiveFilterWidth,
          r1 - r0,
          inWidth * cb,
        );
      }
    }
    return out;
  }
  const rowStride = inWidth * c;
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      const xRCorner = yR * strideHeight - padTop;
      let xRMin = xRCorner;
      while (xRMin < 0) xRMin += dilationHeight;
      const xRMax = Math.min(inHeight, effectiveFilterHeight + xRCorner);
      for (let yC = 0; yC < outWidth; yC++) {
        const xCCorner = yC * strideWidth - padLeft;
        let xCMin = xCCorner;
        while (xCMin < 0) xCMin += dilationWidth;
        const xCMax = Math.min(inWidth, effectiveFilterWidth + xCCorner);
        const o = g + ((b * outHeight + yR) * outWidth + yC) * c;
        const corner = b * inHeight * rowStride;
        // Per channel, the window row-major: the first strict maximum wins, as on cpu.
        for (let d = 0; d < c; d++) {
          let bestValue = Number.NEGATIVE_INFINITY;
          let best = -1;
          for (let xR = xRMin; xR < xRMax; xR += dilationHeight) {
            const row = corner + xR * rowStride + d;
            for (let xC = xCMin; xC < xCMax; xC += dilationWidth) {
              const at = row + xC * c;
              const v = heap[x + at] as number;
              if (v > bestValue) {
                bestValue = v;
                best = at;
              }
            }
          }
          if (best >= 0) heap[dx + best] = (heap[dx + best] as number) + (heap[o + d] as number);
        }
      }
    }
  }
  return out;
}

/** Kernel config registering {@link maxPoolGradHeap} for wasm. */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: heapOrFallback(
    ({ inputs, attrs = {} }, backend) => maxPoolGradHeap(backend, inputs.dy!, inputs.input!, attrs),
    () => {
      throw new Error('tsfast MaxPoolGrad: registered for wasm but run on another backend.');
    },
  ),
};
