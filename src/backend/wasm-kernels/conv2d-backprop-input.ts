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
import { type HeapBackend, isHeapBackend } from './heap.js';
import { pixelProductHeap } from './pointwise-conv.js';
import { type SimdKernels, simdKernels, useFusedMultiplyAdd } from './simd-kernels.js';
import { type KernelArgs, tensorKernel } from './tensor-kernel.js';
import { transposeHeap } from './transpose.js';

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

/**
 * Input gradient of a 1x1 convolution with stride 1 and no padding (MobileNet's pointwise
 * layers), `dx = dy W^T` per pixel, by tsfast's SIMD product kernel on the wasm heap (with
 * relaxed SIMD's fused multiply-add where it runs): two pixels by 16 input channels in
 * registers, the output-gradient channels 64 at a time (those rows
 * of `W^T` stay in cache). XNNPACK's product runs this at 22-25 GFLOP/s; this kernel at
 * 30-38 with the fused multiply-add.
 *
 * @param backend - The wasm backend.
 * @param simd - The SIMD kernels bound to its memory.
 * @param dy - Output gradient, NHWC float32.
 * @param filter - The filter `[1, 1, Cin, Cout]`, float32, `Cin` a multiple of 4.
 * @returns The input gradient `[N, H, W, Cin]`, in a new tensor.
 * @internal
 */
export function pointwiseInputGradientHeap(
  backend: HeapBackend,
  simd: SimdKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
): tf.TensorInfo {
  const [n, h, w, cout] = dy.shape as [number, number, number, number];
  const cin = filter.shape[2] as number;
  const pixels = n * h * w;
  // W^T, [Cout, Cin]: for each output-gradient channel, the input channels are contiguous.
  const wt = transposeHeap(
    backend,
    simd,
    { dataId: filter.dataId, shape: [cin, cout], dtype: 'float32' },
    [1, 0],
    { batch: 1, rows: cin, cols: cout },
  );
  const out = backend.makeOutput([n, h, w, cin], 'float32');
  pixelProductHeap(backend, simd, dy, wt, out, pixels, cout, cin);
  backend.disposeData(wt.dataId);
  return out;
}

const byOps = tensorKernel(({ dy, filter }, attrs) =>
  conv2dBackpropInputOps(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
);

/**
 * Kernel config for wasm: {@link pointwiseInputGradientHeap} for float32 NHWC pointwise
 * gradients with input channels a multiple of 4 where the SIMD module runs with the fused
 * multiply-add, else {@link conv2dBackpropInputOps}.
 */
export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: ((args: KernelArgs) => {
    const { inputs, backend } = args;
    const attrs = args.attrs ?? {};
    const dy = inputs.dy!;
    const filter = inputs.filter!;
    if (
      (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
      dy.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      (filter.shape[2] as number) % 4 === 0 &&
      isHeapBackend(backend) &&
      // Without the fused multiply-add the kernel is no faster than XNNPACK's product.
      useFusedMultiplyAdd()
    ) {
      const simd = simdKernels(backend);
      const inputShape = attrs.inputShape as number[];
      const g = convGeometry(inputShape, filter.shape, attrs, false);
      if (
        simd !== undefined &&
        g.filter[0] === 1 &&
        g.filter[1] === 1 &&
        g.strides[0] === 1 &&
        g.strides[1] === 1 &&
        g.padTop === 0 &&
        g.padLeft === 0 &&
        inputShape[1] === dy.shape[1] &&
        inputShape[2] === dy.shape[2]
      ) {
        return pointwiseInputGradientHeap(backend, simd, dy, filter);
      }
    }
    return byOps(args);
  }) as unknown as tf.KernelFunc,
};
