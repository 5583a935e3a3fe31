import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { FAST_GRADIENTS } from '../../../src/backend/wasm-kernels/index.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { expectKernelsSupported } from '../../../src/testing/index.js';
import { randomValues, relativeError, wasmReady } from './parity.js';

const rng = new RandomGenerator(3);
const BACKENDS = ['cpu', 'wasm'] as const;

/** Runs `f` on a backend and reads its tensors back. */
function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Float32Array[] {
  tf.setBackend(backend);
  try {
    return tf.tidy(() => f().map((t) => t.dataSync().slice() as Float32Array));
  } finally {
    tf.setBackend('wasm');
  }
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const err = relativeError(actual, expected);
  assert.ok(err <= 1e-4, `${label}: relative error ${err.toExponential(2)}`);
}

/** Values with exact hits on the clip bounds and on zero. */
function withBounds(n: number, lo: number, hi: number): Float32Array {
  const v = randomValues(rng, [n]).map((x) => x * 8);
  for (let i = 0; i < n; i += 5) v[i] = [lo, hi, 0, lo - 1, hi + 1][(i / 5) % 5]!;
  return v;
}

describe('fast gradient overrides match the textbook gradients on cpu and wasm', () => {
  before(wasmReady);

  it('covers the kernels it claims and uses only kernels tfjs-node registers', async () => {
    assert.deepEqual(
      FAST_GRADIENTS.map((g) => g.kernelName),
      ['FusedBatchNorm', 'Mean', 'ClipByValue', 'Relu', 'Relu6'],
    );
    const x = tf.tensor4d(randomValues(rng, [2, 3, 3, 4]), [2, 3, 3, 4]);
    const p = tf.tensor1d([0.5, 1, 1.5, 2]);
    await expectKernelsSupported(() =>
      tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, s: tf.Tensor) => {
          const { mean, variance } = tf.moments(a, [0, 1, 2]);
          const bn = tf.batchNorm(a, mean, variance, p, s, 1e-3);
          return tf.sum(tf.add(tf.relu6(bn), tf.clipByValue(tf.relu(bn), 0, 6)));
        })([x, p]);
        for (const t of g) t.dataSync();
      }),
    );
    tf.dispose([x, p]);
  });

  it('ClipByValue, Relu and Relu6, including values exactly on the bounds', () => {
    const n = 200;
    const xv = withBounds(n, -2, 3);
    const dyv = randomValues(rng, [n]);
    const expected = {
      clip: Array.from(xv, (x, i) => (x >= -2 && x <= 3 ? dyv[i]! : 0)),
      relu: Array.from(xv, (x, i) => (x > 0 ? dyv[i]! : 0)),
      relu6: Array.from(xv, (x, i) => (x > 0 && x <= 6 ? dyv[i]! : 0)),
    };
    const r6 = withBounds(n, 0, 6);
    const expectedR6 = Array.from(r6, (x, i) => (x > 0 && x <= 6 ? dyv[i]! : 0));
    for (const backend of BACKENDS) {
      const [clip, relu, relu6, relu6b] = on(backend, () => {
        const x = tf.tensor1d(xv);
        const dy = tf.tensor1d(dyv);
        const vjp = (f: (t: tf.Tensor) => tf.Tensor, at: tf.Tensor) =>
          tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dy)))(at);
        return [
          vjp((t) => tf.clipByValue(t, -2, 3), x),
          vjp((t) => tf.relu(t), x),
          vjp((t) => tf.relu6(t), x),
          vjp((t) => tf.relu6(t), tf.tensor1d(r6)),
        ];
      });
      assert.deepEqual(
        Array.from(clip!, (v) => v + 0),
        expected.clip,
        `clip on ${backend}`,
      );
      assert.deepEqual(
        Array.from(relu!, (v) => v + 0),
        expected.relu,
        `relu on ${backend}`,
      );
      assert.deepEqual(
        Array.from(relu6!, (v) => v + 0),
        expected.relu6,
        `relu6 on ${backend}`,
      );
      assert.deepEqual(
        Array.from(relu6b!, (v) => v + 0),
        expectedR6,
        `relu6 bounds on ${backend}`,
      );
    }
  });

  it('Mean over several axis sets', () => {
    const shape = [3, 4, 5];
    const xv = randomValues(rng, shape);
    for (const axes of [[0], [1, 2], [0, 2], [0, 1, 2]]) {
      const count = axes.reduce((a, ax) => a * shape[ax]!, 1);
      const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const dyv = randomValues(rng, outShape);
      const expected = new Float32Array(60);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 5; k++) {
            const o = [i, j, k].map((v, a) => (axes.includes(a) ? 0 : v));
            const oi = (o[0]! * outShape[1]! + o[1]!) * outShape[2]! + o[2]!;
            expected[(i * 4 + j) * 5 + k] = dyv[oi]! / count;
          }
      for (const backend of BACKENDS) {
        const [g] = on(backend, () => {
          const dy = tf.tensor(dyv, outShape);
          return [
            tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, axes, true), dy)))(
              tf.tensor(xv, shape),
            ),
          ];
        });
        close(g!, expected, `mean axes=${axes} on ${backend}`);
      }
    }
  });

  it('FusedBatchNorm: all five gradients, rank-1 and rank-4 params', () => {
    const [n, h, w, c] = [2, 3, 4, 5];
    const size = n * h * w * c;
    const xv = randomValues(rng, [size]).map((v) => v * 3 + 1);
    const dyv = randomValues(rng, [size]);
    const meanv = randomValues(rng, [c]);
    const varv = randomValues(rng, [c]).map((v) => v * v + 0.5);
    const scalev = randomValues(rng, [c]).map((v) => v + 1.5);
    const offv = randomValues(rng, [c]);
    const eps = 1e-3;
    // (tfjs-core cannot differentiate batchNorm without a scale: it saves the missing input.)
    for (const withScale of [true]) {
      // Textbook gradients in float64.
      const ex = new Float64Array(size);
      const em = new Float64Array(c);
      const ev = new Float64Array(c);
      const es = new Float64Array(c);
      const eo = new Float64Array(c);
      for (let i = 0; i < size; i++) {
        const ch = i % c;
        const s = withScale ? scalev[ch]! : 1;
        const inv = 1 / Math.sqrt(varv[ch]! + eps);
        const xm = xv[i]! - meanv[ch]!;
        ex[i] = dyv[i]! * s * inv;
        em[ch] -= dyv[i]! * s * inv;
        ev[ch] += dyv[i]! * s * xm * -0.5 * inv ** 3;
        es[ch] += dyv[i]! * xm * inv;
        eo[ch] += dyv[i]!;
      }
      for (const paramRank of [1, 4]) {
        const pshape = paramRank === 1 ? [c] : [1, 1, 1, c];
        for (const backend of BACKENDS) {
          const got = on(backend, () => {
            const dy = tf.tensor4d(dyv, [n, h, w, c]);
            const args = [
              tf.tensor4d(xv, [n, h, w, c]),
              tf.tensor(meanv, pshape),
              tf.tensor(varv, pshape),
              tf.tensor(scalev, pshape),
              tf.tensor(offv, pshape),
            ];
            return tf.grads(
              (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
                tf.sum(
                  tf.mul(
                    tf.batchNorm(x, m, v, o, withScale ? s : undefined, eps),
                    withScale ? dy : tf.add(dy, tf.mul(s, 0)),
                  ),
                ),
            )(args);
          });
          const label = `scale=${withScale} rank=${paramRank} on ${backend}`;
          close(got[0]!, ex, `dx ${label}`);
          close(got[1]!, em, `dmean ${label}`);
          close(got[2]!, ev, `dvariance ${label}`);
          if (withScale) close(got[3]!, es, `dscale ${label}`);
          close(got[4]!, eo, `doffset ${label}`);
        }
      }
    }
  });
});
