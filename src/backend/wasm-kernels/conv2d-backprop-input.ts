/**
 * `Conv2DBackpropInput` for wasm as one forward convolution (XNNPACK): the input gradient is
 * the output gradient, spread back onto the input grid (zeros between pixels for stride > 1)
 * and padded, convolved with the filter rotated by 180 degrees and with its channel axes
 * swapped. The wasm package's own kernel is a plain loop, about 10 x slower than this.
 */
import * as tf from '@tensorflow/tfjs';
import {
  convGeometry,
  fromNhwc,
  insertZeros,
  paddedWindow,
  padToNhwc,
  shapeToNhwc,
  toNhwc,
} from './conv-geometry.js';
import { pairAttr, tensorKernel } from './tensor-kernel.js';

/**
 * Input gradient of a 2D convolution from tf ops that run fast on wasm.
 *
 * @param dy - Gradient of the convolution output.
 * @param filter - Convolution filter `[kh, kw, Cin, Cout]`.
 * @param attrs - `inputShape`, `strides`, `pad`, `dataFormat`, `dimRoundingMode` and an
 *   optional `dilations`.
 * @returns The input gradient, shaped `inputShape`.
 * @internal
 */
export function conv2dBackpropInputOps(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: tf.NamedAttrMap,
): tf.Tensor4D {
  const { dataFormat } = attrs;
  const inputShape = shapeToNhwc(attrs.inputShape as number[], dataFormat);
  const dys = toNhwc(dy, dataFormat);
  const strides = pairAttr(attrs.strides, 1);
  const dilations = pairAttr(attrs.dilations, 1);
  const g = convGeometry(
    inputShape,
    filter.shape,
    strides,
    dilations,
    padToNhwc(attrs.pad, dataFormat),
    attrs.dimRoundingMode,
    false,
  );
  const [kh, kw] = g.filter;
  const [n, outH, outW, cout] = dys.shape;
  const [, inH, inW, cin] = inputShape as [number, number, number, number];
  if (kh === 1 && kw === 1 && outH === inH && outW === inW && g.padTop === 0 && g.padLeft === 0) {
    // Pointwise: dx = dy W^T per pixel.
    const dym = tf.reshape(dys, [n * outH * outW, cout]);
    const wm = tf.reshape(filter, [cin, cout]);
    return fromNhwc(tf.reshape(tf.matMul(dym, wm, false, true), [n, inH, inW, cin]), dataFormat);
  }
  const reachH = (kh - 1) * dilations[0];
  const reachW = (kw - 1) * dilations[1];
  const spread = insertZeros(dys, strides);
  const dyp = paddedWindow(
    spread,
    [g.padTop - reachH, g.padLeft - reachW],
    [inputShape[1]! + reachH, inputShape[2]! + reachW],
  );
  const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, Cout, Cin]
  const convDilations: [number, number] = [kh > 1 ? dilations[0] : 1, kw > 1 ? dilations[1] : 1];
  const dx = tf.conv2d(dyp.x, rotated as tf.Tensor4D, 1, dyp.pad, 'NHWC', convDilations);
  return fromNhwc(dx, dataFormat);
}

/** Kernel config registering {@link conv2dBackpropInputOps} for wasm. */
export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ dy, filter }, attrs) =>
    conv2dBackpropInputOps(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
  ) as tf.KernelFunc,
};
