import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { RandomGenerator } from '../../../src/core/random.js';
import {
  assertClose,
  type InputSpec,
  type KernelResult,
  randomValues,
  runKernelOn,
  wasmReady,
} from './parity.js';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

const PADS: Pad[] = [
  'same',
  'valid',
  [
    [0, 0],
    [1, 2],
    [0, 1],
    [0, 0],
  ],
  [
    [0, 0],
    [4, 0],
    [0, 3],
    [0, 0],
  ],
];

const rng = new RandomGenerator(7);

function spec(shape: number[]): InputSpec {
  return { shape, values: randomValues(rng, shape) };
}

function label(parts: Record<string, unknown>): string {
  return Object.entries(parts)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

/** Inserts d-1 zero taps between filter taps: dilation folded into the filter. */
function dilateFilter(f: InputSpec, d: number): InputSpec {
  const [kh, kw, a, b] = f.shape as [number, number, number, number];
  if (d === 1) return f;
  const eh = (kh - 1) * d + 1;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < a * b; k++) {
        out[(i * d * ew + j * d) * a * b + k] = f.values[(i * kw + j) * a * b + k]!;
      }
  return { shape: [eh, ew, a, b], values: out };
}

/** Keeps every d-th tap of a filter gradient computed for the dilated filter. */
function undilateFilter(r: KernelResult, d: number, kh: number, kw: number): KernelResult {
  if (d === 1) return r;
  const [, ew, a, b] = r.shape as [number, number, number, number];
  const out = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < a * b; k++) {
        out[(i * kw + j) * a * b + k] = r.values[(i * d * ew + j * d) * a * b + k]!;
      }
  return { shape: [kh, kw, a, b], values: out };
}

