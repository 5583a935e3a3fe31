import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { TsfastError } from '../../src/core/errors.js';
import {
  expectKernelsSupported,
  readKernelList,
  TFJS_NODE_KERNELS_FILE,
} from '../../src/testing/kernel-guard.js';
import { skipUnlessShared } from '../support/shared.js';

const skip = skipUnlessShared('compat', 'tfjs-node-4.22.0-kernels.txt');

describe('expectKernelsSupported', { skip }, () => {
  before(async () => {
    await ready();
  });

  it('reads the tfjs-node kernel list', () => {
    const kernels = readKernelList(TFJS_NODE_KERNELS_FILE);
    assert.ok(kernels.has('Conv2DBackpropFilter'));
    assert.ok(!kernels.has('Transform'));
  });

  it('passes a training step of a dense layer and reports its kernels', async () => {
    const x = tf.randomNormal([4, 8]);
    const w = tf.variable(tf.randomNormal([8, 3]));
    const { result, kernels } = await expectKernelsSupported(() =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.relu(tf.matMul(x, w)).square().mean() as tf.Scalar,
        );
        w.assign(w.sub(grads[w.name]!.mul(0.1)));
        return value.dataSync()[0];
      }),
    );
    assert.equal(typeof result, 'number');
    for (const k of ['BatchMatMul', 'Relu', 'Square', 'Mean']) {
      assert.ok(kernels.includes(k), `${k} not recorded in ${kernels.join(',')}`);
    }
    x.dispose();
    w.dispose();
  });

  it('fails on tf.image.transform, which tfjs-node lacks', async () => {
    const image = tf.zeros([1, 4, 4, 3]);
    const matrix = tf.tensor2d([[1, 0, 0, 0, 1, 0, 0, 0]]);
    await assert.rejects(
      expectKernelsSupported(() =>
        tf.tidy(() =>
          tf.image
            .transform(image as tf.Tensor4D, matrix as tf.Tensor2D)
            .sum()
            .dataSync(),
        ),
      ),
      (err: unknown) =>
        err instanceof TsfastError &&
        err.code === 'KERNEL' &&
        /Kernels not registered by tfjs-node 4\.22\.0: Transform\b/.test(err.message),
    );
    image.dispose();
    matrix.dispose();
  });

  it('names a missing list file', () => {
    assert.throws(
      () => readKernelList('/nonexistent/kernels.txt'),
      /Kernel list "\/nonexistent\/kernels.txt" not found/,
    );
  });
});
