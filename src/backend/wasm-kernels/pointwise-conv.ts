/**
 * Forward 1x1 convolutions (stride 1, no padding, no bias, linear: MobileNet's pointwise
 * layers in training, where BatchNorm follows) in tsfast's SIMD product kernel, which runs
 * with relaxed SIMD's fused multiply-add (see `useFusedMultiplyAdd`): XNNPACK's convolution
 * multiplies and adds separately. Other convolutions go to the wasm package's kernels.
 */
import type * as tf from '@tensorflow/tfjs';
import { convGeometry } from './conv-geometry.js';
import type { KernelFn } from './dispatch.js';
import { type HeapBackend, heapIndex, isHeapBackend } from './heap.js';
import { type SimdKernels, simdKernels, useFusedMultiplyAdd } from './simd-kernels.js';
import type { KernelArgs } from './tensor-kernel.js';

/** Input channels summed per pass: those rows of the filter stay in cache. */
const CHANNEL_CHUNK = 64;

/**
 * `out = a b` for `a` `[pixels, k]` and `b` `[k, m]` (`m` a multiple of 4), row-major on the
 * heap, in the SIMD product kernel: two rows by 16 columns in registers, `k`
 * {@link CHANNEL_CHUNK} at a time (those rows of `b` stay in cache). A 1x1 convolution's
 * forward (`x W`) and input gradient (`dy W^T`) are both this product.
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param a - Left operand, `pixels * k` floats.
 * @param b - Right operand, `k * m` floats.
 * @param out - Output, `pixels * m` floats (overwritten).
 * @param pixels - Rows of `a`.
 * @param k - Columns of `a`, rows of `b`.
 * @param m - Columns of `b`.
 * @internal
 */
export function pixelProductHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  out: tf.TensorInfo,
  pixels: number,
  k: number,
  m: number,
): void {
  const aAddr = heapIndex(backend, a.dataId) * 4;
  const bAddr = heapIndex(backend, b.dataId) * 4;
  const oAddr = heapIndex(backend, out.dataId) * 4;
  // Read the view after allocating: a grown heap replaces it.
  backend.wasm.HEAPF32.fill(0, oAddr >>> 2, (oAddr >>> 2) + pixels * m);
  for (let k0 = 0; k0 < k; k0 += CHANNEL_CHUNK) {
    simd.convFilterTap(
      aAddr + k0 * 4,
      bAddr + k0 * m * 4,
      oAddr,
      1,
      1,
      Math.min(CHANNEL_CHUNK, k - k0),
      pixels,
      m * 4,
      (m >> 4) * 64,
      0,
      0,
      4,
      0,
      0,
      m * 4,
      k * 4,
    );
  }
}

/**
 * `y = x W` per pixel for a 1x1 convolution: two pixels by 16 output channels in registers,
 * the input channels {@link CHANNEL_CHUNK} at a time.
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param x - Input, NHWC float32.
 * @param filter - Filter `[1, 1, Cin, Cout]`, float32, `Cout` a multiple of 4.
 * @returns The output `[N, H, W, Cout]`, in a new tensor.
 * @internal
 */
export function pointwiseConvHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
): tf.TensorInfo {
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const cout = filter.shape[3] as number;
  const pixels = n * h * w;
  const out = backend.makeOutput([n, h, w, cout], 'float32');
  pixelProductHeap(backend, simd, x, filter, out, pixels, cin, cout);
  return out;
}

/**
 * Whether {@link pointwiseConvHeap} computes this convolution: NHWC float32, filter 1x1 with
 * output channels a multiple of 4, stride 1, no padding, no bias or PReLU weights, linear
 * activation, `'same'` or `'valid'` padding, and the fused multiply-add available (without
 * it XNNPACK is as fast).
 */
function handles(args: KernelArgs): boolean {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const attrs = args.attrs ?? {};
  if (x === undefined || filter === undefined || bias != null || preluActivationWeights != null) {
    return false;
  }
  if ((attrs.activation ?? 'linear') !== 'linear' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') {
    return false;
  }
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4) return false;
  if (filter.shape[0] !== 1 || filter.shape[1] !== 1 || (filter.shape[3] as number) % 4 !== 0) {
    return false;
  }
  const g = convGeometry(x.shape, filter.shape, attrs, false);
  return (
    g.strides[0] === 1 &&
    g.strides[1] === 1 &&
    g.dilations[0] === 1 &&
    g.dilations[1] === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    // A 1x1 filter pads nothing with 'same' or 'valid'; explicit padding may add rows.
    (attrs.pad === 'same' || attrs.pad === 'valid')
  );
}

/**
 * Wraps the package's `Conv2D` or `FusedConv2D`: pointwise convolutions it handles go to
 * {@link pointwiseConvHeap}, the rest to the package's kernel.
 *
 * @param original - The package's kernel config.
 * @returns The wrapping config.
 * @internal
 */
export function pointwiseConvKernel(original: tf.KernelConfig): tf.KernelConfig {
  const run = original.kernelFunc as unknown as KernelFn;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    if (isHeapBackend(args.backend) && useFusedMultiplyAdd() && handles(args)) {
      const simd = simdKernels(args.backend);
      if (simd !== undefined) {
        return pointwiseConvHeap(args.backend, simd, args.inputs.x!, args.inputs.filter!);
      }
    }
    return run(args);
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
