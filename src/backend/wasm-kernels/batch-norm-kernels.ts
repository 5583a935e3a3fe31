/**
 * BatchNorm (training mode) and ReLU6's backward as fused wasm kernels: each reads its
 * full-size inputs once or twice and writes its output once, instead of the five to seven
 * separate full-size kernels (pooling, depthwise scale-and-shift, square, multiply, add) the
 * tensor-op formulation runs per layer. MobileNet v1 0.75 at 224 px, batch 16: those kernels
 * took ~20 % of a training step (bench/train-step-profile.ts).
 *
 * The kernels are tsfast's own (`Tsfast*` names), registered for wasm only; the layers use
 * them when {@link hasFusedChannelKernels} says so and fall back to tensor ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { type HeapBackend, heapIndex, isHeapBackend } from './heap.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';
import type { KernelArgs } from './tensor-kernel.js';

/** BatchNorm forward with batch statistics: outputs `[y, mean, variance, rstd]`. */
export const BATCH_NORM_FORWARD = 'TsfastBatchNormForward';
/** BatchNorm backward: outputs `[dx, dGamma, dBeta]`. */
export const BATCH_NORM_BACKWARD = 'TsfastBatchNormBackward';
/**
 * BatchNorm's statistics half: outputs `[mean, variance]` of the input's slice. With
 * {@link BATCH_NORM_NORMALISE} it is {@link BATCH_NORM_FORWARD} split where data-parallel
 * threads exchange their statistics.
 */
export const BATCH_NORM_MOMENTS = 'TsfastBatchNormMoments';
/** BatchNorm's normalising half, from given statistics: outputs `[y, rstd]`. */
export const BATCH_NORM_NORMALISE = 'TsfastBatchNormNormalise';
/**
 * BatchNorm backward's reducing half: outputs `[sumDy, sumDyXc]` per channel. With
 * {@link BATCH_NORM_GRAD_INPUT} it is {@link BATCH_NORM_BACKWARD} split where data-parallel
 * threads exchange the two sums.
 */
export const BATCH_NORM_GRAD_SUMS = 'TsfastBatchNormGradSums';
/** BatchNorm backward's input gradient from the batch's `[meanDy, meanDyXc]`: outputs `dx`. */
export const BATCH_NORM_GRAD_INPUT = 'TsfastBatchNormGradInput';
/** ReLU6's gradient from its output: `dy` where `0 < y < 6`. */
export const RELU6_GRAD = 'TsfastRelu6Grad';

/**
 * tsfast's own kernels that run only on wasm: callers check {@link hasFusedChannelKernels}
 * and run tensor ops (kernels tfjs-node registers) on every other backend.
 */
export const WASM_ONLY_KERNELS: readonly string[] = [
  BATCH_NORM_FORWARD,
  BATCH_NORM_BACKWARD,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_GRAD_INPUT,
  RELU6_GRAD,
];

/**
 * Whether the fused channel kernels run for `x` on the active backend: wasm with tsfast's
 * SIMD module, float32, channels (last axis) a multiple of 4.
 * @param x - The tensor the kernel would read (its last axis is the channel axis).
 * @returns `true` when `tf.engine().runKernel(BATCH_NORM_FORWARD, ...)` and the others apply.
 * @example
 * ```ts
 * const x = tf.zeros([2, 4, 4, 8]);
 * if (hasFusedChannelKernels(x)) {
 *   // the wasm engine: BatchNorm and ReLU6 run their fused kernels
 * }
 * x.dispose();
 * ```
 */
export function hasFusedChannelKernels(x: tf.Tensor): boolean {
  if (x.dtype !== 'float32' || x.rank < 2 || (x.shape[x.rank - 1] as number) % 4 !== 0) {
    return false;
  }
  if (tf.getBackend() !== 'wasm' || tf.getKernel(BATCH_NORM_FORWARD, 'wasm') === undefined) {
    return false;
  }
  const backend = tf.backend();
  return isHeapBackend(backend) && simdKernels(backend) !== undefined;
}

function heapKernels(backend: tf.KernelBackend, name: string): [HeapBackend, SimdKernels] {
  const simd = isHeapBackend(backend) ? simdKernels(backend) : undefined;
  if (simd === undefined) {
    throw new Error(
      `${name}: needs the wasm backend with SIMD (check hasFusedChannelKernels() first).`,
    );
  }
  return [backend as HeapBackend, simd];
}

