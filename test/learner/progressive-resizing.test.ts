/**
 * Progressive resizing (fastai's chapter 7): `learn.dls = dls224` after a fit at 128 px, and
 * training goes on with the same weights, optimizer state and recorder. Here at 16 then 24 px
 * on real ants/bees photos with a tiny convolutional net, to spare the CPU.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { ValueError } from '../../src/core/errors.js';
import { imagenetStats } from '../../src/data/batch.js';
import { accuracy } from '../../src/learner/metrics.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { syntheticDataLoaders } from '../../src/testing/synthetic-data.js';
import { skipUnlessShared } from '../support/shared.js';
import { hymenopteraDls, tinyImageLearner } from '../support/tiny-image.js';

const skip = skipUnlessShared('data', 'hymenoptera');

describe('learn.dls is settable (progressive resizing)', { skip }, () => {
  before(async () => {
    await ready();
  });

  it('trains at 16 px, then at 24 px with the same weights, optimizer and recorder', async () => {
    const small = await hymenopteraDls(16);
    const large = await hymenopteraDls(24);
    small.normalize(imagenetStats);
    const learn = tinyImageLearner(small, { metrics: [accuracy] });
    const shapes: number[][] = [];
    learn.addCb({ name: 'shapes', beforeBatch: ({ learn: l }) => void shapes.push(l.xb.shape) });
    await learn.fit(1, 1e-2);
    assert.deepEqual(shapes[0], [8, 16, 16, 3]);
    const kernel = learn.model.layers[0]!.getWeights()[0]!;
    const before = kernel.arraySync();
    const nState = tf.memory().numTensors;

    learn.dls = large;
    assert.equal(learn.dls, large);
    // The old data's Normalize statistics carried over to the new data.
    assert.deepEqual(large.normalizer?.stats, imagenetStats);
    // Swapping the data changes no weight and drops no optimizer state.
    assert.deepEqual(learn.model.layers[0]!.getWeights()[0]!.arraySync(), before);
    assert.equal(tf.memory().numTensors, nState);

    shapes.length = 0;
    await expectNoLeaks(() => learn.fit(2, 1e-2));
    assert.ok(shapes.length > 0 && shapes.every((s) => s[1] === 24 && s[2] === 24));
    // Validation also ran on the new data: 8 images (4 ants + 4 bees) in one batch of 8.
    assert.deepEqual(shapes.at(-1), [8, 24, 24, 3]);
    assert.deepEqual(learn.recorder.metricNames, [
      'epoch',
      'train_loss',
      'valid_loss',
      'accuracy',
      'time',
    ]);
    assert.equal(learn.recorder.values.length, 2);
    for (const row of learn.recorder.values) assert.ok(row.every(Number.isFinite), String(row));
    // Training went on from the trained weights, not from scratch.
    assert.notDeepEqual(learn.model.layers[0]!.getWeights()[0]!.arraySync(), before);
    tf.dispose([kernel]);
  });

  it('refuses data whose targets the model cannot predict', async () => {
    const dls = await hymenopteraDls(16);
    const learn = tinyImageLearner(dls);
    const x = tf.zeros([4, 8]);
    const three = syntheticDataLoaders({
      xTrain: x,
      yTrain: tf.tensor1d([0, 1, 2, 0], 'int32'),
      xValid: x,
      yValid: tf.tensor1d([0, 1, 2, 0], 'int32'),
      bs: 2,
      vocab: ['a', 'b', 'c'],
    });
    assert.throws(
      () => {
        learn.dls = three;
      },
      (e: unknown) => e instanceof ValueError && /3 outputs/.test(e.message),
    );
    const renamed = syntheticDataLoaders({
      xTrain: x,
      yTrain: tf.tensor1d([0, 1, 1, 0], 'int32'),
      xValid: x,
      yValid: tf.tensor1d([0, 1, 1, 0], 'int32'),
      bs: 2,
      vocab: ['ants', 'wasps'],
    });
    assert.throws(
      () => {
        learn.dls = renamed;
      },
      (e: unknown) => e instanceof ValueError && /vocab/.test(e.message),
    );
    assert.equal(learn.dls, dls);
  });
});
