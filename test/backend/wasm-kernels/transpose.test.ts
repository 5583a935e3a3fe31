import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { matrixView } from '../../../src/backend/wasm-kernels/transpose.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(29);

describe('wasm block Transpose matches the cpu backend', () => {
  before(wasmReady);

  it('sees rotations of trailing axes as batched matrix transposes, nothing else', () => {
    assert.deepEqual(matrixView([6, 5], [1, 0]), { batch: 1, rows: 6, cols: 5 });
    assert.deepEqual(matrixView([2, 3, 4, 5], [3, 0, 1, 2]), { batch: 1, rows: 24, cols: 5 });
    assert.deepEqual(matrixView([2, 3, 4, 5], [1, 2, 3, 0]), { batch: 1, rows: 2, cols: 60 });
    assert.deepEqual(matrixView([2, 3, 4, 5], [0, 3, 1, 2]), { batch: 2, rows: 12, cols: 5 });
    assert.deepEqual(matrixView([2, 3, 4, 5], [0, 1, 3, 2]), { batch: 6, rows: 4, cols: 5 });
    assert.equal(matrixView([2, 3, 4, 5], [0, 2, 1, 3]), undefined);
    assert.equal(matrixView([2, 3, 4, 5], [1, 0, 3, 2]), undefined);
    assert.equal(matrixView([2, 3, 4], [0, 1, 2]), undefined);
  });

  it('over shapes with and without 4x4-divisible sides, batches, and the fallbacks', () => {
    for (const [shape, perm] of [
      [
        [8, 12],
        [1, 0],
      ],
      [
        [7, 9],
        [1, 0],
      ],
      [
        [13, 4],
        [1, 0],
      ],
      [
        [4, 3],
        [1, 0],
      ],
      [
        [3, 8, 12],
        [0, 2, 1],
      ],
      [
        [2, 5, 6, 7],
        [0, 1, 3, 2],
      ],
      [
        [2, 6, 5, 8],
        [3, 0, 1, 2],
      ],
      [
        [4, 3, 5, 2],
        [1, 2, 3, 0],
      ],
      [
        [2, 3, 4, 5],
        [0, 2, 1, 3],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 2, 0],
      ],
      [
        [1, 8, 1, 4],
        [3, 0, 1, 2],
      ],
    ] as const) {
      const x = { shape: [...shape], values: randomValues(rng, [...shape]) };
      const attrs = { perm: [...perm] };
      assertClose(
        runKernelOn('wasm', 'Transpose', { x }, attrs),
        runKernelOn('cpu', 'Transpose', { x }, attrs),
        `Transpose ${JSON.stringify({ shape, perm })}`,
        0,
      );
    }
    const ints = {
      shape: [5, 8],
      values: Int32Array.from({ length: 40 }, (_, i) => i * 3 - 50),
      dtype: 'int32' as const,
    };
    assert.deepEqual(
      runKernelOn('wasm', 'Transpose', { x: ints }, { perm: [1, 0] }),
      runKernelOn('cpu', 'Transpose', { x: ints }, { perm: [1, 0] }),
    );
  });
});
