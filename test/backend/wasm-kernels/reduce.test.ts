import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { rowReduction } from '../../../src/backend/wasm-kernels/reduce.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(17);

describe('wasm Sum and Mean over leading and middle axes match the cpu backend', () => {
  before(wasmReady);

  it('finds the [a, r, b] view only for contiguous axes before the last', () => {
    assert.deepEqual(rowReduction([2, 3, 4, 5], [0, 1, 2]), { a: 1, r: 24, b: 5, axes: [0, 1, 2] });
    assert.deepEqual(rowReduction([2, 3, 4, 5], [2, 1]), { a: 2, r: 12, b: 5, axes: [1, 2] });
    assert.deepEqual(rowReduction([2, 3, 4, 5], -3), { a: 2, r: 3, b: 20, axes: [1] });
    assert.equal(rowReduction([2, 3, 4, 5], [0, 2]), undefined);
    assert.equal(rowReduction([2, 3, 4, 5], [2, 3]), undefined);
    assert.equal(rowReduction([2, 3, 4, 5], []), undefined);
  });

  it('over axes, channel counts (SIMD part and tail), keepDims, and the fallbacks', () => {
    for (const shape of [
      [2, 5, 3, 8],
      [3, 4, 2, 7],
      [2, 3, 1, 1],
      [4, 3],
      [0, 3, 5],
    ])
      for (const axis of [0, [0, 1], [0, 1, 2], [1, 2], 1, [0, 2], -1, [1, 2, 3]])
        for (const keepDims of [false, true])
          for (const kernel of ['Sum', 'Mean']) {
            const rank = shape.length;
            const axes = Array.isArray(axis) ? axis : [axis];
            if (axes.some((a) => a >= rank)) continue;
            // Mean over an empty axis is 0/0 (NaN) on both backends; assertClose compares numbers.
            if (kernel === 'Mean' && shape.includes(0)) continue;
            const x = { shape, values: randomValues(rng, shape) };
            const attrs = { axis, keepDims };
            assertClose(
              runKernelOn('wasm', kernel, { x }, attrs),
              runKernelOn('cpu', kernel, { x }, attrs),
              `${kernel} ${JSON.stringify({ shape, axis, keepDims })}`,
              1e-5,
            );
          }
  });

  it('int32 sums still go to the package kernel', () => {
    const x = {
      shape: [3, 4, 2],
      values: Int32Array.from({ length: 24 }, (_, i) => i - 7),
      dtype: 'int32' as const,
    };
    const attrs = { axis: [0, 1], keepDims: false };
    assert.deepEqual(
      runKernelOn('wasm', 'Sum', { x }, attrs),
      runKernelOn('cpu', 'Sum', { x }, attrs),
    );
  });
});
