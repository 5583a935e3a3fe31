import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useFusedMultiplyAdd } from '../../../src/backend/wasm-kernels/simd-kernels.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { expectNoLeaks } from '../../../src/testing/index.js';
import { assertClose, type InputSpec, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(11);

function spec(shape: number[]): InputSpec {
  return { shape, values: randomValues(rng, shape) };
}

describe('pointwise convolutions in the SIMD product kernel match the cpu backend', () => {
  before(wasmReady);

  // Input channels below, at and past the 64-channel chunk; output channels with 16-blocks and
  // a 4-tail; odd pixel counts (the last pixel alone).
  const cases: [number[], number][] = [
    [[1, 5, 7, 3], 8],
    [[2, 3, 5, 64], 36],
    [[3, 3, 5, 150], 20],
    [[1, 7, 7, 72], 132],
  ];

  it('Conv2D and FusedConv2D (no bias, linear), same and valid padding', () => {
    assert.ok(useFusedMultiplyAdd(), 'the SIMD path runs only with the fused multiply-add');
    for (const [xShape, cout] of cases) {
      const x = spec(xShape);
      const filter = spec([1, 1, xShape[3]!, cout]);
      for (const pad of ['same', 'valid']) {
        const attrs = { strides: 1, dilations: 1, pad, dataFormat: 'NHWC' };
        const label = `x [${xShape.join(', ')}] -> ${cout}, ${pad}`;
        const ref = runKernelOn('cpu', 'Conv2D', { x, filter }, attrs);
        assertClose(runKernelOn('wasm', 'Conv2D', { x, filter }, attrs), ref, `Conv2D ${label}`);
        assertClose(
          runKernelOn('wasm', 'FusedConv2D', { x, filter }, { ...attrs, activation: 'linear' }),
          ref,
          `FusedConv2D ${label}`,
        );
      }
    }
  });

  it('leaves bias, activations, strides and larger filters to the package, with the same values', () => {
    const x = spec([2, 6, 6, 8]);
    const filter = spec([1, 1, 8, 12]);
    const bias = spec([12]);
    for (const [inputs, attrs] of [
      [
        { x, filter, bias },
        { strides: 1, pad: 'same', activation: 'linear' },
      ],
      [
        { x, filter },
        { strides: 1, pad: 'same', activation: 'relu' },
      ],
      [
        { x, filter },
        { strides: 2, pad: 'same', activation: 'linear' },
      ],
      [
        { x, filter: spec([3, 3, 8, 12]) },
        { strides: 1, pad: 'same', activation: 'linear' },
      ],
    ] as const) {
      const full = { dilations: 1, dataFormat: 'NHWC', ...attrs };
      assertClose(
        runKernelOn('wasm', 'FusedConv2D', inputs, full),
        runKernelOn('cpu', 'FusedConv2D', inputs, full),
        `FusedConv2D ${JSON.stringify(attrs)}`,
      );
    }
  });

  it('a forward pass and its gradients leak nothing', async () => {
    const x = tf.randomNormal([2, 4, 4, 16], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([1, 1, 16, 8], 0, 1, 'float32', 2));
    await expectNoLeaks(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.sum(
            tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Variable<tf.Rank.R4>, 1, 'same')),
          ) as tf.Scalar,
        [w],
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([x, w]);
  });
});
