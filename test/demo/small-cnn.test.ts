import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { copyBodyWeights, smallCnn, smallCnnSplitter } from '../../src/demo/small-cnn.js';
import { ClassificationInterpretation } from '../../src/interpret/classification-interpretation.js';
import { Learner } from '../../src/learner/learner.js';
import { accuracy } from '../../src/learner/metrics.js';
import { expectKernelsSupported } from '../../src/testing/kernel-guard.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { syntheticDataLoaders } from '../../src/testing/synthetic-data.js';
import { optStateToAllocate } from '../learner/fixtures.js';
import { skipUnlessShared } from '../support/shared.js';

describe('smallCnn', () => {
  before(async () => {
    await ready();
  });

  it('maps [N, 32, 32, 3] to logits, deterministically for a seed', () => {
    const a = smallCnn(5, { seed: 1 });
    const b = smallCnn(5, { seed: 1 });
    const c = smallCnn(5, { seed: 2 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 3);
    const [ya, yb, yc] = [a, b, c].map((m) => m.predict(x) as tf.Tensor);
    assert.deepEqual(ya!.shape, [2, 5]);
    assert.deepEqual(ya!.arraySync(), yb!.arraySync());
    assert.notDeepEqual(ya!.arraySync(), yc!.arraySync());
    tf.dispose([x, ya!, yb!, yc!]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('splits into body and head, and copies the body only', () => {
    const src = smallCnn(6, { seed: 1 });
    const dst = smallCnn(4, { seed: 2 });
    const [body, head] = smallCnnSplitter(dst);
    assert.deepEqual(
      head!.map((l) => l.name),
      ['head_dense'],
    );
    assert.ok(
      body!.some((l) => l.name === 'conv0') && body!.every((l) => !l.name.startsWith('head_')),
    );
    const headBefore = dst.getLayer('head_dense').getWeights()[0]!.arraySync();
    const n = copyBodyWeights(src, dst);
    assert.equal(n, 8); // 4 convs + 4 batch norms
    for (const name of ['conv0', 'bn3']) {
      const w1 = src
        .getLayer(name)
        .getWeights()
        .map((w) => w.arraySync());
      const w2 = dst
        .getLayer(name)
        .getWeights()
        .map((w) => w.arraySync());
      assert.deepEqual(w2, w1);
    }
    assert.deepEqual(dst.getLayer('head_dense').getWeights()[0]!.arraySync(), headBefore);
    src.dispose();
    dst.dispose();
  });

  it('trains (frozen and unfrozen) and interprets with kernels tfjs-node has, leaking nothing', {
    skip: skipUnlessShared('compat', 'tfjs-node-4.22.0-kernels.txt'),
  }, async () => {
    const x = tf.randomUniform([16, 32, 32, 3], 0, 1, 'float32', 5);
    const dls = syntheticDataLoaders({
      xTrain: x,
      yTrain: tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], 'int32'),
      xValid: x.slice(0, 8),
      yValid: tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'),
      bs: 8,
      vocab: ['a', 'b', 'c', 'd'],
      seed: 1,
    });
    const model = smallCnn(4, { seed: 3, channels: [4, 8, 8, 8] });
    try {
      const learn = new Learner(dls, model, {
        metrics: [accuracy],
        splitter: smallCnnSplitter,
        logger: () => {},
      });
      // the optimizer's state, allocated on the first steps, is all fineTune leaves alive
      const { kernels } = await expectNoLeaks(
        () =>
          expectKernelsSupported(async () => {
            await learn.fineTune(1, 1e-2, { freezeEpochs: 1 });
            await ClassificationInterpretation.fromLearner(learn);
          }),
        optStateToAllocate(learn),
      );
      learn.opt.dispose();
      for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'MaxPool', 'Softmax']) {
        assert.ok(kernels.includes(k), `${k} not dispatched: ${kernels.join(', ')}`);
      }
    } finally {
      dls.dispose();
      model.dispose();
    }
  });
});
