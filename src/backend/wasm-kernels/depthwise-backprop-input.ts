/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm, as one depthwise convolution (XNNPACK): the
 * output gradient, spread back onto the input grid (zeros between pixels for stride > 1) and
 * padded, convolved per channel with the filter rotated by 180 degrees; with a channel
 * multiplier `M > 1`, the `M` results of each input channel are then summed.
 */
import * as tf from '@tensorflow/tfjs';
import { convGeometry, insertZeros, paddedWindow } from './conv-geometry.js';
import { pairAttr, tensorKernel } from './tensor-kernel.js';

/**
 * Input gradient of a depthwise 2D convolution from tf ops that run fast on wasm.
 *
 * @param dy - Gradient of the convolution output, NHWC with `C*M` channels.
 * @param filter - Depthwise filter `[kh, kw, C, M]`.
 * @param attrs - `inputShape`, `strides`, `dilations`, `pad`, `dimRoundingMode`.
 * @returns The input gradient, shaped `inputShape`.
 * @internal
 */
export function depthwiseBackpropInputOps(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: tf.NamedAttrMap,
): tf.Tensor4D {
  const inputShape = attrs.inputShape as number[];
  const strides = pairAttr(attrs.strides, 1);
  const dilations = pairAttr(attrs.dilations, 1);
  const g = convGeometry(
    inputShape,
    filter.shape,
    strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = filter.shape;
  const [n, h, w] = inputShape as [number, number, number];
  const reachH = (kh - 1) * dilations[0];
  const reachW = (kw - 1) * dilations[1];
  const spread = insertZeros(dy, strides);
  const dyp = paddedWindow(
    spread,
    [g.padTop - reachH, g.padLeft - reachW],
    [h + reachH, w + reachW],
  );
  const rotated = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
  const convDilations: [number, number] = [kh > 1 ? dilations[0] : 1, kw > 1 ? dilations[1] : 1];
  const dx = tf.depthwiseConv2d(dyp.x, rotated as tf.Tensor4D, 1, dyp.pad, 'NHWC', convDilations);
  if (m === 1) return dx;
  return tf.sum(tf.reshape(dx, [n, h, w, c, m]), 4) as tf.Tensor4D;
}

/** Kernel config registering {@link depthwiseBackpropInputOps} for wasm. */
export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ dy, filter }, attrs) =>
    depthwiseBackpropInputOps(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
  ) as tf.KernelFunc,
};
