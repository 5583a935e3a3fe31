/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm, as one depthwise convolution (XNNPACK): the
 * output gradient, spread back onto the input grid (zeros between pixels for stride > 1) and
 * padded, convolved per channel with the filter rotated by 180 degrees; with a channel
 * multiplier `M > 1`, the `M` results of each input channel are then summed. Strided
 * convolutions with multiplier 1 instead gather each input row from the output-gradient rows
 * that reach it in tsfast's SIMD module ({@link depthwiseBackpropInputHeap}): the zero-spread
 * gradient is `s*s` times larger and mostly zeros.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type ConvGeometry,
  convGeometry,
  insertZeros,
  paddedWindow,
  validRange,
} from './conv-geometry.js';
import { heapOrFallback } from './dispatch.js';
import { type HeapBackend, heapIndex } from './heap.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';
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
  const g = convGeometry(inputShape, filter.shape, attrs, true);
  const { strides, dilations } = g;
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

/**
 * Depthwise input gradient (channel multiplier 1) by tsfast's SIMD kernel on the wasm heap, in
 * gather order: each row of `dx` is summed in place (it stays in cache) from the rows of `dy`
 * that reach it, tap by tap, four channels per instruction; no zero-spread copy of `dy` for
 * strides > 1 and one pass over `dx`.
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param dy - Output gradient, NHWC float32.
 * @param filter - Filter `[kh, kw, C, 1]`, float32.
 * @param inputShape - Shape of the convolution input (and of the result).
 * @param g - Resolved geometry.
 * @returns The input gradient, in a new tensor.
 * @internal
 */
export function depthwiseBackpropInputHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  inputShape: [number, number, number, number],
  g: ConvGeometry,
): tf.TensorInfo {
  const [n, h, w, c] = inputShape;
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const [kh, kw] = g.filter;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  // Per filter column j: first output column, count, and the input column it lands on.
  const table = backend.makeOutput([kw * 3], 'int32');
  let out: tf.TensorInfo;
  try {
    out = backend.makeOutput(inputShape, 'float32');
    const dxAddr = heapIndex(backend, out.dataId) * 4;
    const dyAddr = heapIndex(backend, dy.dataId) * 4;
    const wAddr = heapIndex(backend, filter.dataId) * 4;
    const tAddr = heapIndex(backend, table.dataId) * 4;
    // Read the views after allocating: a grown heap replaces them.
    const heapF = backend.wasm.HEAPF32;
    heapF.fill(0, dxAddr >>> 2, (dxAddr >>> 2) + n * h * w * c);
    const ints = new Int32Array(heapF.buffer, tAddr, kw * 3);
    for (let j = 0; j < kw; j++) {
      const [q0, q1] = validRange(outW, sw, j * dw - g.padLeft, w);
      ints[j * 3] = q0;
      ints[j * 3 + 1] = Math.max(0, q1 - q0);
      ints[j * 3 + 2] = q0 * sw + j * dw - g.padLeft;
    }
    const cb = c * 4;
    const cv = (c >> 2) * 16;
    for (let b = 0; b < n; b++) {
      for (let ih = 0; ih < h; ih++) {
        const dxRow = dxAddr + (b * h + ih) * w * cb;
        for (let i = 0; i < kh; i++) {
          const t = ih + g.padTop - i * dh;
          if (t < 0 || t % sh !== 0) continue;
          const oh = t / sh;
          if (oh >= outH) continue;
          simd.dwInputRow(
            dxRow,
            dyAddr + (b * outH + oh) * outW * cb,
            wAddr + i * kw * cb,
            tAddr,
            kw,
            cv,
            cb,
            sw * cb,
          );
        }
      }
    }
  } finally {
    backend.disposeData(table.dataId);
  }
  return out;
}

const byOps = tensorKernel(({ dy, filter }, attrs) =>
  depthwiseBackpropInputOps(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
);

/**
 * Kernel config for wasm: {@link depthwiseBackpropInputHeap} for strided convolutions of
 * float32 tensors with channel multiplier 1 where the SIMD module runs (MobileNet's stride-2
 * layers, CPU ms: `[32, 64, 64, 16]` 6.2 -> 1.3, `[32, 32, 32, 32]` 2.5 -> 0.5,
 * `[32, 16, 16, 64]` 1.9 -> 0.25), else {@link depthwiseBackpropInputOps} (at stride 1
 * XNNPACK's depthwise convolution is as fast or faster: `[32, 32, 32, 32]` 1.9 vs 4.5).
 */
export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: heapOrFallback(({ inputs, attrs = {} }, backend) => {
    const dy = inputs.dy!;
    const filter = inputs.filter!;
    const inputShape = attrs.inputShape as [number, number, number, number];
    const strides = pairAttr(attrs.strides, 1);
    if (
      (strides[0] === 1 && strides[1] === 1) ||
      filter.shape[3] !== 1 ||
      dy.dtype !== 'float32' ||
      filter.dtype !== 'float32'
    ) {
      return undefined;
    }
    const simd = simdKernels(backend);
    if (simd === undefined) return undefined;
    const g = convGeometry(inputShape, filter.shape, attrs, true);
    return depthwiseBackpropInputHeap(backend, simd, dy, filter, inputShape, g);
  }, byOps),
};
