import { before, describe, it } from 'node:test';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, type InputSpec, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(17);

describe('wasm FusedBatchNorm matches the cpu backend', () => {
  before(wasmReady);

  it('per-channel parameters of rank 1 and 4, with and without scale and offset', () => {
    const xShape = [2, 5, 4, 6];
    const c = 6;
    for (const paramShape of [[c], [1, 1, 1, c]])
      for (const withScale of [true, false])
        for (const withOffset of [true, false]) {
          const param = (positive = false): InputSpec => ({
            shape: paramShape,
            values: randomValues(rng, paramShape).map((v) => (positive ? v * v + 0.1 : v)),
          });
          const inputs: Record<string, InputSpec> = {
            x: { shape: xShape, values: randomValues(rng, xShape).map((v) => v * 3 + 0.5) },
            mean: param(),
            variance: param(true),
          };
          if (withScale) inputs.scale = param();
          if (withOffset) inputs.offset = param();
          const attrs = { varianceEpsilon: 1e-3 };
          assertClose(
            runKernelOn('wasm', 'FusedBatchNorm', inputs, attrs),
            runKernelOn('cpu', 'FusedBatchNorm', inputs, attrs),
            `FusedBatchNorm params=${paramShape} scale=${withScale} offset=${withOffset}`,
          );
        }
  });

  it('falls back to the package kernel for full-shape parameters', () => {
    const shape = [1, 2, 3, 2];
    const full = (): InputSpec => ({
      shape,
      values: randomValues(rng, shape).map((v) => v * v + 0.2),
    });
    const inputs = { x: full(), mean: full(), variance: full(), scale: full(), offset: full() };
    const attrs = { varianceEpsilon: 1e-3 };
    assertClose(
      runKernelOn('wasm', 'FusedBatchNorm', inputs, attrs),
      runKernelOn('cpu', 'FusedBatchNorm', inputs, attrs),
      'FusedBatchNorm full-shape params',
    );
  });
});
