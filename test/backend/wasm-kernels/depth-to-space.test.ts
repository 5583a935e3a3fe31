import { before, describe, it } from 'node:test';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(23);

describe('wasm DepthToSpace matches the cpu backend', () => {
  before(wasmReady);

  it('over block sizes and run lengths (element loop and copyWithin)', () => {
    for (const [shape, blockSize] of [
      [[2, 3, 4, 12], 2],
      [[1, 2, 3, 27], 3],
      [[2, 2, 3, 128], 2],
      [[1, 3, 2, 4], 2],
    ] as const) {
      const x = { shape: [...shape], values: randomValues(rng, [...shape]) };
      const attrs = { blockSize, dataFormat: 'NHWC' };
      assertClose(
        runKernelOn('wasm', 'DepthToSpace', { x }, attrs),
        runKernelOn('cpu', 'DepthToSpace', { x }, attrs),
        `DepthToSpace ${JSON.stringify({ shape, blockSize })}`,
        0,
      );
    }
  });
});
