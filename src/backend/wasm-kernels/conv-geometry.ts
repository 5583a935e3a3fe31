/**
 * Spatial helpers shared by the convolution gradient kernels: a zero-filled window of an NHWC
 * tensor (padding and cropping in one), zero insertion between pixels (for stride > 1), and
 * the padding tfjs resolves for a convolution.
 */
import * as tf from '@tensorflow/tfjs';
import { pairAttr } from './tensor-kernel.js';

/** Resolved convolution geometry: what tfjs computes from `pad`, strides and dilations. */
export interface ConvGeometry {
  /** Stride along height and width. */
  strides: [number, number];
  /** Dilation along height and width. */
  dilations: [number, number];
  /** Filter height and width. */
  filter: [number, number];
  /** Zero rows added above and columns added to the left. */
  padTop: number;
  /** Zero columns added to the left. */
  padLeft: number;
}

/** The attributes of a convolution kernel that fix its geometry. */
export interface ConvAttrs {
  /** Stride (one number or `[h, w]`), 1 when absent. */
  strides?: unknown;
  /** Dilation (one number or `[h, w]`), 1 when absent. */
  dilations?: unknown;
  /** `'same'`, `'valid'` or explicit padding, NHWC. */
  pad?: unknown;
  /** Rounding of the output size with numeric padding. */
  dimRoundingMode?: unknown;
}

