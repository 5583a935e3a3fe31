/**
 * `Conv2DBackpropFilter` for wasm. NHWC float32 gradients with output channels a multiple of 4
 * and not too many channels run in tsfast's SIMD kernel ({@link conv2dBackpropFilterHeap}),
 * 1.2-3 x faster than the formulations below at the benchmark models' shapes. Otherwise, from
 * tensor ops, as one forward convolution (XNNPACK). With the batch moved
 * into the channel position, the filter gradient
 * `dW[i, j, ci, co] = sum_{n, oh, ow} x[n, oh*s + i*d - top, ow*s + j*d - left, ci] dy[n, oh, ow, co]`
 * is a convolution of the (padded) input, laid out `[Cin, H, W, N]`, with the output gradient,
 * laid out as a filter `[Ho, Wo, N, Cout]`: the forward stride becomes the dilation and the
 * forward dilation the stride. It costs about what the forward convolution costs. A 1x1
 * convolution with stride 1 (MobileNet's pointwise layers) is a single matrix product; on the
 * wasm heap it runs in the SIMD kernel over chunks of pixels
 * ({@link pointwiseFilterGradientHeap}), whatever its channel counts.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type ConvGeometry,
  convGeometry,
  paddedWindow,
  padToNhwc,
  shapeToNhwc,
  spatialWindow,
  toNhwc,
  validRange,
} from './conv-geometry.js';
import { heapOrFallback } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';
import { tensorKernel } from './tensor-kernel.js';

/**
 * Largest `Cin * Cout` for which the SIMD filter gradient is used. Measured (CPU ms, batch 32,
 * tensor ops -> SIMD): 3x3 3->32 at 64x64 28 -> 10, 3x3 32->64 at 32x32 74 -> 37, 3x3 3->8
 * stride 2 at 128x128 13 -> 4.4, 1x1 8->16 at 64x64 2.4 -> 0.9, 1x1 128->128 at 8x8
 * 2.5 -> 2.2; even at 256->256 at 4x4 (2.5 / 2.5), so XNNPACK's product is kept from there.
 */
export const SIMD_FILTER_MAX_CHANNEL_PRODUCT = 128 * 128;

/**
 * Largest input channel count for which a stride-1 filter gradient is one matrix product of
 * the shifted input windows (`[32, 64, 64, 3]` -> 32 channels: 44 -> 25 ms); with 32 input
 * channels the convolution below is faster (77 vs 83 ms).
 */
export const IM2COL_MAX_IN_CHANNELS = 4;

/**
 * Filter gradient of a 2D convolution from tf ops that run fast on wasm.
 *
 * @param x - Convolution input.
 * @param dy - Gradient of the convolution output.
 * @param attrs - `filterShape`, `strides`, `pad`, `dataFormat`, `dimRoundingMode` and an
 *   optional `dilations` (the tfjs kernel has none; used for completeness).
 * @returns The filter gradient `[kh, kw, Cin, Cout]`.
 * @internal
 */
export function conv2dBackpropFilterOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: tf.NamedAttrMap,
): tf.Tensor4D {
  const { dataFormat } = attrs;
  const filterShape = attrs.filterShape as number[];
  const xs = toNhwc(x, dataFormat);
  const dys = toNhwc(dy, dataFormat);
  const g = convGeometry(
    shapeToNhwc(x.shape, dataFormat),
    filterShape,
    { ...attrs, pad: padToNhwc(attrs.pad, dataFormat) },
    false,
  );
  const { strides, dilations } = g;
  const [kh, kw] = g.filter;
  const [n, outH, outW, cout] = dys.shape;
  const [, inH, inW, cin] = xs.shape;
  if (kh === 1 && kw === 1 && outH === inH && outW === inW && g.padTop === 0 && g.padLeft === 0) {
    // Pointwise: dW = x^T dy over all pixels.
    const xm = tf.reshape(xs, [n * inH * inW, cin]);
    const dym = tf.reshape(dys, [n * outH * outW, cout]);
    return tf.reshape(tf.matMul(xm, dym, true, false), [1, 1, cin, cout]);
  }
  // Rows of the padded input the gradient reads: (kh-1)*d + (Ho-1)*s + 1.
  const size: [number, number] = [
    (kh - 1) * dilations[0] + (outH - 1) * strides[0] + 1,
    (kw - 1) * dilations[1] + (outW - 1) * strides[1] + 1,
  ];
  if (strides[0] === 1 && strides[1] === 1 && cin <= IM2COL_MAX_IN_CHANNELS) {
    // Few input channels (an image's first layer): one product of the shifted windows, laid
    // out [kh*kw*Cin, N*Ho*Wo], with the output gradient [N*Ho*Wo, Cout]. XNNPACK runs the
    // convolution below poorly when its output has so few rows (Cin * kh * kw).
    const xt = tf.transpose(spatialWindow(xs, [-g.padTop, -g.padLeft], size), [3, 0, 1, 2]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = tf.slice(xt, [0, 0, i * dilations[0], j * dilations[1]], [cin, n, outH, outW]);
        taps.push(tf.reshape(tap, [cin, n * outH * outW]));
      }
    }
    const dym = tf.reshape(dys, [n * outH * outW, cout]);
    return tf.reshape(tf.matMul(tf.concat(taps, 0), dym), [kh, kw, cin, cout]);
  }
  const xp = paddedWindow(xs, [-g.padTop, -g.padLeft], size);
  const xt = tf.transpose(xp.x, [3, 1, 2, 0]); // [Cin, H, W, N], padded by the convolution
  const dyt = tf.transpose(dys, [1, 2, 0, 3]); // [Ho, Wo, N, Cout]
  // A dilation is meaningless along a filter dimension of size 1; tfjs also refuses
  // stride > 1 together with dilation > 1.
  const trickDilations: [number, number] = [outH > 1 ? strides[0] : 1, outW > 1 ? strides[1] : 1];
  const trickStrides: [number, number] = [kh > 1 ? dilations[0] : 1, kw > 1 ? dilations[1] : 1];
  const out = tf.conv2d(xt, dyt, trickStrides, xp.pad, 'NHWC', trickDilations); // [Cin, kh, kw, Cout]
  return tf.transpose(out, [1, 2, 0, 3]);
}

