/**
 * BatchNorm in training mode as one differentiable op: batch statistics, normalisation and
 * the closed-form backward, each from the fewest full-size kernels.
 *
 * tfjs-layers' `BatchNormalization` computes the statistics with `tf.moments` (mean,
 * subtract, square, mean) and normalises with `tf.batchNorm`; its backward pass runs through
 * the gradient of every one of those kernels (about 20 full-size passes per layer and step,
 * four of them for a gradient that is exactly zero). Here the forward pass is 5 full-size
 * kernels and the backward 7 (it recentres the saved input rather than keeping a centred copy), with PyTorch's closed form
 * (`xhat = (x - mean) * rstd`, `dgamma = sum(dy * xhat)`, `dbeta = sum(dy)`,
 * `dx = gamma * rstd / N * (N * dy - dbeta - xhat * dgamma)`).
 *
 * Which kernels (measured on wasm, CPU time per call at 1 M values, `[32, 64, 64, 8]`): a
 * per-channel scale-and-shift as a 1x1 depthwise convolution with a bias (XNNPACK) takes
 * ~0.4 ms, a broadcasting multiply ~1.9 ms, `FusedBatchNorm` (a scalar loop) ~3.7 ms, while a
 * same-shape multiply or add takes ~0.2 ms; a mean over the batch axes as one `AvgPool` window
 * covering the whole batch (XNNPACK) takes ~0.2 ms (the package's `Sum` over axis 0 of
 * `[N*H*W, C]` transposes first: 1.6-9 ms; tsfast's own `Sum` kernel for leading axes, when
 * registered, is close to the pooling). So on wasm (`'pooling'`) batch means are `AvgPool`
 * and per-channel affine maps `FusedDepthwiseConv2D`; elsewhere (`'reduce'`: tfjs-node's
 * native kernels, the cpu backend) the same formulas use `Mean` and broadcasting
 * arithmetic. Both use only kernels that tfjs-node registers.
 */
import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_BACKWARD,
  BATCH_NORM_FORWARD,
  BATCH_NORM_GRAD_INPUT,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  engineAccelerations,
  hasFusedChannelKernels,
} from '../../backend/index.js';
import { allReduceMeanHook, allReduceMomentsHook } from '../../core/all-reduce.js';
import { invalidValue } from '../../core/errors.js';

/**
 * How {@link batchNormTraining} reduces and broadcasts per channel: `'fused'` is tsfast's
 * two wasm kernels (statistics and normalisation in one, the backward in one; wasm with SIMD,
 * channels a multiple of 4; in data-parallel training each runs as its two halves with the
 * threads' exchange between them), `'pooling'` and `'reduce'` are tensor-op formulations.
 */
export type BatchNormKernels = 'fused' | 'pooling' | 'reduce';

/** What {@link batchNormTraining} returns; the caller disposes the three tensors. */
export interface BatchNormTrainingResult {
  /** The normalised, scaled and shifted input (differentiable). */
  y: tf.Tensor;
  /** Batch mean per channel `[C]` (not differentiable). */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel `[C]` (not differentiable), as `tf.moments` gives. */
  variance: tf.Tensor1D;
}

/** Options of {@link batchNormTraining}. */
export interface BatchNormTrainingOptions {
  /**
   * Added to the variance before the square root.
   * @defaultValue 1e-3
   */
  epsilon?: number;
  /**
   * Kernel formulation: `'fused'` (tsfast's fused wasm kernels, fastest; only where they run:
   * wasm with SIMD, float32, channels a multiple of 4), `'pooling'` (XNNPACK average pooling
   * and depthwise convolutions) or `'reduce'` (`Mean` and broadcasting arithmetic). Defaults
   * to `'fused'` where it runs, else `'pooling'` on the wasm backend, `'reduce'` elsewhere.
   * @defaultValue by backend
   */
  kernels?: BatchNormKernels;
}

/**
 * The default formulation for the active backend.
 * @internal
 */