describe('wasm convolution gradient kernels match the cpu backend', () => {
  before(wasmReady);

  it('Conv2DBackpropFilter and Conv2DBackpropInput over strides, pads and filter sizes', () => {
    let cases = 0;
    for (const [h, w] of [
      [9, 8],
      [7, 7],
    ] as const)
      for (const [kh, kw] of [
        [3, 3],
        [3, 2],
        [1, 1],
        [5, 5],
      ] as const)
        for (const s of [1, 2, 3] as const)
          for (const pad of PADS) {
            const n = 2;
            const cin = 3;
            const cout = 4;
            const xShape = [n, h, w, cin];
            const fShape = [kh, kw, cin, cout];
            let info: tf.backend_util.Conv2DInfo;
            try {
              info = tf.backend_util.computeConv2DInfo(xShape as never, fShape as never, s, 1, pad);
            } catch {
              continue;
            }
            if (info.outHeight <= 0 || info.outWidth <= 0) continue;
            const dyShape = [n, info.outHeight, info.outWidth, cout];
            const x = spec(xShape);
            const dy = spec(dyShape);
            const filter = spec(fShape);
            const name = label({ h, w, kh, kw, s, pad });
            const fAttrs = { strides: s, pad, dataFormat: 'NHWC', filterShape: fShape };
            assertClose(
              runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, fAttrs),
              runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, fAttrs),
              `Conv2DBackpropFilter ${name}`,
            );
            const iAttrs = { strides: s, pad, dataFormat: 'NHWC', inputShape: xShape };
            assertClose(
              runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, iAttrs),
              runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, iAttrs),
              `Conv2DBackpropInput ${name}`,
            );
            cases++;
          }
    assert.ok(cases > 70, `only ${cases} cases ran`);
  });

  it('Conv2DBackpropFilter SIMD path (16-channel blocks and 4-channel tail), dilations, fallbacks', () => {
    let cases = 0;
    for (const [kh, kw] of [
      [3, 3],
      [2, 3],
      [1, 1],
    ] as const)
      for (const [s, d] of [
        [1, 1],
        [2, 1],
        [3, 1],
        [1, 2],
      ] as const)
        for (const [cin, cout] of [
          [5, 20],
          [2, 6],
          [132, 132],
        ] as const)
          for (const pad of PADS) {
            // The tensor-op fallback for many channels: one filter size and padding suffice.
            if (cin === 132 && (kh !== 3 || kw !== 3 || pad !== 'same')) continue;
            const xShape = cin === 132 ? [1, 3, 4, cin] : [2, 7, 8, cin];
            const fShape = [kh, kw, cin, cout];
            let info: tf.backend_util.Conv2DInfo;
            try {
              info = tf.backend_util.computeConv2DInfo(xShape as never, fShape as never, s, d, pad);
            } catch {
              continue;
            }
            if (info.outHeight <= 0 || info.outWidth <= 0) continue;
            const x = spec(xShape);
            const dy = spec([xShape[0]!, info.outHeight, info.outWidth, cout]);
            // The cpu kernel has no dilations: fold them into a larger filter for the reference.
            const eh = (kh - 1) * d + 1;
            const ew = (kw - 1) * d + 1;
            const attrs = {
              strides: s,
              dilations: d,
              pad,
              dataFormat: 'NHWC',
              filterShape: fShape,
            };
            const ref = runKernelOn(
              'cpu',
              'Conv2DBackpropFilter',
              { x, dy },
              { ...attrs, dilations: 1, filterShape: [eh, ew, cin, cout] },
            );
            assertClose(
              runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs),
              undilateFilter(ref, d, kh, kw),
              `Conv2DBackpropFilter ${label({ kh, kw, s, d, cin, cout, pad })}`,
            );
            cases++;
          }
    assert.ok(cases > 80, `only ${cases} cases ran`);
  });

  it('Conv2DBackpropFilter pointwise (1x1, stride 1): SIMD over pixel chunks, many channels', () => {
    // Pixel counts below, at and across the 64-pixel chunk (with a remainder), channel counts
    // with 16-blocks and a 4-tail, and Cin * Cout past the dense SIMD kernel's limit.
    for (const [xShape, cout] of [
      [[1, 5, 7, 3], 8],
      [[2, 4, 8, 20], 36],
      [[3, 9, 5, 132], 260],
      [[2, 7, 7, 200], 132],
    ] as const) {
      const x = spec([...xShape]);
      const dy = spec([xShape[0], xShape[1], xShape[2], cout]);
      const attrs = {
        strides: 1,
        dilations: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [1, 1, xShape[3], cout],
      };
      assertClose(
        runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs),
        runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs),
        `Conv2DBackpropFilter pointwise x [${xShape.join(', ')}] -> ${cout}`,
      );
    }
  });

  it('Conv2DBackpropInput pointwise (1x1, stride 1): SIMD product over output-channel chunks', () => {
    // Output-gradient channels below, at and past the 64-channel chunk (with a remainder);
    // input channels with 16-blocks and a 4-tail; odd pixel counts (the last pixel alone).
    for (const [xShape, cout] of [
      [[1, 5, 7, 4], 8],
      [[2, 3, 5, 36], 64],
      [[3, 3, 5, 20], 150],
      [[1, 7, 7, 132], 72],
    ] as const) {
      const dy = spec([xShape[0], xShape[1], xShape[2], cout]);
      const filter = spec([1, 1, xShape[3], cout]);
      const attrs = {
        strides: 1,
        dilations: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        inputShape: [...xShape],
      };
      assertClose(
        runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs),
        runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, attrs),
        `Conv2DBackpropInput pointwise x [${xShape.join(', ')}] <- ${cout}`,
      );
    }
  });

  it('Conv2D gradients with NCHW data and non-square strides', () => {
    const x = spec([2, 3, 9, 8]);
    const dy = spec([2, 4, 5, 3]);
    const filter = spec([3, 3, 3, 4]);
    const fAttrs = { strides: [2, 3], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] };
    assertClose(
      runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, fAttrs),
      runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, fAttrs),
      'Conv2DBackpropFilter NCHW',
    );
    const iAttrs = { strides: [2, 3], pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 9, 8] };
    assertClose(
      runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, iAttrs),
      runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, iAttrs),
      'Conv2DBackpropInput NCHW',
    );
  });

  it('Depthwise gradients over strides, dilations, pads and channel multipliers', () => {
    let cases = 0;
    for (const [h, w] of [
      [9, 8],
      [6, 7],
    ] as const)
      for (const [kh, kw] of [
        [3, 3],
        [3, 2],
        [1, 1],
      ] as const)
        for (const [s, d] of [
          [1, 1],
          [2, 1],
          [3, 1],
          [1, 2],
          [1, 3],
        ] as const)
          for (const [m, c] of [
            [1, 3],
            [1, 6],
            [2, 3],
            [3, 3],
          ] as const)
            for (const pad of PADS) {
              const n = 2;
              const xShape = [n, h, w, c];
              const fShape = [kh, kw, c, m];
              let info: tf.backend_util.Conv2DInfo;
              try {
                info = tf.backend_util.computeConv2DInfo(
                  xShape as never,
                  fShape as never,
                  s,
                  d,
                  pad,
                  undefined,
                  true,
                );
              } catch {
                continue;
              }
              if (info.outHeight <= 0 || info.outWidth <= 0) continue;
              const dyShape = [n, info.outHeight, info.outWidth, c * m];
              const x = spec(xShape);
              const dy = spec(dyShape);
              const filter = spec(fShape);
              const name = label({ h, w, kh, kw, s, d, m, pad });
              // The cpu kernels ignore `dilations`; fold the dilation into the filter for them.
              const dilated = dilateFilter(filter, d);
              const fAttrs = { strides: s, dilations: d, pad, filterShape: fShape };
              const refF = runKernelOn(
                'cpu',
                'DepthwiseConv2dNativeBackpropFilter',
                { x, dy },
                { ...fAttrs, dilations: 1, filterShape: dilated.shape },
              );
              assertClose(
                runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, fAttrs),
                undilateFilter(refF, d, kh, kw),
                `DepthwiseConv2dNativeBackpropFilter ${name}`,
              );
              const iAttrs = { strides: s, dilations: d, pad, inputShape: xShape };
              assertClose(
                runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, iAttrs),
                runKernelOn(
                  'cpu',
                  'DepthwiseConv2dNativeBackpropInput',
                  { dy, filter: dilated },
                  { ...iAttrs, dilations: 1 },
                ),
                `DepthwiseConv2dNativeBackpropInput ${name}`,
              );
              cases++;
            }
    assert.ok(cases > 400, `only ${cases} cases ran`);
  });

  it('Depthwise input gradient, strided, many channels (the SIMD gather path)', () => {
    for (const [s, pad] of [
      [2, 'same'],
      [2, 'valid'],
      [3, PADS[3]!],
    ] as const) {
      const xShape = [2, 9, 8, 20];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as never,
        [3, 3, 20, 1] as never,
        s,
        1,
        pad,
        undefined,
        true,
      );
      const dy = spec([2, info.outHeight, info.outWidth, 20]);
      const filter = spec([3, 3, 20, 1]);
      const attrs = { strides: s, dilations: 1, pad, inputShape: xShape };
      assertClose(
        runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs),
        runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs),
        `DepthwiseConv2dNativeBackpropInput C=20 ${label({ s, pad })}`,
      );
    }
  });

  it('Depthwise filter gradient with many channels (SIMD for multiplier 1, batch-as-channels for 2)', () => {
    for (const [s, d, m, pad] of [
      [1, 1, 1, 'same'],
      [2, 1, 2, 'valid'],
      [1, 2, 1, PADS[2]!],
      [3, 1, 1, PADS[3]!],
    ] as const) {
      const xShape = [2, 9, 8, 20];
      const fShape = [3, 3, 20, m];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as never,
        fShape as never,
        s,
        d,
        pad,
        undefined,
        true,
      );
      const x = spec(xShape);
      const dy = spec([2, info.outHeight, info.outWidth, 20 * m]);
      const dilated = dilateFilter(spec(fShape), d);
      const fAttrs = { strides: s, dilations: d, pad, filterShape: fShape };
      const refF = runKernelOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { ...fAttrs, dilations: 1, filterShape: dilated.shape },
      );
      assertClose(
        runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, fAttrs),
        undilateFilter(refF, d, 3, 3),
        `DepthwiseConv2dNativeBackpropFilter C=20 ${label({ s, d, m, pad })}`,
      );
    }
  });

  it('the dilated-filter reference agrees with the cpu kernels at dilation 1', () => {
    // Guards the reference used above: folding dilation 1 is the identity.
    const f = spec([3, 2, 3, 2]);
    assert.deepEqual(dilateFilter(f, 1), f);
    const folded = dilateFilter(f, 2);
    assert.deepEqual(folded.shape, [5, 3, 3, 2]);
    assert.deepEqual(undilateFilter(folded as KernelResult, 2, 3, 2).values, f.values);
  });

  it('gradients through tf.grads of conv2d and depthwiseConv2d match the cpu backend', () => {
    const x = spec([2, 10, 10, 4]);
    const f = spec([3, 3, 4, 6]);
    const df = spec([3, 3, 4, 2]);
    const grads = (backend: 'cpu' | 'wasm'): Float32Array[] => {
      tf.setBackend(backend);
      const out = tf.tidy(() => {
        const xt = tf.tensor4d(x.values, x.shape as never);
        const ft = tf.tensor4d(f.values, f.shape as never);
        const dft = tf.tensor4d(df.values, df.shape as never);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(
            tf.square(
              tf.add(
                tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'),
                tf.slice(
                  tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 2, 'same'),
                  0,
                  [-1, -1, -1, 6],
                ),
              ),
            ),
          ),
        )([xt, ft, dft]);
        return g.map((t) => t.dataSync().slice() as Float32Array);
      });
      tf.setBackend('wasm');
      return out;
    };
    const cpu = grads('cpu');
    const wasm = grads('wasm');
    for (let i = 0; i < cpu.length; i++) {
      assertClose(
        { shape: [cpu[i]!.length], values: wasm[i]! },
        { shape: [cpu[i]!.length], values: cpu[i]! },
        `grad ${i}`,
      );
    }
  });
});
