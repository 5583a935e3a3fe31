import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(11);

describe('wasm UnsortedSegmentSum matches the cpu backend', () => {
  before(wasmReady);

  it('over data shapes, out-of-range ids and dtypes', () => {
    const cases: [number[], number[], number][] = [
      [[12], [], 5],
      [[10], [3, 4], 7],
      [[9], [2, 1, 3], 2],
      [[1], [2], 1],
    ];
    for (const [idShape, inner, numSegments] of cases) {
      const nIds = idShape.reduce((a, b) => a * b, 1);
      const ids = new Int32Array(nIds);
      // Includes -1 and numSegments, which TensorFlow drops.
      for (let i = 0; i < nIds; i++) ids[i] = rng.randInt(-1, numSegments + 1);
      const xShape = [...idShape, ...inner];
      const floats = randomValues(rng, xShape);
      const ints = Int32Array.from(floats, (v) => Math.round(v * 100));
      for (const [dtype, values] of [
        ['float32', floats],
        ['int32', ints],
      ] as const) {
        const inputs = {
          x: { shape: xShape, values, dtype },
          segmentIds: { shape: idShape, values: ids, dtype: 'int32' as const },
        };
        const wasm = runKernelOn('wasm', 'UnsortedSegmentSum', inputs, { numSegments });
        const cpu = runKernelOn('cpu', 'UnsortedSegmentSum', inputs, { numSegments });
        assertClose(wasm, cpu, `UnsortedSegmentSum ${dtype} ids=${idShape} inner=${inner}`);
        assert.equal(wasm.values instanceof Int32Array, dtype === 'int32');
      }
    }
  });

  it('trains an embedding: the gradient of gather matches the cpu backend', () => {
    const table = randomValues(rng, [6, 3]);
    const grad = (backend: 'cpu' | 'wasm'): Float32Array => {
      tf.setBackend(backend);
      const out = tf.tidy(() => {
        const t = tf.tensor2d(table, [6, 3]);
        const idx = tf.tensor1d([0, 2, 2, 5, 0, 0], 'int32');
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.gather(v, idx))))(t);
        return g.dataSync().slice() as Float32Array;
      });
      tf.setBackend('wasm');
      return out;
    };
    assertClose(
      { shape: [18], values: grad('wasm') },
      { shape: [18], values: grad('cpu') },
      'gather gradient',
    );
  });
});