export function defaultBatchNormKernels(): BatchNormKernels {
  return engineAccelerations().batchNormKernels;
}

/**
 * Per-channel reductions and affine maps over a `[M, C]` view of the input, in one of the
 * two formulations. `view` is the input reshaped once; the helpers keep that layout.
 */
interface ChannelOps {
  /** Reshapes a tensor of the input's size to the working layout. */
  view(t: tf.Tensor): tf.Tensor;
  /** Mean over everything but the channel axis, `[C]`. */
  channelMean(t: tf.Tensor): tf.Tensor1D;
  /** `t * scale[c] + shift[c]` (shift optional), in the working layout. */
  affine(t: tf.Tensor, scale: tf.Tensor1D | null, shift: tf.Tensor1D | null): tf.Tensor;
}

/**
 * The 4-D view the pooling formulation works on, batch axis first (so allocations keep the
 * batch as their leading dimension): `[N, H, W, C]` as is, `[N, L, C]` as `[N, L, 1, C]`,
 * higher ranks with the trailing spatial axes merged, `[N, C]` as `[1, N, 1, C]`.
 * @internal
 */
export function poolingView(shape: readonly number[]): [number, number, number, number] {
  const c = shape[shape.length - 1] as number;
  if (shape.length === 2) return [1, shape[0] as number, 1, c];
  const inner = shape.slice(2, -1).reduce((p, d) => p * d, 1);
  return [shape[0] as number, shape[1] as number, inner, c];
}

function poolingOps(xShape: readonly number[], c: number): ChannelOps {
  const shape = poolingView(xShape);
  const [n, p, q] = shape;
  return {
    view: (t) => tf.reshape(t, shape),
    // One window per example, then one over the examples: a mean of equal-sized means.
    channelMean: (t) => {
      let pooled = tf.avgPool(t as tf.Tensor4D, [p, q], 1, 'valid');
      if (n > 1) pooled = tf.avgPool(tf.reshape(pooled, [1, n, 1, c]), [n, 1], 1, 'valid');
      return tf.reshape(pooled, [c]);
    },
    affine: (t, scale, shift) => {
      const filter = tf.reshape(scale ?? tf.ones([c]), [1, 1, c, 1]) as tf.Tensor4D;
      return tf.fused.depthwiseConv2d({
        x: t as tf.Tensor4D,
        filter,
        strides: 1,
        pad: 'valid',
        ...(shift === null ? {} : { bias: shift }),
      });
    },
  };
}

function reduceOps(m: number, c: number): ChannelOps {
  return {
    view: (t) => tf.reshape(t, [m, c]),
    channelMean: (t) => tf.mean(t, 0) as tf.Tensor1D,
    affine: (t, scale, shift) => {
      const scaled = scale === null ? t : tf.mul(t, scale);
      return shift === null ? scaled : tf.add(scaled, shift);
    },
  };
}

