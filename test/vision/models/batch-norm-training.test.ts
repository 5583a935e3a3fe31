import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { ValueError } from '../../../src/core/errors.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { lowMemoryVariableGrads } from '../../../src/learner/low-memory-grads.js';
import { expectKernelsSupported, expectNoLeaks } from '../../../src/testing/index.js';
import {
  type BatchNormKernels,
  batchNormTraining,
} from '../../../src/vision/models/batch-norm-training.js';
import { relativeError } from '../../backend/wasm-kernels/parity.js';

const BACKENDS = ['cpu', 'wasm'] as const;
const KERNELS: BatchNormKernels[] = ['pooling', 'reduce'];
/** Per backend: tsfast's fused kernels run on wasm only. */
const kernelsOn = (backend: 'cpu' | 'wasm'): BatchNormKernels[] =>
  backend === 'wasm' ? ['fused', ...KERNELS] : KERNELS;

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = 1e-4) {
  const err = relativeError(actual, expected);
  assert.ok(err <= tol, `${label}: relative error ${err.toExponential(2)} > ${tol}`);
}

function values(rng: RandomGenerator, n: number, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

interface Reference {
  y: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/**
 * Batch norm and its gradients in float64 from the textbook formulas (channels last, `[M, C]`
 * view), independent of tfjs.
 */
function reference(
  x: Float32Array,
  dy: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  c: number,
  eps: number,
): Reference {
  const m = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c]! += x[i]! / m;
  for (let i = 0; i < x.length; i++) variance[i % c]! += (x[i]! - mean[i % c]!) ** 2 / m;
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(x.length);
  const xhat = new Float64Array(x.length);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    const k = i % c;
    xhat[i] = (x[i]! - mean[k]!) * rstd[k]!;
    y[i] = xhat[i]! * gamma[k]! + beta[k]!;
    dgamma[k]! += dy[i]! * xhat[i]!;
    dbeta[k]! += dy[i]!;
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = i % c;
    dx[i] = ((gamma[k]! * rstd[k]!) / m) * (m * dy[i]! - dbeta[k]! - xhat[i]! * dgamma[k]!);
  }
  return { y, mean, variance, dx, dgamma, dbeta };
}

interface Run {
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

function run(
  backend: 'cpu' | 'wasm',
  kernels: BatchNormKernels,
  shape: number[],
  x: Float32Array,
  dy: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): Run {
  tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const c = shape[shape.length - 1] as number;
      const xt = tf.tensor(x, shape);
      const g = tf.tensor1d(gamma);
      const b = tf.tensor1d(beta);
      let stats: Float32Array[] = [];
      const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const r = batchNormTraining(a, s as tf.Tensor1D, o as tf.Tensor1D, {
          epsilon: eps,
          kernels,
        });
        stats = [r.y, r.mean, r.variance].map((t) => t.dataSync().slice() as Float32Array);
        assert.deepEqual(r.mean.shape, [c]);
        tf.dispose([r.mean, r.variance]);
        return r.y;
      })([xt, g, b], tf.tensor(dy, shape));
      const [dx, dgamma, dbeta] = grads.map((t) => t.dataSync().slice() as Float32Array);
      return {
        y: stats[0]!,
        mean: stats[1]!,
        variance: stats[2]!,
        dx: dx!,
        dgamma: dgamma!,
        dbeta: dbeta!,
      };
    });
  } finally {
    tf.setBackend('wasm');
  }
}

