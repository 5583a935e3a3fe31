/**
 * `Conv2DBackpropInput` for wasm as one forward convolution (XNNPACK): the input gradient is
 * the output gradient, spread back onto the input grid (zeros between pixels for stride > 1)
 * and padded, convolved with the filter rotated by 180 degrees and with its channel axes
 * swapped. The wasm package's own kernel is a plain loop, about 10 x slower than this.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type ConvGeometry,
  convGeometry,
  fromNhwc,
  insertZeros,
  paddedWindow,
  padToNhwc,
  shapeToNhwc,
  toNhwc,
} from './conv-geometry.js';
import { tensorKernel } from './tensor-kernel.js';

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
  const g = convGeometry(
    inputShape,
    filter.shape,
    { ...attrs, pad: padToNhwc(attrs.pad, dataFormat) },
    false,
  );
  const { strides, dilations } = g;
  const [kh, kw] = g.filter;
  const [n, outH, outW, cout] = dys.shape;
  const [, inH, inW, cin] = inputShape as [number, number, number, number];
  if (kh === 1 && kw === 1 && outH === inH && outW === inW && g.padTop === 0 && g.padLeft === 0) {
    // Pointwise: dx = dy W^T per pixel.
    const dym = tf.reshape(dys, [n * outH * outW, cout]);
    const wm = tf.reshape(filter, [cin, cout]);
    return fromNhwc(tf.reshape(tf.matMul(dym, wm, false, true), [n, inH, inW, cin]), dataFormat);
  }
  if (strides[0] > 1 && strides[0] === strides[1] && dilations[0] === 1 && dilations[1] === 1) {
    return fromNhwc(byPhases(dys, filter, g, [inH, inW]), dataFormat);
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

/** The taps of one phase along one axis: the first offset into `dy` and the tap indices. */
interface PhaseTaps {
  /** First `dy` row (column) read for output row (column) 0 of the phase; may be negative. */
  start: number;
  /** Filter taps, in the order the stride-1 correlation reads them. */
  taps: number[];
  /** Rows (columns) of `dx` in this phase. */
  count: number;
}

/** Rows `ih = s*a + phase` get `dy[a + (phase + pad - i)/s] * w[i]` for taps `i` in its class. */
function phaseTaps(phase: number, s: number, pad: number, k: number, size: number): PhaseTaps {
  const taps: number[] = [];
  for (let i = 0; i < k; i++) if ((((phase + pad - i) % s) + s) % s === 0) taps.push(i);
  taps.reverse(); // offsets (phase + pad - i)/s increase along the reversed list
  const start = taps.length > 0 ? (phase + pad - taps[0]!) / s : 0;
  return { start, taps, count: Math.max(0, Math.ceil((size - phase) / s)) };
}

/**
 * Strided input gradient by phases: the `dx` pixels at `(s*a + ph, s*b + pw)` see only the
 * filter taps congruent to their phase, so every phase is a stride-1 correlation of `dy` with
 * a sub-filter. All phases run as one convolution whose `s*s*Cin` output channels are the
 * phases (sub-filters aligned on a common window, zero taps where a phase has fewer), then
 * `depthToSpace` interleaves them: about `kh*kw` taps per output pixel in all, where
 * convolving a zero-spread `dy` (`s*s` times larger) with the full filter costs `s*s` times
 * that (MobileNet's stride-2 first layer: 30 -> 8 ms). Equal strides only (`depthToSpace`).
 */
function byPhases(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  g: ConvGeometry,
  [inH, inW]: [number, number],
): tf.Tensor4D {
  const s = g.strides[0];
  const [kh, kw, cin, cout] = filter.shape;
  const [n] = dy.shape;
  const rowsMax = Math.ceil(inH / s);
  const colsMax = Math.ceil(inW / s);
  const rows = Array.from({ length: s }, (_, p) => phaseTaps(p, s, g.padTop, kh, inH));
  const cols = Array.from({ length: s }, (_, p) => phaseTaps(p, s, g.padLeft, kw, inW));
  const span = (list: PhaseTaps[]): [number, number] => {
    const used = list.filter((t) => t.taps.length > 0);
    const lo = Math.min(...used.map((t) => t.start));
    const hi = Math.max(...used.map((t) => t.start + t.taps.length));
    return [lo, hi - lo];
  };
  const [rowStart, uh] = span(rows);
  const [colStart, uw] = span(cols);
  const blocks: tf.Tensor4D[] = [];
  for (const r of rows) {
    for (const c of cols) {
      if (r.taps.length === 0 || c.taps.length === 0) {
        blocks.push(tf.zeros([uh, uw, cout, cin]));
        continue;
      }
      const sub = tf.gather(
        tf.gather(filter, tf.tensor1d(r.taps, 'int32'), 0),
        tf.tensor1d(c.taps, 'int32'),
        1,
      );
      const top = r.start - rowStart;
      const left = c.start - colStart;
      blocks.push(
        tf.pad(tf.transpose(sub, [0, 1, 3, 2]), [
          [top, uh - top - r.taps.length],
          [left, uw - left - c.taps.length],
          [0, 0],
          [0, 0],
        ]),
      );
    }
  }
  const combined = tf.concat(blocks, 3) as tf.Tensor4D; // [uh, uw, Cout, s*s*Cin], phase-major
  const window = paddedWindow(dy, [rowStart, colStart], [rowsMax + uh - 1, colsMax + uw - 1]);
  const phases = tf.conv2d(window.x, combined, 1, window.pad);
  const woven = tf.depthToSpace(phases, s);
  if (rowsMax * s === inH && colsMax * s === inW) return woven;
  return tf.slice(woven, [0, 0, 0, 0], [n, inH, inW, cin]);
}

/** Kernel config registering {@link conv2dBackpropInputOps} for wasm. */
export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: tensorKernel(({ dy, filter }, attrs) =>
    conv2dBackpropInputOps(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
  ) as tf.KernelFunc,
};
