/**
 * BatchNorm's fused wasm kernels split in halves (statistics / normalisation forward, sums /
 * input gradient backward), which data-parallel threads run with their exchanges in between:
 * each half against float64 formulas on real activations (the ImageNet MobileNet's first
 * convolution over real pet photos), the split path against the fused one bit for bit, and
 * the shared-memory moments exchange across two real threads.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import {
  BATCH_NORM_GRAD_INPUT,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  hasFusedChannelKernels,
} from '../../../src/backend/index.js';
import { ready } from '../../../src/backend/ready.js';
import { setAllReduceMean, setAllReduceMoments } from '../../../src/core/all-reduce.js';
import {
  createReducerBuffer,
  SharedReducer,
} from '../../../src/learner/data-parallel/shared-reducer.js';
import { lowMemoryVariableGrads } from '../../../src/learner/low-memory-grads.js';
import { expectNoLeaks } from '../../../src/testing/index.js';
import { batchNormTraining } from '../../../src/vision/models/batch-norm-training.js';
import { readTfjsWeights } from '../../../src/vision/models/tfjs-folder.js';
import { SHARED_DIR, skipUnlessShared } from '../../support/shared.js';
import { relativeError } from './parity.js';

const V1 = join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224');
const PETS = join(SHARED_DIR, 'data', 'pets', 'images');
const PHOTOS = ['Abyssinian_1.jpg', 'Bengal_10.jpg', 'american_bulldog_100.jpg', 'Bengal_101.jpg'];
const SIZE = 48;
const EPS = 1e-3;

/** Float64 statistics and gradients of `x` viewed as `[m, c]` (the textbook formulas). */
function reference(x: Float32Array, dy: Float32Array, gamma: Float32Array, c: number) {
  const m = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c]! += x[i]! / m;
  for (let i = 0; i < x.length; i++) variance[i % c]! += (x[i]! - mean[i % c]!) ** 2 / m;
  const rstd = variance.map((v) => 1 / Math.sqrt(v + EPS));
  const sumDy = new Float64Array(c);
  const sumDyXc = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    sumDy[i % c]! += dy[i]!;
    sumDyXc[i % c]! += dy[i]! * (x[i]! - mean[i % c]!);
  }
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = i % c;
    const xc = x[i]! - mean[k]!;
    y[i] = xc * rstd[k]! * gamma[k]! + 0.5;
    dx[i] =
      gamma[k]! * rstd[k]! * (dy[i]! - sumDy[k]! / m - (xc * rstd[k]! ** 2 * sumDyXc[k]!) / m);
  }
  return { mean, variance, rstd, sumDy, sumDyXc, y, dx };
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol: number) {
  const err = relativeError(actual, expected);
  assert.ok(err <= tol, `${label}: relative error ${err.toExponential(2)} > ${tol}`);
}

/** Real activations: the ImageNet MobileNet v1 0.75's first convolution over real photos. */
async function realActivations(): Promise<tf.Tensor4D> {
  const weights = await readTfjsWeights(V1);
  const kernel = weights.get('conv1/kernel');
  assert.ok(kernel, 'conv1/kernel in the MobileNet folder');
  const pixels = new Float32Array(PHOTOS.length * SIZE * SIZE * 3);
  for (const [n, name] of PHOTOS.entries()) {
    const { data } = await sharp(join(PETS, name), { pages: 1 })
      .resize(SIZE, SIZE, { fit: 'cover' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (let i = 0; i < data.length; i++) pixels[n * data.length + i] = data[i]! / 127.5 - 1;
  }
  return tf.tidy(() =>
    tf.conv2d(
      tf.tensor4d(pixels, [PHOTOS.length, SIZE, SIZE, 3]),
      tf.tensor4d(kernel.data as Float32Array, kernel.shape as [number, number, number, number]),
      2,
      'same',
    ),
  );
}

/** Forward and backward of `batchNormTraining` (fused formulation) under whatever hooks are set. */
function fusedRun(x: tf.Tensor, dy: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D) {
  return tf.tidy(() => {
    let stats: Float32Array[] = [];
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const r = batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, {
        epsilon: EPS,
        kernels: 'fused',
      });
      stats = [r.y, r.mean, r.variance].map((t) => t.dataSync().slice() as Float32Array);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    })([x, gamma, beta], dy);
    return [...stats, ...grads.map((t) => t.dataSync().slice() as Float32Array)];
  });
}

