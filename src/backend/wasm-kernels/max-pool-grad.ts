/**
 * `MaxPoolGrad` for wasm. The package's kernel was measured ~30 x slower than the forward max
 * pool (a small CNN's 2x2 pool gradient cost more than its convolution gradients). This one
 * reads the input once, finds each window's first maximum exactly as the cpu backend does
 * (strict `>`, so ties go to the first position in the window and NaN windows get nothing),
 * and adds the output gradient there: one linear pass over the data.
 */
import * as tf from '@tensorflow/tfjs';
import { tensorKernel } from './tensor-kernel.js';

/**
 * Gradient of a 2D max pool.
 *
 * @param dy - Gradient of the pool output, NHWC.
 * @param input - Pool input, NHWC.
 * @param attrs - `filterSize`, `strides`, `pad`, `dimRoundingMode`.
 * @returns The input gradient.
 * @internal
 */
export function maxPoolGradOps(dy: tf.Tensor, input: tf.Tensor, attrs: tf.NamedAttrMap): tf.Tensor {
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
  const x = input.dataSync() as Float32Array;
  const g = dy.dataSync() as Float32Array;
  const dx = new Float32Array(x.length);
  const best = new Int32Array(c);
  const bestValue = new Float32Array(c);
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
        best.fill(-1);
        bestValue.fill(Number.NEGATIVE_INFINITY);
        // Row-major over the window, channels innermost (contiguous in NHWC).
        for (let xR = xRMin; xR < xRMax; xR += dilationHeight) {
          for (let xC = xCMin; xC < xCMax; xC += dilationWidth) {
            const base = ((b * inHeight + xR) * inWidth + xC) * c;
            for (let d = 0; d < c; d++) {
              const v = x[base + d]!;
              if (v > bestValue[d]!) {
                bestValue[d] = v;
                best[d] = base + d;
              }
            }
          }
        }
        const out = ((b * outHeight + yR) * outWidth + yC) * c;
        for (let d = 0; d < c; d++) {
          const at = best[d]!;
          if (at >= 0) dx[at]! += g[out + d]!;
        }
      }
    }
  }
  return tf.tensor(dx, input.shape, 'float32');
}

/** Kernel config registering {@link maxPoolGradOps} for wasm. */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ dy, input }, attrs) =>
    maxPoolGradOps(dy!, input!, attrs),
  ) as tf.KernelFunc,
};
