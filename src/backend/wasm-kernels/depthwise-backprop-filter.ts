/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm. Each channel's filter gradient
 * `dW[i, j, c, m] = sum_{n, oh, ow} x[n, oh*s + i*d - top, ow*s + j*d - left, c] dy[n, oh, ow, c*M + m]`
 * is computed one of two ways:
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
import { type ConvGeometry, convGeometry, paddedWindow } from './conv-geometry.js';
import { pairAttr, tensorKernel } from './tensor-kernel.js';

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
  const strides = pairAttr(attrs.strides, 1);
  const dilations = pairAttr(attrs.dilations, 1);
  const g = convGeometry(
    x.shape,
    filterShape,
    strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
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

/** Kernel config registering {@link depthwiseBackpropFilterOps} for wasm. */
export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ x, dy }, attrs) =>
    depthwiseBackpropFilterOps(x as tf.Tensor4D, dy as tf.Tensor4D, attrs),
  ) as tf.KernelFunc,
};
