/**
 * Gradient overrides for kernels whose tfjs-core gradients are slow on wasm. A gradient
 * registered with `tf.registerGradient` applies on every backend, so each formulation here is
 * exact (same values as tfjs-core's, to rounding) and uses only kernels that tfjs-node
 * registers too.
 *
 * - `FusedBatchNorm`: tfjs-core tiles `1/sqrt(var + eps)` to the full input shape (`Tile` is a
 *   slow generic loop on wasm; it was ~40 % of a MobileNet training step) and computes each of
 *   its five gradients with separate full-size passes. Here: broadcasts instead of tiles and
 *   shares the two full-size reductions.
 * - `Mean`: tfjs-core builds `ones(x.shape)` in JavaScript, multiplies and divides; here an
 *   outer product (leading axes) or one `Fill` and one broadcasting multiply.
 * - `ClipByValue`, `Relu`, `Relu6`: tfjs-core builds boolean masks with comparison,
 *   `LogicalAnd`, `Select` and `Cast` kernels, which are slow scalar loops on wasm; here the
 *   masks come from `Step`, `Abs` and arithmetic, which are fast vector kernels.
 */
import * as tf from '@tensorflow/tfjs';

function reductionAxes(paramShape: number[], xShape: number[]): number[] {
  return tf.backend_util.getReductionAxes(paramShape, xShape);
}

function sumTo(t: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = reductionAxes(shape, t.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, shape);
}

/** `FusedBatchNorm` gradient without `Tile`, sharing its two full-size reductions. */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const grad = dy as tf.Tensor;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
    const eps = (attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon;
    const paramShape = mean.shape;
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const scaled = scale === undefined ? invStd : tf.mul(invStd, scale);
    // The two full-size reductions, shared by the mean/variance/scale/offset gradients. Computed
    // here, in the backward pass's scope: tensors made inside one gradient thunk are disposed
    // when it returns.
    const dySum = sumTo(grad, paramShape);
    const dyCentredSum = sumTo(tf.mul(grad, tf.sub(x, mean)), paramShape);
    const scaleOr1 = (t: tf.Tensor): tf.Tensor => (scale === undefined ? t : tf.mul(t, scale));
    return {
      x: () => tf.mul(grad, scaled),
      mean: () => tf.reshape(tf.neg(tf.mul(dySum, scaled)), paramShape),
      variance: () =>
        tf.reshape(tf.mul(scaleOr1(dyCentredSum), tf.mul(tf.pow(invStd, 3), -0.5)), paramShape),
      scale: () => tf.reshape(tf.mul(dyCentredSum, invStd), paramShape),
      offset: () => tf.reshape(dySum, paramShape),
    };
  },
};

/**
 * `Mean` gradient. Over leading axes (batch statistics), the broadcast of `dy / count` to the
 * input shape is an outer product `fill([rows, 1], 1/count) x dy[1, rest]`: one write of the
 * output (3 x faster on wasm than fill-then-multiply). Otherwise one `Fill` and one
 * broadcasting multiply.
 */
export const meanGradConfig: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
    const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
    const leading =
      axes.length < x.rank && [...axes].sort((a, b) => a - b).every((a, i) => a === i);
    return {
      x: () => {
        const g = dy as tf.Tensor;
        if (leading) {
          const rest = g.size;
          const outer = tf.matMul(tf.fill([count, 1], 1 / count), tf.reshape(g, [1, rest]));
          return tf.reshape(outer, x.shape);
        }
        return tf.mul(tf.reshape(g, expanded), tf.fill(x.shape, 1 / count));
      },
    };
  },
};

/**
 * `1` where `x` is inside `[min, max]` (bounds included), else `0`, from fast kernels:
 * `x - clip(x)` is zero exactly inside the range.
 */
function insideMask(x: tf.Tensor, clipped: tf.Tensor): tf.Tensor {
  return tf.sub(1, tf.step(tf.abs(tf.sub(x, clipped))));
}

/** `ClipByValue` gradient from the saved output: `dy` where `min <= x <= max`. */
export const clipByValueGradConfig: tf.GradConfig = {
  kernelName: tf.ClipByValue,
  inputsToSave: ['x'],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [x, y] = saved as [tf.Tensor, tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, insideMask(x, y)) };
  },
};

/** `x` as float32: `Cast` copies even to its own dtype (a full pass on wasm), so skip it then. */
function asFloat(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

/** `Relu` gradient: `dy * step(x)` (no comparison, no `Select`). */
export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, tf.step(asFloat(x))) };
  },
};

/** `Relu6` gradient: `dy` where `0 < x <= 6`, as `step(x) - step(x - 6)`. */
export const relu6GradConfig: tf.GradConfig = {
  kernelName: tf.Relu6,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    const xf = asFloat(x);
    return { x: () => tf.mul(dy as tf.Tensor, tf.sub(tf.step(xf), tf.step(tf.sub(xf, 6)))) };
  },
};

/** The overrides, in registration order. */
export const FAST_GRADIENTS: readonly tf.GradConfig[] = [
  fusedBatchNormGradConfig,
  meanGradConfig,
  clipByValueGradConfig,
  reluGradConfig,
  relu6GradConfig,
];

/**
 * Replaces tfjs-core's gradients of `FusedBatchNorm`, `Mean`, `ClipByValue`, `Relu` and
 * `Relu6` with formulations that avoid kernels slow on wasm (`Tile`, comparisons, `Select`,
 * `Cast`). Exact on every backend; uses only kernels tfjs-node registers.
 *
 * @returns The kernel names whose gradients were replaced.
 * @example
 * ```ts
 * registerFastGradients();
 * const g = tf.grad((x) => tf.relu6(x).sum())(tf.tensor1d([-1, 3, 7])); // [0, 1, 0]
 * ```
 */
export function registerFastGradients(): string[] {
  for (const config of FAST_GRADIENTS) tf.registerGradient(config);
  return FAST_GRADIENTS.map((c) => c.kernelName);
}