/**
 * Filter gradient of a 2D convolution (NHWC, output channels a multiple of 4) by tsfast's SIMD
 * kernel on the wasm heap: per filter tap, each input channel's values broadcast against the
 * output gradient's channels, 16 at a time, over the output positions whose input lies inside
 * `x` (padding contributes zero).
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param x - Convolution input, NHWC float32.
 * @param dy - Output gradient, NHWC float32.
 * @param g - Resolved geometry.
 * @returns The filter gradient `[kh, kw, Cin, Cout]`, in a new tensor.
 * @internal
 */
export function conv2dBackpropFilterHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const [, outH, outW, cout] = dy.shape as [number, number, number, number];
  const [kh, kw] = g.filter;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const out = backend.makeOutput([kh, kw, cin, cout], 'float32');
  const xAddr = heapIndex(backend, x.dataId) * 4;
  const gAddr = heapIndex(backend, dy.dataId) * 4;
  const oAddr = heapIndex(backend, out.dataId) * 4;
  // Read the view after allocating: a grown heap replaces it.
  backend.wasm.HEAPF32.fill(0, oAddr >>> 2, (oAddr >>> 2) + kh * kw * cin * cout);
  const xb = cin * 4;
  const gb = cout * 4;
  for (let i = 0; i < kh; i++) {
    const [r0, r1] = validRange(outH, sh, i * dh - g.padTop, h);
    if (r1 <= r0) continue;
    for (let j = 0; j < kw; j++) {
      const [q0, q1] = validRange(outW, sw, j * dw - g.padLeft, w);
      if (q1 <= q0) continue;
      const ih = r0 * sh + i * dh - g.padTop;
      const iw = q0 * sw + j * dw - g.padLeft;
      simd.convFilterTap(
        xAddr + (ih * w + iw) * xb,
        gAddr + (r0 * outW + q0) * gb,
        oAddr + (i * kw + j) * cin * gb,
        n,
        r1 - r0,
        q1 - q0,
        cin,
        gb,
        (cout >> 4) * 64,
        h * w * xb,
        sh * w * xb,
        sw * xb,
        outH * outW * gb,
        outW * gb,
        gb,
        4,
      );
    }
  }
  return out;
}

/**
 * Rows of a pointwise filter gradient summed per pass over the filter gradient: about 24 KB of
 * the output gradient (`rows * Cout` floats), within 16-64 rows, so the chunk stays in the L1
 * cache while every `2 x 16` block of the filter gradient is accumulated over it. Measured
 * (CPU ms, batch 16, chunk 16 / 32 / 128 rows): `[14, 14, 384] -> 384` 35 / 37 / 51,
 * `[56, 56, 96] -> 192` 76 / 69 / 82.
 * @internal
 */
export function pointwiseChunkRows(cout: number): number {
  return Math.min(64, Math.max(16, Math.floor(6144 / cout)));
}

