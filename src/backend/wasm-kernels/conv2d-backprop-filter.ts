/**
 * `Conv2DBackpropFilter` for wasm, as one forward convolution (XNNPACK). With the batch moved
 * into the channel position, the filter gradient
 * `dW[i, j, ci, co] = sum_{n, oh, ow} x[n, oh*s + i*d - top, ow*s + j*d - left, ci] dy[n, oh, ow, co]`
 * is a convolution of the (padded) input, laid out `[Cin, H, W, N]`, with the output gradient,
 * laid out as a filter `[Ho, Wo, N, Cout]`: the forward stride becomes the dilation and the
 * forward dilation the stride. It costs about what the forward convolution costs. A 1x1
 * convolution with stride 1 (MobileNet's pointwise layers) is a single matrix product.
 */
import * as tf from '@tensorflow/tfjs';
import {
  convGeometry,
  paddedWindow,
  padToNhwc,
  shapeToNhwc,
  spatialWindow,
  toNhwc,
} from './conv-geometry.js';
import { pairAttr, tensorKernel } from './tensor-kernel.js';

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
  const strides = pairAttr(attrs.strides, 1);
  const dilations = pairAttr(attrs.dilations, 1);
  const g = convGeometry(
    shapeToNhwc(x.shape, dataFormat),
    filterShape,
    strides,
    dilations,
    padToNhwc(attrs.pad, dataFormat),
    attrs.dimRoundingMode,
    false,
  );
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

/** Kernel config registering {@link conv2dBackpropFilterOps} for wasm. */
export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ x, dy }, attrs) =>
    conv2dBackpropFilterOps(x as tf.Tensor4D, dy as tf.Tensor4D, attrs),
  ) as tf.KernelFunc,
};
