/**
 * BatchNorm in inference mode (moving statistics) in the cheapest kernels of the backend.
 *
 * On wasm, `tf.batchNorm` runs `FusedBatchNorm`, a scalar loop: ~3.7 ms per million values,
 * about half of MobileNet's whole forward pass. The same map is a per-channel scale and shift,
 * `x * scale[c] + shift[c]` with `scale = gamma / sqrt(variance + epsilon)` and
 * `shift = beta - mean * scale`, which XNNPACK runs as a 1x1 depthwise convolution with a bias
 * in ~0.4 ms. On tfjs-node and the cpu backend `tf.batchNorm` is kept.
 */
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../../core/errors.js';
import {
  type BatchNormKernels,
  defaultBatchNormKernels,
  poolingView,
} from './batch-norm-training.js';

/** Options of {@link batchNormInference}. */
export interface BatchNormInferenceOptions {
  /**
   * Added to the variance before the square root.
   * @defaultValue 1e-3
   */
  epsilon?: number;
  /**
   * `'pooling'`: the per-channel map as one depthwise convolution (fastest on wasm);
   * `'reduce'`: `tf.batchNorm`. Defaults to `'pooling'` on wasm, `'reduce'` elsewhere.
   * @defaultValue by backend
   */
  kernels?: BatchNormKernels;
}

/**
 * Normalises `x` (channels last) with given statistics, then scales by `gamma` and shifts by
 * `beta`: what `tf.batchNorm` computes, differentiable with respect to every input.
 *
 * @param x - Input, channels last, rank >= 2.
 * @param mean - Mean per channel `[C]`.
 * @param variance - Variance per channel `[C]`.
 * @param gamma - Scale `[C]`, or `null` for none.
 * @param beta - Shift `[C]`, or `null` for none.
 * @param options - Epsilon and kernel formulation.
 * @returns The normalised tensor, shaped as `x`.
 * @throws {@link ValueError} if `x` has rank < 2 or `epsilon` is negative.
 * @example
 * ```ts
 * const [mean, beta] = [tf.zeros([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D];
 * const [variance, gamma] = [tf.ones([3]) as tf.Tensor1D, tf.ones([3]) as tf.Tensor1D];
 * const x = tf.randomNormal([8, 4, 4, 3]);
 * const y = batchNormInference(x, mean, variance, gamma, beta); // ~x / sqrt(1 + eps)
 * tf.dispose([x, y, mean, beta, variance, gamma]);
 * ```
 */
export function batchNormInference(
  x: tf.Tensor,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  options: BatchNormInferenceOptions = {},
): tf.Tensor {
  const epsilon = options.epsilon ?? 1e-3;
  if (!(epsilon >= 0)) throw invalidValue('epsilon', 'a non-negative number', epsilon);
  const kernels = options.kernels ?? defaultBatchNormKernels();
  if (x.rank < 2) throw invalidValue('x rank', 'at least 2 (channels last)', x.rank);
  if (kernels === 'reduce') {
    return tf.batchNorm(x, mean, variance, beta ?? undefined, gamma ?? undefined, epsilon);
  }
  if (kernels !== 'pooling') throw invalidValue('kernels', "'pooling' or 'reduce'", kernels);
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1] as number;
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = gamma === null ? rstd : tf.mul(gamma, rstd);
    const centred = tf.neg(tf.mul(mean, scale));
    const shift = beta === null ? centred : tf.add(beta, centred);
    const y = tf.fused.depthwiseConv2d({
      x: tf.reshape(x, poolingView(x.shape)) as tf.Tensor4D,
      filter: tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D,
      strides: 1,
      pad: 'valid',
      bias: shift,
    });
    return tf.reshape(y, x.shape);
  });
}