/**
 * Batch normalisation in training mode over every axis but the last: normalises `x` with the
 * batch's mean and (biased) variance, then scales by `gamma` and shifts by `beta`, as
 * tfjs-layers' `BatchNormalization` does when called with `training: true`. Differentiable
 * with respect to `x`, `gamma` and `beta` (one `tf.customGrad` op with the closed-form
 * backward); `mean` and `variance` are returned for the moving averages.
 *
 * @param x - Input, channels last, rank >= 2.
 * @param gamma - Scale `[C]`, or `null` for none.
 * @param beta - Shift `[C]`, or `null` for none.
 * @param options - Epsilon and kernel formulation.
 * @returns `y` (same shape as `x`) and the batch `mean` and `variance`; the caller disposes
 *   all three.
 * @throws {@link ValueError} if `x` has rank < 2, `gamma`/`beta` do not have shape `[C]`, or
 *   `epsilon` is not a non-negative number.
 * @example
 * ```ts
 * const x = tf.randomNormal([8, 4, 4, 3]);
 * const gamma = tf.tensor1d([1, 1, 1]);
 * const beta = tf.tensor1d([0, 0, 0]);
 * const { y, mean, variance } = batchNormTraining(x, gamma, beta);
 * // y: [8, 4, 4, 3]; mean, variance: [3]. Dispose all three.
 * ```
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  options: BatchNormTrainingOptions = {},
): BatchNormTrainingResult {
  return batchNormTrainingOp(x, gamma, beta, options);
}

function batchNormTrainingImpl(
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  options: BatchNormTrainingOptions = {},
): BatchNormTrainingResult {
  const epsilon = options.epsilon ?? 1e-3;
  if (!(epsilon >= 0)) throw invalidValue('epsilon', 'a non-negative number', epsilon);
  const fused = hasFusedChannelKernels(x);
  const kernels = options.kernels ?? (fused ? 'fused' : defaultBatchNormKernels());
  if (kernels !== 'fused' && kernels !== 'pooling' && kernels !== 'reduce') {
    throw invalidValue('kernels', "'fused', 'pooling' or 'reduce'", kernels);
  }
  if (kernels === 'fused' && !fused) {
    throw invalidValue(
      'kernels',
      "'pooling' or 'reduce' here ('fused' needs the wasm engine with SIMD, float32 and channels a multiple of 4)",
      kernels,
    );
  }
  if (x.rank < 2) throw invalidValue('x rank', 'at least 2 (channels last)', x.rank);
  const c = x.shape[x.rank - 1] as number;
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t !== null && (t.rank !== 1 || t.shape[0] !== c)) {
      throw invalidValue(`${name} shape`, `[${c}] (the channels of x)`, `[${t.shape.join(', ')}]`);
    }
  }
  const m = x.size / c;
  if (kernels === 'fused') {
    // Data-parallel threads exchange the statistics between a fused kernel's two halves: the
    // same kernels run split, with the exchange in between.
    return allReduceMeanHook() === undefined
      ? fusedBatchNorm(x, gamma, beta, c, epsilon)
      : splitBatchNorm(x, gamma, beta, c, m, epsilon);
  }
  const ops = kernels === 'pooling' ? poolingOps(x.shape, c) : reduceOps(m, c);
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const xv = ops.view(xIn);
    const mu = syncedMeans(ops.channelMean(xv), m);
    const xc = ops.affine(xv, null, tf.neg(mu));
    // Full-size temporaries are freed as soon as they are reduced: a layer's forward and
    // backward passes then hold two or three activations at a time, not five or six.
    const v = syncedMeans(
      tf.tidy(() => ops.channelMean(tf.square(xc))),
      m,
    );
    const rstd = tf.rsqrt(tf.add(v, epsilon)) as tf.Tensor1D;
    const scale = gamma === null ? rstd : (tf.mul(g, rstd) as tf.Tensor1D);
    const y = ops.affine(xc, scale, beta === null ? null : b);
    mean = tf.keep(mu);
    variance = tf.keep(v);
    // The input, not the centred input: the layer before (a convolution's output, which the
    // convolution's own gradient keeps) already holds it, so saving it costs no memory, while
    // a saved `xc` would be one more activation-sized tensor per layer. The backward pass
    // recentres it in one affine kernel.
    save([xIn, mu, rstd, g]);
    return {
      value: tf.reshape(y, xIn.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xS, muS, rstdS, gS] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const xcS = ops.affine(ops.view(xS), null, tf.neg(muS) as tf.Tensor1D);
        const dyv = ops.view(dy);
        // Means over the batch: dbeta / M and sum(dy * (x - mean)) / M.
        const dyMeanOwn = ops.channelMean(dyv);
        const dyXcMeanOwn = tf.tidy(() => ops.channelMean(tf.mul(dyv, xcS)));
        // In a data-parallel step dx needs the whole batch's means (the statistics are the
        // whole batch's); dgamma and dbeta stay this slice's share, summed with the others'.
        const [dyMean, dyXcMean] = syncedMeanPair(dyMeanOwn, dyXcMeanOwn, m);
        const rstd2 = tf.square(rstdS);
        // dx = gamma * rstd * (dy - dyMean - xc * rstd^2 * dyXcMean)
        const k = ops.affine(
          xcS,
          tf.neg(tf.mul(rstd2, dyXcMean)) as tf.Tensor1D,
          tf.neg(dyMean) as tf.Tensor1D,
        );
        xcS.dispose();
        const sum = tf.add(dyv, k);
        k.dispose();
        const a = gamma === null ? rstdS : tf.mul(gS, rstdS);
        const dx = tf.reshape(ops.affine(sum, a as tf.Tensor1D, null), dy.shape);
        sum.dispose();
        const dGamma = tf.mul(tf.mul(dyXcMeanOwn, rstdS), m);
        const dBeta = tf.mul(dyMeanOwn, m);
        return [dx, dGamma, dBeta];
      },
    };
  });
  // customGrad takes tensors only: stand-ins for a missing scale or shift (their gradients
  // are computed and dropped).
  const y = withScaleShift(op, x, gamma, beta, c);
  // The forward function ran synchronously inside `op` and set both.
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * Runs a formulation's gradient op with a scale and shift always present (ones and zeros stand
 * in for a layer without them, so each op has one signature), freeing the stand-ins after.
 */
