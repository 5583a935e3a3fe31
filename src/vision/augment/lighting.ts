import * as tf from '@tensorflow/tfjs';

/** fastai's `logit` clamp. */
export const LOGIT_EPS = 1e-7;

/**
 * fastai's lighting in logit space: `sigmoid((logit(x) + logit(b)) * c)` per image, with
 * brightness `b` (0.5 = unchanged) and contrast `c` (1 = unchanged); `x` is clamped to
 * [1e-7, 1 - 1e-7] first.
 *
 * @param x - Batch `[N, H, W, C]` in [0, 1].
 * @param brightness - One brightness per image.
 * @param contrast - One contrast per image.
 * @returns A new tensor in (0, 1); the caller disposes it.
 * @example
 * ```ts
 * const y = tsf.lighting(x, [0.5, 0.6], [1, 1.2]);
 * ```
 */
export function lighting(
  x: tf.Tensor4D,
  brightness: readonly number[],
  contrast: readonly number[],
): tf.Tensor4D {
  const n = x.shape[0];
  return tf.tidy(() => {
    const b = tf.tensor1d(brightness.map((v) => logit(v))).reshape([n, 1, 1, 1]);
    const c = tf.tensor1d([...contrast]).reshape([n, 1, 1, 1]);
    const cl = tf.clipByValue(x, LOGIT_EPS, 1 - LOGIT_EPS);
    const lx = tf.log(cl).sub(tf.log(tf.scalar(1).sub(cl)));
    return tf.sigmoid(lx.add(b).mul(c)) as tf.Tensor4D;
  });
}

/**
 * `log(p / (1 - p))` with fastai's clamp.
 * @param p - A probability.
 * @returns Its logit.
 * @example
 * ```ts
 * tsf.logit(0.5); // 0
 * ```
 */
export function logit(p: number): number {
  const q = Math.min(Math.max(p, LOGIT_EPS), 1 - LOGIT_EPS);
  return Math.log(q / (1 - q));
}