describe('batchNormTraining', () => {
  before(async () => {
    await ready();
    assert.equal(tf.getBackend(), 'wasm');
  });

  // Ranks 2-4; a prime row count (no square-ish factoring) and an offset mean (cancellation).
  const cases: { shape: number[]; mean: number; std: number }[] = [
    { shape: [6, 5, 4, 3], mean: 0, std: 1 },
    { shape: [7, 5], mean: 0.5, std: 2 },
    { shape: [4, 9, 6], mean: 0, std: 1 },
    { shape: [8, 6, 6, 16], mean: 20, std: 0.5 },
    // Channels a multiple of 4 (the fused kernels run): 24 = one block of 16 and two of 4,
    // and over 64 rows (the kernels' register chunk) with a row count that is not a multiple.
    { shape: [3, 7, 11, 24], mean: 3, std: 1.5 },
    { shape: [70, 4], mean: 0, std: 1 },
  ];
  for (const { shape, mean, std } of cases) {
    it(`matches the float64 formulas at [${shape.join(', ')}] (mean ${mean}) on cpu and wasm, every formulation`, () => {
      const rng = new RandomGenerator(shape.reduce((a, b) => a * b, 1));
      const c = shape[shape.length - 1] as number;
      const n = shape.reduce((a, b) => a * b, 1);
      const x = values(rng, n, mean, std);
      const dy = values(rng, n);
      const gamma = values(rng, c, 1, 0.3);
      const beta = values(rng, c, 0, 0.3);
      const ref = reference(x, dy, gamma, beta, c, 1e-3);
      for (const backend of BACKENDS) {
        for (const kernels of kernelsOn(backend)) {
          if (kernels === 'fused' && c % 4 !== 0) continue;
          const got = run(backend, kernels, shape, x, dy, gamma, beta, 1e-3);
          const at = `${backend}/${kernels}`;
          close(got.y, ref.y, `${at} y`);
          close(got.mean, ref.mean, `${at} mean`);
          close(got.variance, ref.variance, `${at} variance`);
          close(got.dx, ref.dx, `${at} dx`);
          close(got.dgamma, ref.dgamma, `${at} dgamma`);
          close(got.dbeta, ref.dbeta, `${at} dbeta`);
        }
      }
    });
  }

  it('without scale or shift: gradient reaches x only, as with gamma 1 and beta 0', () => {
    const rng = new RandomGenerator(5);
    const shape = [4, 3, 3, 2];
    const x = values(rng, 72);
    const dy = values(rng, 72);
    const ref = reference(x, dy, new Float32Array([1, 1]), new Float32Array(2), 2, 1e-5);
    for (const backend of BACKENDS) {
      tf.setBackend(backend);
      const dx = tf.tidy(() => {
        const g = tf.grad((a: tf.Tensor) => {
          const r = batchNormTraining(a, null, null, { epsilon: 1e-5 });
          tf.dispose([r.mean, r.variance]);
          return r.y;
        })(tf.tensor(x, shape), tf.tensor(dy, shape));
        return g.dataSync().slice();
      });
      tf.setBackend('wasm');
      close(dx, ref.dx, `${backend} dx`);
    }
  });

  it('leaks nothing, forward or backward, and rejects bad input', async () => {
    const x = tf.randomNormal([4, 3, 3, 5], 0, 1, 'float32', 1);
    const g = tf.variable(tf.ones([5]));
    const b = tf.variable(tf.zeros([5]));
    const x8 = tf.randomNormal([4, 3, 3, 8], 0, 1, 'float32', 3);
    const g8 = tf.variable(tf.ones([8]));
    const b8 = tf.variable(tf.zeros([8]));
    await expectNoLeaks(() => {
      for (const kernels of KERNELS) {
        const { value, grads } = tf.variableGrads(() => {
          const r = batchNormTraining(
            x,
            g as tf.Variable<tf.Rank.R1>,
            b as tf.Variable<tf.Rank.R1>,
            {
              kernels,
            },
          );
          tf.dispose([r.mean, r.variance]);
          return tf.sum(tf.square(r.y)) as tf.Scalar;
        }, [g, b]);
        tf.dispose([value, ...Object.values(grads)]);
        const r = batchNormTraining(x, null, null, { kernels });
        tf.dispose([r.y, r.mean, r.variance]);
      }
      // The fused kernels (channels a multiple of 4), through the Learner's gradient walk too.
      for (const grads of [tf.variableGrads, lowMemoryVariableGrads]) {
        const out = grads(() => {
          const r = batchNormTraining(
            x8,
            g8 as tf.Variable<tf.Rank.R1>,
            b8 as tf.Variable<tf.Rank.R1>,
            {
              kernels: 'fused',
            },
          );
          tf.dispose([r.mean, r.variance]);
          return tf.sum(tf.square(r.y)) as tf.Scalar;
        }, [g8, b8]);
        tf.dispose([out.value, ...Object.values(out.grads)]);
      }
    });
    tf.dispose([x8, g8, b8]);
    assert.throws(
      () => batchNormTraining(tf.ones([4, 6]), null, null, { kernels: 'fused' }),
      /fused/,
    );
    assert.throws(() => batchNormTraining(tf.ones([3]), null, null), ValueError);
    assert.throws(() => batchNormTraining(x, tf.ones([4]) as tf.Tensor1D, null), /gamma shape/);
    assert.throws(() => batchNormTraining(x, null, null, { epsilon: -1 }), /epsilon/);
    tf.dispose([x, g, b]);
  });

  it('uses only kernels tfjs-node registers, forward and backward, both formulations', async () => {
    const x = tf.randomNormal([4, 6, 6, 8], 0, 1, 'float32', 2);
    const g = tf.ones([8]);
    const b = tf.zeros([8]);
    for (const kernels of KERNELS) {
      const { kernels: used } = await expectKernelsSupported(() =>
        tf.tidy(() => {
          const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
            const r = batchNormTraining(a, s as tf.Tensor1D, o as tf.Tensor1D, { kernels });
            tf.dispose([r.mean, r.variance]);
            return r.y;
          })([x, g, b]);
          for (const t of grads) t.dataSync();
        }),
      );
      if (kernels === 'pooling') {
        assert.ok(used.includes('AvgPool') && used.includes('FusedDepthwiseConv2D'), used.join());
        assert.ok(!used.includes('Sum') && !used.includes('Mean'), used.join());
      }
    }
    tf.dispose([x, g, b]);
  });
});