function withScaleShift(
  op: (x: tf.Tensor, scale: tf.Tensor1D, shift: tf.Tensor1D) => tf.Tensor,
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  c: number,
): tf.Tensor {
  const scaleIn = gamma ?? tf.ones<tf.Rank.R1>([c]);
  const shiftIn = beta ?? tf.zeros<tf.Rank.R1>([c]);
  const y = op(x, scaleIn, shiftIn);
  if (gamma === null) scaleIn.dispose();
  if (beta === null) shiftIn.dispose();
  return y;
}

/**
 * The `'fused'` formulation: one wasm kernel forward (statistics, normalisation), one
 * backward, with the same saved tensors (the input, mean, rstd, gamma) as the others.
 */
function fusedBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  c: number,
  epsilon: number,
): BatchNormTrainingResult {
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, mu, v, rstd] = tf
      .engine()
      .runKernel(BATCH_NORM_FORWARD, { x: xIn, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
    mean = tf.keep(mu as tf.Tensor1D);
    variance = tf.keep(v as tf.Tensor1D);
    save([xIn, mu!, rstd!, g]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xS, muS, rstdS, gS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf
          .engine()
          .runKernel(
            BATCH_NORM_BACKWARD,
            { dy, x: xS, mean: muS, rstd: rstdS, gamma: gS },
            {},
          ) as tf.Tensor[];
      },
    };
  });
  const y = withScaleShift(op, x, gamma, beta, c);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * The `'fused'` formulation under a cross-thread hook (data-parallel training): the fused
 * kernels' halves, statistics then normalisation forward and per-channel sums then the input
 * gradient backward, with one exchange between the halves of each. At one thread (with a
 * pass-through hook) it gives {@link fusedBatchNorm}'s values bit for bit.
 */
function splitBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  c: number,
  m: number,
  epsilon: number,
): BatchNormTrainingResult {
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [muOwn, vOwn] = tf
      .engine()
      .runKernel(BATCH_NORM_MOMENTS, { x: xIn }, {}) as tf.Tensor1D[];
    const [mu, v] = syncedMoments(muOwn!, vOwn!, m);
    const [y, rstd] = tf
      .engine()
      .runKernel(
        BATCH_NORM_NORMALISE,
        { x: xIn, mean: mu, variance: v, gamma: g, beta: b },
        { epsilon },
      ) as tf.Tensor[];
    mean = tf.keep(mu);
    variance = tf.keep(v);
    save([xIn, mu, rstd!, g]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xS, muS, rstdS, gS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const [sumDy, sumDyXc] = tf
          .engine()
          .runKernel(BATCH_NORM_GRAD_SUMS, { dy, x: xS, mean: muS }, {}) as tf.Tensor1D[];
        // dx needs the whole batch's two means; dgamma and dbeta stay this slice's share,
        // summed with the other slices' gradients afterwards.
        const means = syncedGradMeans(sumDy!, sumDyXc!, m);
        const dx = tf
          .engine()
          .runKernel(
            BATCH_NORM_GRAD_INPUT,
            { dy, x: xS, mean: muS, rstd: rstdS, gamma: gS, means },
            {},
          ) as tf.Tensor;
        means.dispose();
        const dGamma = tf.mul(sumDyXc!, rstdS);
        sumDyXc!.dispose();
        return [dx, dGamma, sumDy!];
      },
    };
  });
  const y = withScaleShift(op, x, gamma, beta, c);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

