import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(13);

describe('wasm MaxPoolGrad matches the cpu backend', () => {
  before(wasmReady);

  it('over pool sizes, strides, pads, ties and NaN (JS loop for 3 channels, SIMD for 8)', () => {
    for (const [filterSize, strides, pad] of [
      [2, 2, 'valid'],
      [3, 2, 'same'],
      [3, 1, 'same'],
      [[2, 3], [1, 2], 'valid'],
      [3, 3, 1],
    ] as const) {
      for (const channels of [3, 8]) {
        const xShape = [2, 7, 6, channels];
        const values = randomValues(rng, xShape);
        // Ties (ReLU zeros) and a NaN: the first maximum in the window must win, as on cpu.
        for (let i = 0; i < values.length; i += 3) values[i] = 0;
        values[5] = Number.NaN;
        // A window of NaN only (rows 0-1, columns 0-1, last channel) receives nothing.
        for (const [r, col] of [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ] as const)
          values[(r * 6 + col) * channels + channels - 1] = Number.NaN;
        const info = tf.backend_util.computePool2DInfo(
          xShape as [number, number, number, number],
          filterSize as number,
          strides as number,
          1,
          pad,
        );
        const output = runKernelOn(
          'cpu',
          'MaxPool',
          { x: { shape: xShape, values } },
          { filterSize, strides, pad },
        );
        const dyShape = info.outShape;
        const inputs = {
          dy: { shape: dyShape, values: randomValues(rng, dyShape) },
          input: { shape: xShape, values },
          output: { shape: output.shape, values: output.values },
        };
        const attrs = { filterSize, strides, pad };
        assertClose(
          runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs),
          runKernelOn('cpu', 'MaxPoolGrad', inputs, attrs),
          `MaxPoolGrad ${JSON.stringify({ ...attrs, channels })}`,
        );
      }
    }
  });
});