/** Byte address of a tensor's first value. */
function addr(backend: HeapBackend, t: tf.TensorInfo): number {
  return heapIndex(backend, t.dataId) * 4;
}

/** A float32 scratch vector of `n` values on the heap; the caller frees it. */
function scratch(backend: HeapBackend, n: number): tf.TensorInfo {
  return backend.makeOutput([n], 'float32');
}

/**
 * Writes the batch mean and biased variance of `x` viewed as `[m, c]` into `mean` and
 * `variance`: one pass of sums shifted by the first row (close to the mean, so the variance
 * keeps its precision even when the mean is large against the spread; float64 from the sums
 * on).
 */
function momentsInto(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  mean: tf.TensorInfo,
  variance: tf.TensorInfo,
  m: number,
  c: number,
): void {
  const shift = scratch(backend, c);
  const xi = addr(backend, x) >>> 2;
  const mi = addr(backend, mean) >>> 2;
  const vi = addr(backend, variance) >>> 2;
  const si = addr(backend, shift) >>> 2;
  let heap = backend.wasm.HEAPF32;
  // The shift (first row) in `shift`; the sums in `mean` and `variance`.
  heap.copyWithin(si, xi, xi + c);
  heap.fill(0, mi, mi + c);
  heap.fill(0, vi, vi + c);
  simd.colShiftedMoments(
    addr(backend, x),
    addr(backend, shift),
    addr(backend, mean),
    addr(backend, variance),
    m,
    c * 4,
  );
  heap = backend.wasm.HEAPF32;
  for (let i = 0; i < c; i++) {
    const s1 = heap[mi + i]!;
    heap[vi + i] = Math.max(0, (heap[vi + i]! - (s1 * s1) / m) / m);
    heap[mi + i] = heap[si + i]! + s1 / m;
  }
  backend.disposeData(shift.dataId);
}

/**
 * Writes `rstd = 1 / sqrt(variance + epsilon)` and `y = (x - mean) * gamma * rstd + beta`,
 * the statistics being given (this slice's or the whole batch's).
 */
function normaliseInto(
  backend: HeapBackend,
  simd: SimdKernels,
  io: Record<'x' | 'mean' | 'variance' | 'gamma' | 'beta' | 'y' | 'rstd', tf.TensorInfo>,
  epsilon: number,
  m: number,
  c: number,
): void {
  const scale = scratch(backend, c);
  const heap = backend.wasm.HEAPF32;
  const vi = addr(backend, io.variance) >>> 2;
  const ri = addr(backend, io.rstd) >>> 2;
  const si = addr(backend, scale) >>> 2;
  const gi = addr(backend, io.gamma) >>> 2;
  for (let i = 0; i < c; i++) {
    const r = 1 / Math.sqrt(heap[vi + i]! + epsilon);
    heap[ri + i] = r;
    heap[si + i] = heap[gi + i]! * r;
  }
  simd.normaliseRows(
    addr(backend, io.x),
    addr(backend, io.mean),
    addr(backend, scale),
    addr(backend, io.beta),
    addr(backend, io.y),
    m,
    c * 4,
  );
  backend.disposeData(scale.dataId);
}

/** Writes `sumDy = sum(dy)` and `sumDyXc = sum(dy * (x - mean))` per channel. */
function gradSumsInto(
  backend: HeapBackend,
  simd: SimdKernels,
  io: Record<'dy' | 'x' | 'mean' | 'sumDy' | 'sumDyXc', tf.TensorInfo>,
  m: number,
  c: number,
): void {
  const heap = backend.wasm.HEAPF32;
  const bi = addr(backend, io.sumDy) >>> 2;
  const gi = addr(backend, io.sumDyXc) >>> 2;
  heap.fill(0, bi, bi + c);
  heap.fill(0, gi, gi + c);
  simd.colGradSums(
    addr(backend, io.dy),
    addr(backend, io.x),
    addr(backend, io.mean),
    addr(backend, io.sumDy),
    addr(backend, io.sumDyXc),
    m,
    c * 4,
  );
}

/**
 * Writes `dx = gamma * rstd * (dy - meanDy - (x - mean) * rstd^2 * meanDyXc)`, the two means
 * (`means`: `[meanDy, meanDyXc]`, `2c` values) being the whole batch's.
 */
