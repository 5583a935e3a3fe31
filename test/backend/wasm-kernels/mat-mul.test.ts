import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../../src/backend/wasm-kernels/index.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, randomValues, runKernelOn, wasmReady } from './parity.js';

const rng = new RandomGenerator(5);

describe('wasm BatchMatMul and _FusedMatMul with transposes match the cpu backend', () => {
  before(wasmReady);

  it('BatchMatMul for every transpose combination, rank 2 and 3, broadcast batch', () => {
    for (const [aOuter, bOuter] of [
      [[], []],
      [[3], [3]],
      [[2], [1]],
    ] as const)
      for (const transposeA of [false, true])
        for (const transposeB of [false, true]) {
          const [m, k, n] = [5, 7, 4];
          const aShape = [...aOuter, ...(transposeA ? [k, m] : [m, k])];
          const bShape = [...bOuter, ...(transposeB ? [n, k] : [k, n])];
          const inputs = {
            a: { shape: aShape, values: randomValues(rng, aShape) },
            b: { shape: bShape, values: randomValues(rng, bShape) },
          };
          const attrs = { transposeA, transposeB };
          assertClose(
            runKernelOn('wasm', 'BatchMatMul', inputs, attrs),
            runKernelOn('cpu', 'BatchMatMul', inputs, attrs),
            `BatchMatMul a=${aShape} b=${bShape} tA=${transposeA} tB=${transposeB}`,
          );
        }
  });

  it('_FusedMatMul with bias and activation under transposes', () => {
    for (const transposeA of [false, true])
      for (const transposeB of [false, true])
        for (const activation of ['linear', 'relu', 'relu6']) {
          const [m, k, n] = [6, 9, 3];
          const aShape = transposeA ? [1, k, m] : [1, m, k];
          const bShape = transposeB ? [1, n, k] : [1, k, n];
          const inputs = {
            a: { shape: aShape, values: randomValues(rng, aShape) },
            b: { shape: bShape, values: randomValues(rng, bShape) },
            bias: { shape: [n], values: randomValues(rng, [n]) },
          };
          const attrs = { transposeA, transposeB, activation, leakyreluAlpha: 0.2 };
          assertClose(
            runKernelOn('wasm', '_FusedMatMul', inputs, attrs),
            runKernelOn('cpu', '_FusedMatMul', inputs, attrs),
            `_FusedMatMul tA=${transposeA} tB=${transposeB} ${activation}`,
          );
        }
  });

  it('dense-layer gradients match the cpu backend', () => {
    const xv = randomValues(rng, [8, 5]);
    const wv = randomValues(rng, [5, 3]);
    const grads = (backend: 'cpu' | 'wasm'): Float32Array[] => {
      tf.setBackend(backend);
      const out = tf.tidy(() => {
        const g = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
          tf.sum(tf.square(tf.relu(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)))),
        )([tf.tensor2d(xv, [8, 5]), tf.tensor2d(wv, [5, 3])]);
        return g.map((t) => t.dataSync().slice() as Float32Array);
      });
      tf.setBackend('wasm');
      return out;
    };
    const cpu = grads('cpu');
    const wasm = grads('wasm');
    for (let i = 0; i < 2; i++) {
      assertClose(
        { shape: [cpu[i]!.length], values: wasm[i]! },
        { shape: [cpu[i]!.length], values: cpu[i]! },
        `dense grad ${i}`,
      );
    }
  });

  it('registration is idempotent and wraps the matmul kernels once', () => {
    const before = tf.getKernel('BatchMatMul', 'wasm');
    const names = registerWasmTrainingKernels();
    assert.equal(tf.getKernel('BatchMatMul', 'wasm'), before);
    for (const name of [
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'UnsortedSegmentSum',
    ]) {
      assert.ok(names.includes(name));
      assert.ok(tf.getKernel(name, 'wasm'), `${name} not registered`);
    }
  });
});