describe('BatchNorm split wasm kernels (the data-parallel halves)', () => {
  let skip: string | false = false;
  let x: tf.Tensor4D | undefined;
  let dy: tf.Tensor4D | undefined;
  let gamma: tf.Tensor1D | undefined;
  let beta: tf.Tensor1D | undefined;
  before(async () => {
    const { backend } = await ready();
    skip =
      backend !== 'wasm'
        ? `engine is ${backend}, not wasm`
        : skipUnlessShared('models', 'mobilenet_v1_0.75_224') || skipUnlessShared('data', 'pets');
    if (skip) return;
    x = await realActivations();
    // Real activations of a convolution: 24 channels, means and spreads differing by channel.
    assert.deepEqual(x.shape, [4, 24, 24, 24]);
    assert.ok(hasFusedChannelKernels(x));
    dy = tf.randomNormal(x.shape, 0, 1, 'float32', 11) as tf.Tensor4D;
    gamma = tf.randomUniform([24], 0.5, 1.5, 'float32', 12) as tf.Tensor1D;
    beta = tf.fill([24], 0.5) as tf.Tensor1D;
  });
  after(() => tf.dispose([x, dy, gamma, beta].filter((t) => t !== undefined)));

  it('each half matches the float64 formulas on real activations, a large common offset included', (t) => {
    if (skip) return t.skip(skip);
    const gammaData = gamma!.dataSync() as Float32Array;
    const dyData = dy!.dataSync() as Float32Array;
    // +100: a mean far above the spread, where sums of squares alone would cancel in float32.
    for (const offset of [0, 100]) {
      tf.tidy(() => {
        const xs = tf.add(x!, offset);
        const xData = xs.dataSync() as Float32Array;
        const ref = reference(xData, dyData, gammaData, 24);
        const run = (name: string, inputs: tf.NamedTensorMap, attrs = {}) =>
          tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
        const [mean, variance] = run(BATCH_NORM_MOMENTS, { x: xs }) as tf.Tensor[];
        close(mean!.dataSync(), ref.mean, `mean (offset ${offset})`, 1e-6);
        close(variance!.dataSync(), ref.variance, `variance (offset ${offset})`, 1e-5);
        // Each later half from the float64 statistics, as another thread's exchange gives them.
        const mean32 = tf.tensor1d(Float32Array.from(ref.mean));
        const var32 = tf.tensor1d(Float32Array.from(ref.variance));
        const [y, rstd] = run(
          BATCH_NORM_NORMALISE,
          { x: xs, mean: mean32, variance: var32, gamma: gamma!, beta: beta! },
          { epsilon: EPS },
        ) as tf.Tensor[];
        close(rstd!.dataSync(), ref.rstd, `rstd (offset ${offset})`, 1e-6);
        // At +100 the float32 input itself is only good to ~1e-5 of the spread.
        close(y!.dataSync(), ref.y, `y (offset ${offset})`, offset === 0 ? 1e-5 : 1e-4);
        const [sumDy, sumDyXc] = run(BATCH_NORM_GRAD_SUMS, {
          dy: dy!,
          x: xs,
          mean: mean32,
        }) as tf.Tensor[];
        close(sumDy!.dataSync(), ref.sumDy, `sum(dy) (offset ${offset})`, 1e-5);
        close(sumDyXc!.dataSync(), ref.sumDyXc, `sum(dy * xc) (offset ${offset})`, 1e-4);
        const m = xData.length / 24;
        const means = tf.tensor1d([
          ...Array.from(ref.sumDy, (s) => s / m),
          ...Array.from(ref.sumDyXc, (s) => s / m),
        ]);
        const dx = run(BATCH_NORM_GRAD_INPUT, {
          dy: dy!,
          x: xs,
          mean: mean32,
          rstd: tf.tensor1d(Float32Array.from(ref.rstd)),
          gamma: gamma!,
          means,
        }) as tf.Tensor;
        close(dx.dataSync(), ref.dx, `dx (offset ${offset})`, 1e-4);
        assert.throws(
          () =>
            run(BATCH_NORM_GRAD_INPUT, {
              dy: dy!,
              x: xs,
              mean: mean32,
              rstd: mean32,
              gamma: gamma!,
              means: mean32,
            }),
          /means holds 24 values, expected 48/,
        );
      });
    }
  });

  it("under a cross-thread hook the split path gives the fused kernels' values bit for bit, with 2 exchanges per layer (3 without the moments hook)", (t) => {
    if (skip) return t.skip(skip);
    const fused = fusedRun(x!, dy!, gamma!, beta!);
    const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
    for (const withMoments of [true, false]) {
      const calls: string[] = [];
      const beforeMean = setAllReduceMean((values) => {
        calls.push(`mean ${values.length}`);
        return values;
      });
      const beforeMoments = setAllReduceMoments(
        withMoments
          ? (mean, variance) => {
              calls.push(`moments ${mean.length}`);
              return [mean, variance];
            }
          : undefined,
      );
      let split: Float32Array[];
      try {
        split = fusedRun(x!, dy!, gamma!, beta!);
      } finally {
        setAllReduceMean(beforeMean);
        setAllReduceMoments(beforeMoments);
      }
      // One pass-through exchange changes nothing: the halves are the fused kernels' own code.
      for (const [i, v] of split.entries()) {
        assert.deepEqual(v, fused[i], `${names[i]} (moments hook: ${withMoments})`);
      }
      assert.deepEqual(
        calls,
        withMoments ? ['moments 24', 'mean 48'] : ['mean 24', 'mean 24', 'mean 48'],
      );
    }
  });

  it('the split path leaks nothing, forward and backward, through the Learner gradient walk too', async (t) => {
    if (skip) return t.skip(skip);
    const g = tf.variable(gamma!);
    const b = tf.variable(beta!);
    const beforeMean = setAllReduceMean((values) => values);
    const beforeMoments = setAllReduceMoments((mean, variance) => [mean, variance]);
    try {
      await expectNoLeaks(() => {
        for (const grads of [tf.variableGrads, lowMemoryVariableGrads]) {
          const out = grads(() => {
            const r = batchNormTraining(
              x!,
              g as tf.Variable<tf.Rank.R1>,
              b as tf.Variable<tf.Rank.R1>,
            );
            tf.dispose([r.mean, r.variance]);
            return tf.sum(tf.mul(r.y, dy!)) as tf.Scalar;
          }, [g, b]);
          tf.dispose([out.value, ...Object.values(out.grads)]);
        }
        const r = batchNormTraining(x!, null, null);
        tf.dispose([r.y, r.mean, r.variance]);
      });
    } finally {
      setAllReduceMean(beforeMean);
      setAllReduceMoments(beforeMoments);
      tf.dispose([g, b]);
    }
  });

  it("two threads' moments combine in one shared-memory exchange into the whole batch's (bit-identical on both threads)", async (t) => {
    if (skip) return t.skip(skip);
    // Uneven slices (3 and 1 photos) of the real activations, offset by 1000 so that the
    // slices' means sit far above their spread.
    const data = tf.tidy(() => tf.add(x!, 1000).dataSync() as Float32Array);
    const c = 24;
    const split = 3 * 24 * 24 * c;
    const slices = [data.subarray(0, split), data.subarray(split)];
    const own = slices.map((s) => {
      const r = reference(s, new Float32Array(s.length), new Float32Array(c), c);
      return {
        mean: Float32Array.from(r.mean),
        variance: Float32Array.from(r.variance),
        count: s.length / c,
      };
    });
    const whole = reference(data, new Float32Array(data.length), new Float32Array(c), c);
    const buffer = createReducerBuffer(2);
    const api = import.meta.resolve('tsx/esm/api');
    const reducerUrl = import.meta.resolve('../../../src/learner/data-parallel/shared-reducer.ts');
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(${JSON.stringify(api)})
        .then((m) => { m.register(); return import(${JSON.stringify(reducerUrl)}); })
        .then(({ SharedReducer }) => {
          const r = new SharedReducer(workerData.buffer, 2, 1);
          r.beginStep();
          parentPort.postMessage(r.allReduceMoments(workerData.mean, workerData.variance, workerData.count));
        });`;
    const worker = new Worker(code, { eval: true, workerData: { buffer, ...own[1] } });
    const fromWorker = new Promise<[Float32Array, Float32Array]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const reducer = new SharedReducer(buffer, 2, 0);
    reducer.beginStep();
    // Blocks at the barrier until the worker has posted its slice.
    const mine = reducer.allReduceMoments(own[0]!.mean, own[0]!.variance, own[0]!.count);
    const theirs = await fromWorker;
    await worker.terminate();
    assert.deepEqual(theirs[0], mine[0]);
    assert.deepEqual(theirs[1], mine[1]);
    close(mine[0], whole.mean, 'batch mean', 1e-7);
    // The slices' float32 means at ~1000 are good to ~6e-5: that much of their spread is lost.
    close(mine[1], whole.variance, 'batch variance', 1e-5);
    // Sums of squares would have lost it: E[x^2] - mean^2 in float32 at a mean of ~1000.
    const naive = whole.variance.map((_, k) => {
      let s2 = 0;
      for (let i = k; i < data.length; i += c)
        s2 = Math.fround(s2 + Math.fround(data[i]! * data[i]!));
      const mu = Math.fround(whole.mean[k]!);
      return Math.fround(s2 / (data.length / c)) - Math.fround(mu * mu);
    });
    assert.ok(
      relativeError(naive, whole.variance) > 1e-2,
      'the offset makes the naive formula fail',
    );
  });
});