function gradInputInto(
  backend: HeapBackend,
  simd: SimdKernels,
  io: Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma' | 'means' | 'dx', tf.TensorInfo>,
  m: number,
  c: number,
): void {
  const coef = scratch(backend, 3 * c);
  const heap = backend.wasm.HEAPF32;
  const ni = addr(backend, io.means) >>> 2;
  const ri = addr(backend, io.rstd) >>> 2;
  const wi = addr(backend, io.gamma) >>> 2;
  const ci = addr(backend, coef) >>> 2;
  for (let i = 0; i < c; i++) {
    const r = heap[ri + i]!;
    const a = heap[wi + i]! * r;
    heap[ci + i] = a;
    heap[ci + c + i] = -a * r * r * heap[ni + c + i]!;
    heap[ci + 2 * c + i] = -a * heap[ni + i]!;
  }
  const coefAddr = addr(backend, coef);
  simd.batchNormGradRows(
    addr(backend, io.dy),
    addr(backend, io.x),
    addr(backend, io.mean),
    coefAddr,
    coefAddr + c * 4,
    coefAddr + 2 * c * 4,
    addr(backend, io.dx),
    m,
    c * 4,
  );
  backend.disposeData(coef.dataId);
}

/** Channels and rows of `x` viewed as `[m, c]`. */
function channelView(x: tf.TensorInfo): { c: number; m: number } {
  const c = x.shape[x.shape.length - 1] as number;
  return { c, m: tf.util.sizeFromShape(x.shape) / c };
}

/**
 * `[y, mean, variance, rstd]` of `x` viewed as `[M, C]`: {@link BATCH_NORM_MOMENTS} then
 * {@link BATCH_NORM_NORMALISE} in one call (the statistics are this tensor's).
 */
function batchNormForward(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_FORWARD);
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const epsilon = (args.attrs?.epsilon as number | undefined) ?? 1e-3;
  const { c, m } = channelView(x!);
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const rstd = backend.makeOutput([c], 'float32');
  const y = backend.makeOutput(x!.shape.slice(), 'float32');
  momentsInto(backend, simd, x!, mean, variance, m, c);
  normaliseInto(
    backend,
    simd,
    { x: x!, mean, variance, gamma: gamma!, beta: beta!, y, rstd },
    epsilon,
    m,
    c,
  );
  return [y, mean, variance, rstd];
}

/**
 * `[dx, dGamma, dBeta]` from `dy`, the input `x`, the batch `mean`, `rstd` and `gamma`
 * (PyTorch's closed form): `dBeta = sum(dy)`, `dGamma = sum(dy * (x - mean)) * rstd`,
 * `dx = gamma * rstd * (dy - mean(dy) - (x - mean) * rstd^2 * mean(dy * (x - mean)))`:
 * {@link BATCH_NORM_GRAD_SUMS} then {@link BATCH_NORM_GRAD_INPUT} in one call.
 */
function batchNormBackward(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_BACKWARD);
  const { dy, x, mean, rstd, gamma } = args.inputs as Record<string, tf.TensorInfo>;
  const { c, m } = channelView(x!);
  const dGamma = backend.makeOutput([c], 'float32');
  const dBeta = backend.makeOutput([c], 'float32');
  const means = scratch(backend, 2 * c);
  const dx = backend.makeOutput(x!.shape.slice(), 'float32');
  gradSumsInto(backend, simd, { dy: dy!, x: x!, mean: mean!, sumDy: dBeta, sumDyXc: dGamma }, m, c);
  const heap = backend.wasm.HEAPF32;
  const gi = addr(backend, dGamma) >>> 2;
  const bi = addr(backend, dBeta) >>> 2;
  const ni = addr(backend, means) >>> 2;
  for (let i = 0; i < c; i++) {
    heap[ni + i] = heap[bi + i]! / m;
    heap[ni + c + i] = heap[gi + i]! / m;
  }
  gradInputInto(
    backend,
    simd,
    { dy: dy!, x: x!, mean: mean!, rstd: rstd!, gamma: gamma!, means, dx },
    m,
    c,
  );
  // gradInputInto's scratch may have grown the heap: a fresh view.
  const after = backend.wasm.HEAPF32;
  const ri = addr(backend, rstd!) >>> 2;
  for (let i = 0; i < c; i++) after[gi + i] = after[gi + i]! * after[ri + i]!;
  backend.disposeData(means.dataId);
  return [dx, dGamma, dBeta];
}

