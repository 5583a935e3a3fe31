/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm, as one depthwise convolution (XNNPACK).
 * Each channel's filter gradient
 * `dW[i, j, c, m] = sum_{n, oh, ow} x[n, oh*s + i*d - top, ow*s + j*d - left, c] dy[n, oh, ow, c*M + m]`
 * is a correlation summed over the batch. Moving the batch next to the channel turns it into a
 * depthwise convolution over `N*C` channels of the padded input `[1, Hp, Wp, C*N]` with the
 * output gradient as filter `[Ho, Wo, C*N, M]` (stride and dilation swapped), followed by a sum
 * over the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { convGeometry, spatialWindow } from './conv-geometry.js';
import { pairAttr, tensorKernel } from './tensor-kernel.js';

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
  const [kh, kw] = g.filter;
  const [n, , , c] = x.shape;
  const m = filterShape[3]!;
  const [, outH, outW] = dy.shape;
  const size: [number, number] = [
    (kh - 1) * dilations[0] + (outH - 1) * strides[0] + 1,
    (kw - 1) * dilations[1] + (outW - 1) * strides[1] + 1,
  ];
  const xp = spatialWindow(x, [-g.padTop, -g.padLeft], size);
  const xt = tf.reshape<tf.Rank.R4>(tf.transpose(xp, [1, 2, 3, 0]), [1, size[0], size[1], c * n]);
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
    'valid',
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
