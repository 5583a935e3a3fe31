import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { ValueError } from '../../src/core/errors.js';
import { blobsLearner, disposeAll } from './fixtures.js';

describe('predict on one item', () => {
  before(async () => {
    await ready();
  });

  it('refuses a batch of several items instead of answering for the first only', async () => {
    const { learn, dls } = blobsLearner(11);
    const batch = tf.randomNormal([2, 8]);
    const n0 = tf.memory().numTensors;
    await assert.rejects(
      learn.predict(batch),
      (e: unknown) => e instanceof ValueError && /batch of 2/.test(e.message),
    );
    assert.equal(tf.memory().numTensors, n0);
    // One item, with or without its batch axis, gives the same answer as the model.
    const one = batch.slice([1, 0], [1, 8]);
    const want = tf.tidy(() => tf.softmax(learn.model.predict(one) as tf.Tensor).dataSync());
    const a = await learn.predict(one);
    const b = await learn.predict(one.squeeze([0]));
    assert.deepEqual(a.probs, Array.from(want));
    assert.deepEqual(b.probs, a.probs);
    assert.equal(a.label, ['a', 'b', 'c'][a.index as number]);
    tf.dispose([batch, one]);
    disposeAll(learn, dls);
  });

  it('a failed predict (wrong input width) leaks nothing', async () => {
    const { learn, dls } = blobsLearner(12);
    const bad = tf.randomNormal([5]);
    const n0 = tf.memory().numTensors;
    await assert.rejects(learn.predict(bad));
    assert.equal(tf.memory().numTensors, n0);
    bad.dispose();
    disposeAll(learn, dls);
  });
});
