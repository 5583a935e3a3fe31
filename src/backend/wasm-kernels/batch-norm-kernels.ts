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
/** ReLU6's gradient from its output: `dy` where `0 < y < 6`. */
export const RELU6_GRAD = 'TsfastRelu6Grad';

/**
 * tsfast's own kernels that run only on wasm: callers check {@link hasFusedChannelKernels}
 * and run tensor ops (kernels tfjs-node registers) on every other backend.
 */
export const WASM_ONLY_KERNELS: readonly string[] = [
  BATCH_NORM_FORWARD,
  BATCH_NORM_BACKWARD,
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

/**
 * `[y, mean, variance, rstd]` of `x` viewed as `[M, C]`: batch mean and biased variance from
 * one pass of sums shifted by the first row (close to the mean, so the variance keeps its
 * precision even when the mean is large against the spread; float64 from the sums on),
 * `rstd = 1 / sqrt(variance + epsilon)`, then `y = (x - mean) * gamma * rstd + beta`.
 */
function batchNormForward(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_FORWARD);
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const epsilon = (args.attrs?.epsilon as number | undefined) ?? 1e-3;
  const c = x!.shape[x!.shape.length - 1] as number;
  const m = tf.util.sizeFromShape(x!.shape) / c;
  const cb = c * 4;
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const rstd = backend.makeOutput([c], 'float32');
  const scale = backend.makeOutput([c], 'float32');
  const y = backend.makeOutput(x!.shape.slice(), 'float32');
  let heap = backend.wasm.HEAPF32;
  const xi = addr(backend, x!) >>> 2;
  const mi = addr(backend, mean) >>> 2;
  const vi = addr(backend, variance) >>> 2;
  const ri = addr(backend, rstd) >>> 2;
  const si = addr(backend, scale) >>> 2;
  const gi = addr(backend, gamma!) >>> 2;
  // The shift (first row) in `scale`; the sums in `mean` and `variance`.
  heap.copyWithin(si, xi, xi + c);
  heap.fill(0, mi, mi + c);
  heap.fill(0, vi, vi + c);
  simd.colShiftedMoments(
    addr(backend, x!),
    addr(backend, scale),
    addr(backend, mean),
    addr(backend, variance),
    m,
    cb,
  );
  heap = backend.wasm.HEAPF32;
  for (let i = 0; i < c; i++) {
    const s1 = heap[mi + i]!;
    const v = Math.max(0, (heap[vi + i]! - (s1 * s1) / m) / m);
    heap[mi + i] = heap[si + i]! + s1 / m;
    heap[vi + i] = v;
    const r = 1 / Math.sqrt(v + epsilon);
    heap[ri + i] = r;
    heap[si + i] = heap[gi + i]! * r;
  }
  simd.normaliseRows(
    addr(backend, x!),
    addr(backend, mean),
    addr(backend, scale),
    addr(backend, beta!),
    addr(backend, y),
    m,
    cb,
  );
  backend.disposeData(scale.dataId);
  return [y, mean, variance, rstd];
}

/**
 * `[dx, dGamma, dBeta]` from `dy`, the input `x`, the batch `mean`, `rstd` and `gamma`
 * (PyTorch's closed form): `dBeta = sum(dy)`, `dGamma = sum(dy * (x - mean)) * rstd`,
 * `dx = gamma * rstd * (dy - mean(dy) - (x - mean) * rstd^2 * mean(dy * (x - mean)))`.
 */
function batchNormBackward(args: KernelArgs): tf.TensorInfo[] {
  const [backend, simd] = heapKernels(args.backend, BATCH_NORM_BACKWARD);
  const { dy, x, mean, rstd, gamma } = args.inputs as Record<string, tf.TensorInfo>;
  const c = x!.shape[x!.shape.length - 1] as number;
  const m = tf.util.sizeFromShape(x!.shape) / c;
  const cb = c * 4;
  const dGamma = backend.makeOutput([c], 'float32');
  const dBeta = backend.makeOutput([c], 'float32');
  const coef = backend.makeOutput([3 * c], 'float32');
  const dx = backend.makeOutput(x!.shape.slice(), 'float32');
  backend.wasm.HEAPF32.fill(0, addr(backend, dGamma) >>> 2, (addr(backend, dGamma) >>> 2) + c);
  backend.wasm.HEAPF32.fill(0, addr(backend, dBeta) >>> 2, (addr(backend, dBeta) >>> 2) + c);
  simd.colGradSums(
    addr(backend, dy!),
    addr(backend, x!),
    addr(backend, mean!),
    addr(backend, dBeta),
    addr(backend, dGamma),
    m,
    cb,
  );
  const heap = backend.wasm.HEAPF32;
  const gi = addr(backend, dGamma) >>> 2;
  const bi = addr(backend, dBeta) >>> 2;
  const ri = addr(backend, rstd!) >>> 2;
  const wi = addr(backend, gamma!) >>> 2;
  const ci = addr(backend, coef) >>> 2;
  for (let i = 0; i < c; i++) {
    const sumDy = heap[bi + i]!;
    const sumDyXc = heap[gi + i]!;
    const r = heap[ri + i]!;
    const a = heap[wi + i]! * r;
    heap[ci + i] = a;
    heap[ci + c + i] = (-a * r * r * sumDyXc) / m;
    heap[ci + 2 * c + i] = (-a * sumDy) / m;
    heap[gi + i] = sumDyXc * r;
  }
  const coefAddr = addr(backend, coef);
  simd.batchNormGradRows(
    addr(backend, dy!),
    addr(backend, x!),
    addr(backend, mean!),
    coefAddr,
    coefAddr + cb,
    coefAddr + 2 * cb,
    addr(backend, dx),
    m,
    cb,
  );
  backend.disposeData(coef.dataId);
  return [dx, dGamma, dBeta];
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
    kernelName: RELU6_GRAD,
    backendName: 'wasm',
    kernelFunc: relu6Grad as unknown as tf.KernelFunc,
  },
];