/** `[mean, variance]` of `x` viewed as `[M, C]` (biased variance, as `tf.moments` gives). */
function batchNormMoments(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_MOMENTS);
  const { x } = args.inputs as Record<string, tf.TensorInfo>;
  const { c, m } = channelView(x!);
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  momentsInto(backend, simd, x!, mean, variance, m, c);
  return [mean, variance];
}

/** `[y, rstd]` from `x` and given statistics `mean`, `variance` (and `gamma`, `beta`). */
function batchNormNormalise(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_NORMALISE);
  const { x, mean, variance, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const epsilon = (args.attrs?.epsilon as number | undefined) ?? 1e-3;
  const { c, m } = channelView(x!);
  const rstd = backend.makeOutput([c], 'float32');
  const y = backend.makeOutput(x!.shape.slice(), 'float32');
  normaliseInto(
    backend,
    simd,
    { x: x!, mean: mean!, variance: variance!, gamma: gamma!, beta: beta!, y, rstd },
    epsilon,
    m,
    c,
  );
  return [y, rstd];
}

/** `[sumDy, sumDyXc]`: `sum(dy)` and `sum(dy * (x - mean))` per channel. */
function batchNormGradSums(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_GRAD_SUMS);
  const { dy, x, mean } = args.inputs as Record<string, tf.TensorInfo>;
  const { c, m } = channelView(x!);
  const sumDy = backend.makeOutput([c], 'float32');
  const sumDyXc = backend.makeOutput([c], 'float32');
  gradSumsInto(backend, simd, { dy: dy!, x: x!, mean: mean!, sumDy, sumDyXc }, m, c);
  return [sumDy, sumDyXc];
}

/** `dx` from `dy`, `x`, `mean`, `rstd`, `gamma` and the batch's `means` (`[meanDy, meanDyXc]`). */
function batchNormGradInput(args: KernelArgs): tf.TensorInfo {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_GRAD_INPUT);
  const { dy, x, mean, rstd, gamma, means } = args.inputs as Record<string, tf.TensorInfo>;
  const { c, m } = channelView(x!);
  if (tf.util.sizeFromShape(means!.shape) !== 2 * c) {
    throw new Error(
      `${BATCH_NORM_GRAD_INPUT}: means holds ${tf.util.sizeFromShape(means!.shape)} values, expected ${2 * c} (meanDy then meanDyXc per channel).`,
    );
  }
  const dx = backend.makeOutput(x!.shape.slice(), 'float32');
  gradInputInto(
    backend,
    simd,
    { dy: dy!, x: x!, mean: mean!, rstd: rstd!, gamma: gamma!, means: means!, dx },
    m,
    c,
  );
  return dx;
}

function relu6Grad(args: KernelArgs): tf.TensorInfo {
  const [backend, simd] = heapKernels(args.backend, RELU6_GRAD);
  const { dy, y } = args.inputs as Record<string, tf.TensorInfo>;
  const out = backend.makeOutput(y!.shape.slice(), 'float32');
  const bytes = tf.util.sizeFromShape(y!.shape) * 4;
  simd.relu6GradFromOutput(
    addr(backend, dy!),
    addr(backend, y!),
    addr(backend, out),
    bytes - (bytes % 16),
    bytes,
  );
  return out;
}

/** The fused channel kernels' configs (wasm). */
export const CHANNEL_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  {
    kernelName: BATCH_NORM_FORWARD,
    backendName: 'wasm',
    kernelFunc: batchNormForward as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_BACKWARD,
    backendName: 'wasm',
    kernelFunc: batchNormBackward as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_MOMENTS,
    backendName: 'wasm',
    kernelFunc: batchNormMoments as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_NORMALISE,
    backendName: 'wasm',
    kernelFunc: batchNormNormalise as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_GRAD_SUMS,
    backendName: 'wasm',
    kernelFunc: batchNormGradSums as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_GRAD_INPUT,
    backendName: 'wasm',
    kernelFunc: batchNormGradInput as unknown as tf.KernelFunc,
  },
  {
    kernelName: RELU6_GRAD,
    backendName: 'wasm',
    kernelFunc: relu6Grad as unknown as tf.KernelFunc,
  },
];
