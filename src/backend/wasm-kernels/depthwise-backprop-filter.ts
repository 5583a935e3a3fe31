/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm. Each channel's filter gradient
 * `dW[i, j, c, m] = sum_{n, oh, ow} x[n, oh*s + i*d - top, ow*s + j*d - left, c] dy[n, oh, ow, c*M + m]`
 * is computed by tsfast's SIMD kernel ({@link depthwiseBackpropFilterHeap}) when the channel
 * multiplier is 1 (MobileNet's case): a loop over the heap, four channels per instruction,
 * 10-20 x faster than the tensor-op formulations below (XNNPACK runs those only through its
 * generic path, a kernel of `Ho x Wo` taps). Otherwise, from tensor ops, one of two ways:
 *
 * - Few channels (the large early layers of MobileNet): the dense convolution trick of
 *   `Conv2DBackpropFilter` (input `[C, Hp, Wp, N]`, output gradient as filter
 *   `[Ho, Wo, N, C*M]`) gives every input channel against every output channel, `[C, kh, kw,
 *   C*M]`; the depthwise gradient is its diagonal. `C` times the arithmetic needed, but in
 *   XNNPACK's fast convolution path, which wins while `C*M` is small.
 * - Otherwise: one depthwise convolution (XNNPACK) with the batch moved next to the channels:
 *   the padded input `[1, Hp, Wp, C*N]` convolved with the output gradient as filter
 *   `[Ho, Wo, C*N, M]` (stride and dilation swapped), then summed over the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { type ConvGeometry, convGeometry, paddedWindow, validRange } from './conv-geometry.js';
import { heapOrFallback } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';
import { tensorKernel } from './tensor-kernel.js';

/**
 * Largest `C*M` for which the dense-convolution formulation is used (it does `C` times the
 * arithmetic needed, but in XNNPACK's fast convolution; measured faster up to ~16 channels).
 */
export const DEPTHWISE_DENSE_MAX_CHANNELS = 16;

/**
 * Filter gradient of a depthwise 2D convolution from tf ops that run fast on wasm.
 *
 * @param x - Convolution input, NHWC.
 * @param dy - Gradient of the convolution output, NHWC with `C*M` channels.
 * @param attrs - `filterShape`, `strides`, `dilations`, `pad`, `dimRoundingMode`.
 * @returns The filter gradient `[kh, kw, C, M]`.
 * @internal
 */
export function depthwiseBackpropFilterOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: tf.NamedAttrMap,
): tf.Tensor4D {
  const filterShape = attrs.filterShape as number[];
  const g = convGeometry(x.shape, filterShape, attrs, true);
  const channels = x.shape[3] * filterShape[3]!;
  if (channels <= DEPTHWISE_DENSE_MAX_CHANNELS) {
    return byDenseConvolution(x, dy, g, filterShape[3]!);
  }
  return byBatchAsChannels(x, dy, g, filterShape[3]!);
}

function byDenseConvolution(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  g: ConvGeometry,
  m: number,
): tf.Tensor4D {
  const [kh, kw] = g.filter;
  const { strides, dilations } = g;
  const [, , , c] = x.shape;
  const [, outH, outW] = dy.shape;
  const size: [number, number] = [
    (kh - 1) * dilations[0] + (outH - 1) * strides[0] + 1,
    (kw - 1) * dilations[1] + (outW - 1) * strides[1] + 1,
  ];
  const xp = paddedWindow(x, [-g.padTop, -g.padLeft], size);
  const xt = tf.transpose(xp.x, [3, 1, 2, 0]); // [C, H, W, N], padded by the convolution
  const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, C*M]
  const trickDilations: [number, number] = [outH > 1 ? strides[0] : 1, outW > 1 ? strides[1] : 1];
  const trickStrides: [number, number] = [kh > 1 ? dilations[0] : 1, kw > 1 ? dilations[1] : 1];
  // Every input channel against every output channel: [C, kh, kw, C*M].
  const all = tf.conv2d(xt, dyt, trickStrides, xp.pad, 'NHWC', trickDilations);
  const perTap = tf.reshape(tf.transpose(all, [1, 2, 0, 3]), [kh * kw, c * c * m]);
  // Entry (c, c*M + k) of each tap's [C, C*M] block.
  const diag = new Int32Array(c * m);
  for (let ch = 0; ch < c; ch++) {
    for (let k = 0; k < m; k++) diag[ch * m + k] = ch * c * m + ch * m + k;
  }
  return tf.reshape(tf.gather(perTap, tf.tensor1d(diag, 'int32'), 1), [kh, kw, c, m]);
}