/**
 * Resolves the geometry of a convolution from its kernel attributes exactly as tfjs-core does
 * (`same`, `valid`, explicit lists and `dimRoundingMode`).
 *
 * @param xShape - Input shape, NHWC.
 * @param filterShape - Filter shape `[kh, kw, in, out]` (depthwise: `[kh, kw, in, mult]`).
 * @param attrs - The kernel attributes (`strides`, `pad`, `dilations`, `dimRoundingMode`;
 *   `pad` already in NHWC order).
 * @param depthwise - Whether the filter is depthwise.
 * @returns The geometry.
 * @internal
 */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): ConvGeometry {
  const strides = pairAttr(attrs.strides, 1);
  const dilations = pairAttr(attrs.dilations, 1);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    attrs.pad as 'same' | 'valid' | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
    'channelsLast',
  );
  return {
    strides,
    dilations,
    filter: [filterShape[0]!, filterShape[1]!],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * The `[outH, outW]` window of an NHWC tensor starting at `start` (which may be negative or
 * run past the end): pixels outside `x` are zero. Pads and crops in one.
 *
 * @param x - NHWC tensor.
 * @param start - First row and column of the window, in `x` coordinates.
 * @param size - Window height and width.
 * @returns The window, `[N, size[0], size[1], C]`.
 * @internal
 */
export function spatialWindow(
  x: tf.Tensor4D,
  start: [number, number],
  size: [number, number],
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const before = [Math.max(0, -start[0]), Math.max(0, -start[1])];
  const after = [Math.max(0, start[0] + size[0] - h), Math.max(0, start[1] + size[1] - w)];
  const cropStart = [Math.max(0, start[0]), Math.max(0, start[1])];
  const cropEnd = [Math.min(h, start[0] + size[0]), Math.min(w, start[1] + size[1])];
  let out = x;
  if (cropStart[0] > 0 || cropStart[1] > 0 || cropEnd[0] < h || cropEnd[1] < w) {
    out = tf.slice(
      out,
      [0, cropStart[0]!, cropStart[1]!, 0],
      [n, Math.max(0, cropEnd[0]! - cropStart[0]!), Math.max(0, cropEnd[1]! - cropStart[1]!), c],
    );
  }
  if (before[0]! > 0 || before[1]! > 0 || after[0]! > 0 || after[1]! > 0) {
    out = tf.pad(out, [
      [0, 0],
      [before[0]!, after[0]!],
      [before[1]!, after[1]!],
      [0, 0],
    ]);
  }
  return out;
}

/**
 * Inserts `stride - 1` zeros after every pixel along height and width (the output of a strided
 * convolution spread back onto the input grid). Output shape `[N, H*sh, W*sw, C]`: the last
 * `s - 1` rows and columns are zero too.
 *
 * @param x - NHWC tensor.
 * @param strides - Zero-insertion factors along height and width.
 * @returns The spread tensor.
 * @internal
 */
export function insertZeros(x: tf.Tensor4D, strides: [number, number]): tf.Tensor4D {
  const [sh, sw] = strides;
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  // Pads on rank-4 views only: the wasm Pad kernel is fast there.
  let out: tf.Tensor = x;
  if (sw > 1) {
    out = tf.pad(tf.reshape(out, [n * h, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
  }
  if (sh > 1) {
    out = tf.pad(tf.reshape(out, [n, h, 1, w * sw * c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
    ]);
  }
  return tf.reshape(out, [n, h * sh, w * sw, c]);
}

/**
 * Converts an NCHW tensor to NHWC (no-op for NHWC).
 * @internal
 */
export function toNhwc(x: tf.Tensor4D, dataFormat: unknown): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x;
}

/**
 * Converts an NHWC tensor to NCHW when `dataFormat` asks for it.
 * @internal
 */
export function fromNhwc(x: tf.Tensor4D, dataFormat: unknown): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 3, 1, 2]) : x;
}

/**
 * Converts a shape given in `dataFormat` to NHWC.
 * @internal
 */
export function shapeToNhwc(shape: number[], dataFormat: unknown): number[] {
  return dataFormat === 'NCHW' ? [shape[0]!, shape[2]!, shape[3]!, shape[1]!] : shape;
}

/**
 * Converts a `pad` attribute given for `dataFormat` to its NHWC form (explicit pads are
 * listed per dimension, so their order follows the layout).
 * @internal
 */
export function padToNhwc(pad: unknown, dataFormat: unknown): unknown {
  if (dataFormat !== 'NCHW' || !Array.isArray(pad)) return pad;
  return [pad[0], pad[2], pad[3], pad[1]];
}

/** A window split into a crop of the input and the zero padding XNNPACK can add itself. */
export interface PaddedWindow {
  /** The input, cropped where the window starts or ends inside it. */
  x: tf.Tensor4D;
  /** Explicit NHWC padding for a convolution (all entries >= 0). */
  pad: tf.backend_util.ExplicitPadding;
}

/**
 * Like {@link spatialWindow}, but leaves the zero padding to the convolution (tfjs's explicit
 * padding), saving a full pass over the tensor.
 * @internal
 */
export function paddedWindow(
  x: tf.Tensor4D,
  start: [number, number],
  size: [number, number],
): PaddedWindow {
  const [, h, w] = x.shape;
  const inside = spatialWindow(
    x,
    [Math.max(0, start[0]), Math.max(0, start[1])],
    [
      Math.min(h, start[0] + size[0]) - Math.max(0, start[0]),
      Math.min(w, start[1] + size[1]) - Math.max(0, start[1]),
    ],
  );
  return {
    x: inside,
    pad: [
      [0, 0],
      [Math.max(0, -start[0]), Math.max(0, start[0] + size[0] - h)],
      [Math.max(0, -start[1]), Math.max(0, start[1] + size[1] - w)],
      [0, 0],
    ],
  };
}

/**
 * First and one-past-last output index `o` whose input index `o*s + offset` lies in
 * `[0, size)`: the outputs a filter tap reads real (not padding) input for.
 *
 * @param count - Number of outputs along the axis.
 * @param s - Stride.
 * @param offset - Input index of output 0 for this tap (`tap*dilation - pad`).
 * @param size - Input size along the axis.
 * @returns `[lo, hi)`, empty when `hi <= lo`.
 * @internal
 */
export function validRange(
  count: number,
  s: number,
  offset: number,
  size: number,
): [number, number] {
  let lo = 0;
  while (lo < count && lo * s + offset < 0) lo++;
  let hi = count;
  while (hi > lo && (hi - 1) * s + offset >= size) hi--;
  return [lo, hi];
}