// This slice's mean and biased variance replaced by the whole batch's: in one exchange
// through the moments hook when one is installed, else in two through the mean hook (the
// batch mean, then each slice's variance plus its mean's squared distance to the batch mean).
function syncedMoments(mu: tf.Tensor1D, v: tf.Tensor1D, count: number): [tf.Tensor1D, tf.Tensor1D] {
  const reduce = allReduceMeanHook();
  if (reduce === undefined) return [mu, v];
  const muOwn = mu.dataSync() as Float32Array;
  const vOwn = v.dataSync() as Float32Array;
  mu.dispose();
  v.dispose();
  const moments = allReduceMomentsHook();
  if (moments !== undefined) {
    const [muAll, vAll] = moments(muOwn, vOwn, count);
    return [tf.tensor1d(muAll), tf.tensor1d(vAll)];
  }
  const muAll = reduce(muOwn, count);
  const spread = new Float32Array(muOwn.length);
  for (let i = 0; i < spread.length; i++) {
    const d = (muOwn[i] as number) - (muAll[i] as number);
    spread[i] = (vOwn[i] as number) + d * d;
  }
  return [tf.tensor1d(muAll), tf.tensor1d(reduce(spread, count))];
}

// `[mean(dy), mean(dy * (x - mean))]` per channel over the whole batch, from this slice's
// sums over `count` samples, as one `[2C]` tensor (one exchange).
function syncedGradMeans(sumDy: tf.Tensor1D, sumDyXc: tf.Tensor1D, count: number): tf.Tensor1D {
  const c = sumDy.size;
  const a = sumDy.dataSync() as Float32Array;
  const b = sumDyXc.dataSync() as Float32Array;
  const own = new Float32Array(2 * c);
  for (let i = 0; i < c; i++) {
    own[i] = (a[i] as number) / count;
    own[c + i] = (b[i] as number) / count;
  }
  const reduce = allReduceMeanHook();
  return tf.tensor1d(reduce === undefined ? own : reduce(own, count));
}

// Per-channel means over this thread's `count` samples, replaced by the whole batch's when a
// data-parallel step installed the cross-thread hook (synchronised BatchNorm).
function syncedMeans(own: tf.Tensor1D, count: number): tf.Tensor1D {
  const reduce = allReduceMeanHook();
  if (reduce === undefined) return own;
  const all = tf.tensor1d(reduce(own.dataSync() as Float32Array, count));
  own.dispose();
  return all;
}

// Two statistics in one cross-thread exchange (one barrier instead of two).
function syncedMeanPair(a: tf.Tensor1D, b: tf.Tensor1D, count: number): [tf.Tensor1D, tf.Tensor1D] {
  const reduce = allReduceMeanHook();
  if (reduce === undefined) return [a, b];
  const c = a.size;
  const both = new Float32Array(2 * c);
  both.set(a.dataSync() as Float32Array, 0);
  both.set(b.dataSync() as Float32Array, c);
  const all = reduce(both, count);
  return [tf.tensor1d(all.subarray(0, c)), tf.tensor1d(all.subarray(c))];
}

/** As an op: profiles list it as `batchNormTraining__op`, tensors made inside are scoped. */
const batchNormTrainingOp = tf.op({ batchNormTraining: batchNormTrainingImpl });