function byBatchAsChannels(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  g: ConvGeometry,
  m: number,
): tf.Tensor4D {
  const [kh, kw] = g.filter;
  const { strides, dilations } = g;
  const [n, , , c] = x.shape;
  const [, outH, outW] = dy.shape;
  const size: [number, number] = [
    (kh - 1) * dilations[0] + (outH - 1) * strides[0] + 1,
    (kw - 1) * dilations[1] + (outW - 1) * strides[1] + 1,
  ];
  const xp = paddedWindow(x, [-g.padTop, -g.padLeft], size);
  const [, ih, iw] = xp.x.shape;
  const xt = tf.reshape<tf.Rank.R4>(tf.transpose(xp.x, [1, 2, 3, 0]), [1, ih, iw, c * n]);
  const dyt = tf.reshape(tf.transpose(tf.reshape(dy, [n, outH, outW, c, m]), [1, 2, 3, 0, 4]), [
    outH,
    outW,
    c * n,
    m,
  ]);
  const trickDilations: [number, number] = [outH > 1 ? strides[0] : 1, outW > 1 ? strides[1] : 1];
  const trickStrides: [number, number] = [kh > 1 ? dilations[0] : 1, kw > 1 ? dilations[1] : 1];
  const out = tf.depthwiseConv2d(
    xt,
    dyt as tf.Tensor4D,
    trickStrides,
    xp.pad,
    'NHWC',
    trickDilations,
  ); // [1, kh, kw, C*N*M], channel index (c*N + n)*M + mm
  if (m === 1) {
    return tf.reshape(tf.sum(tf.reshape(out, [kh, kw, c, n]), 3), [kh, kw, c, 1]);
  }
  const perBatch = tf.transpose(tf.reshape(out, [kh, kw, c, n, m]), [0, 1, 2, 4, 3]);
  return tf.sum(perBatch, 4) as tf.Tensor4D;
}

/** Bytes of output-gradient rows processed together by {@link depthwiseBackpropFilterHeap}. */
const BLOCK_BYTES = 128 * 1024;

/**
 * Depthwise filter gradient (channel multiplier 1) by tsfast's SIMD kernel, on the wasm heap:
 * one call per filter tap sums `x * dy` over the batch and the output positions whose input
 * position lies inside `x` (padding contributes zero), four channels per instruction.
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param x - Convolution input, NHWC float32.
 * @param dy - Output gradient, NHWC float32 with the same channels.
 * @param g - Resolved geometry.
 * @returns The filter gradient `[kh, kw, C, 1]`, in a new tensor.
 * @internal
 */
export function depthwiseBackpropFilterHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const [kh, kw] = g.filter;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const out = backend.makeOutput([kh, kw, c, 1], 'float32');
  const xAddr = heapIndex(backend, x.dataId) * 4;
  const gAddr = heapIndex(backend, dy.dataId) * 4;
  const oAddr = heapIndex(backend, out.dataId) * 4;
  // Read the view after allocating: a grown heap replaces it.
  backend.wasm.HEAPF32.fill(0, oAddr >>> 2, (oAddr >>> 2) + kh * kw * c);
  const cb = c * 4;
  const cv = (c >> 2) * 16;
  const rowRanges = Array.from({ length: kh }, (_, i) =>
    validRange(outH, sh, i * dh - g.padTop, h),
  );
  const colRanges = Array.from({ length: kw }, (_, j) =>
    validRange(outW, sw, j * dw - g.padLeft, w),
  );
  // A block of output-gradient rows (~128 KB) and the input rows under it stay in cache while
  // all the taps read them: tap by tap over the whole tensor read it kh * kw times from memory.
  const block = Math.max(1, Math.floor(BLOCK_BYTES / (outW * cb)));
  for (let b = 0; b < n; b++) {
    const xb = xAddr + b * h * w * cb;
    const gb = gAddr + b * outH * outW * cb;
    for (let rb = 0; rb < outH; rb += block) {
      const re = Math.min(outH, rb + block);
      for (let i = 0; i < kh; i++) {
        const [r0, r1] = rowRanges[i]!;
        const a = Math.max(r0, rb);
        const e = Math.min(r1, re);
        if (e <= a) continue;
        const ih = a * sh + i * dh - g.padTop;
        for (let j = 0; j < kw; j++) {
          const [q0, q1] = colRanges[j]!;
          if (q1 <= q0) continue;
          const iw = q0 * sw + j * dw - g.padLeft;
          simd.dwFilterTap(
            xb + (ih * w + iw) * cb,
            gb + (a * outW + q0) * cb,
            oAddr + (i * kw + j) * cb,
            1,
            e - a,
            q1 - q0,
            cv,
            cb,
            (c >> 4) * 64,
            0,
            sh * w * cb,
            sw * cb,
            0,
            outW * cb,
            cb,
          );
        }
      }
    }
  }
  return out;
}

const byOps = tensorKernel(({ x, dy }, attrs) =>
  depthwiseBackpropFilterOps(x as tf.Tensor4D, dy as tf.Tensor4D, attrs),
);

/**
 * Kernel config for wasm: {@link depthwiseBackpropFilterHeap} for float32 tensors with channel
 * multiplier 1 (MobileNet's case) where the SIMD module runs, else
 * {@link depthwiseBackpropFilterOps}.
 */
export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: heapOrFallback(({ inputs, attrs = {} }, backend) => {
    const x = inputs.x!;
    const dy = inputs.dy!;
    const filterShape = attrs.filterShape as number[];
    if (filterShape[3] !== 1 || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
    const simd = simdKernels(backend);
    if (simd === undefined) return undefined;
    const g = convGeometry(x.shape, filterShape, attrs, true);
    return depthwiseBackpropFilterHeap(backend, simd, x, dy, g);
  }, byOps),
};