/**
 * Filter gradient of a 1x1 convolution with stride 1 and no padding (MobileNet's pointwise
 * layers), `dW = x^T dy` over all `N*H*W` pixels, by the SIMD kernel on the wasm heap, the
 * pixels taken {@link pointwiseChunkRows} at a time. XNNPACK's product runs this with the
 * whole pixel axis as its inner dimension and streams it from memory for every block of
 * output rows (measured, CPU ms, batch 16, XNNPACK -> here: `[56, 56, 96] -> 192` 102 -> 69,
 * `[28, 28, 192] -> 384` 102 -> 68, `[14, 14, 384] -> 384` 39 -> 35, `[7, 7, 768] -> 768` 38 -> 38;
 * a machine shared with other jobs, so +-20 %).
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param x - Convolution input, NHWC float32.
 * @param dy - Output gradient, NHWC float32, the same pixels.
 * @returns The filter gradient `[1, 1, Cin, Cout]`, in a new tensor.
 * @internal
 */
export function pointwiseFilterGradientHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
): tf.TensorInfo {
  const cin = x.shape[3] as number;
  const cout = dy.shape[3] as number;
  const pixels = tf.util.sizeFromShape(x.shape) / cin;
  const out = backend.makeOutput([1, 1, cin, cout], 'float32');
  const xAddr = heapIndex(backend, x.dataId) * 4;
  const gAddr = heapIndex(backend, dy.dataId) * 4;
  const oAddr = heapIndex(backend, out.dataId) * 4;
  backend.wasm.HEAPF32.fill(0, oAddr >>> 2, (oAddr >>> 2) + cin * cout);
  const xb = cin * 4;
  const gb = cout * 4;
  const chunk = pointwiseChunkRows(cout);
  const full = Math.floor(pixels / chunk);
  const rest = pixels - full * chunk;
  const run = (xa: number, ga: number, chunks: number, rows: number): void => {
    simd.convFilterTap(
      xa,
      ga,
      oAddr,
      1,
      chunks,
      rows,
      cin,
      gb,
      (cout >> 4) * 64,
      0,
      rows * xb,
      xb,
      0,
      rows * gb,
      gb,
      4,
    );
  };
  if (full > 0) run(xAddr, gAddr, full, chunk);
  if (rest > 0) run(xAddr + full * chunk * xb, gAddr + full * chunk * gb, 1, rest);
  return out;
}

/** Whether a filter gradient is a pointwise one {@link pointwiseFilterGradientHeap} computes. */
function isPointwise(g: ConvGeometry, x: tf.TensorInfo, dy: tf.TensorInfo): boolean {
  return (
    g.filter[0] === 1 &&
    g.filter[1] === 1 &&
    g.strides[0] === 1 &&
    g.strides[1] === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    x.shape[1] === dy.shape[1] &&
    x.shape[2] === dy.shape[2]
  );
}

/**
 * Whether the SIMD kernel is used for a filter gradient: NHWC float32 with output channels a
 * multiple of 4, and `Cin * Cout` at most {@link SIMD_FILTER_MAX_CHANNEL_PRODUCT} (XNNPACK's
 * products win once both channel counts are large).
 * @internal
 */
export function useSimdFilterGradient(
  cin: number,
  cout: number,
  dataFormat: unknown,
  dtypes: string[],
): boolean {
  return (
    cout % 4 === 0 &&
    cin * cout <= SIMD_FILTER_MAX_CHANNEL_PRODUCT &&
    (dataFormat ?? 'NHWC') === 'NHWC' &&
    dtypes.every((d) => d === 'float32')
  );
}

const byOps = tensorKernel(({ x, dy }, attrs) =>
  conv2dBackpropFilterOps(x as tf.Tensor4D, dy as tf.Tensor4D, attrs),
);

/**
 * Kernel config for wasm: {@link conv2dBackpropFilterHeap} where
 * {@link useSimdFilterGradient} says so and the SIMD module runs, else
 * {@link conv2dBackpropFilterOps}.
 */
export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: heapOrFallback(({ inputs, attrs = {} }, backend) => {
    const x = inputs.x!;
    const dy = inputs.dy!;
    const filterShape = attrs.filterShape as number[];
    const simd = simdKernels(backend);
    if (simd === undefined) return undefined;
    const nhwc = (attrs.dataFormat ?? 'NHWC') === 'NHWC';
    if (filterShape[3]! % 4 === 0 && nhwc && x.dtype === 'float32' && dy.dtype === 'float32') {
      const g = convGeometry(x.shape, filterShape, attrs, false);
      if (isPointwise(g, x, dy)) return pointwiseFilterGradientHeap(backend, simd, x, dy);
    }
    const dtypes = [x.dtype, dy.dtype];
    if (!useSimdFilterGradient(filterShape[2]!, filterShape[3]!, attrs.dataFormat, dtypes)) {
      return undefined;
    }
    const g = convGeometry(x.shape, filterShape, attrs, false);
    return conv2dBackpropFilterHeap(backend, simd, x, dy, g);
  }, byOps),
};
