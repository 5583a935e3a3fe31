import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { ValueError } from '../../src/core/errors.js';
import { Learner } from '../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { TensorBatchStream } from '../../src/testing/synthetic-data.js';
import { blobsLearner, disposeAll } from './fixtures.js';

describe('getPreds, predict, tta', () => {
  before(async () => {
    await ready();
  });

  it('getPreds returns activations, targets, per-item losses and decoded labels, in order', async () => {
    const { learn, dls } = blobsLearner(81);
    await learn.fit(1, 1e-2);
    const r = await expectNoLeaks(
      () => learn.getPreds({ withLoss: true, withDecoded: true, withInput: true }),
      5,
    );
    assert.deepEqual(r.preds.shape, [64, 3]);
    assert.deepEqual(r.targs?.shape, [64]);
    const sums = tf.tidy(() => Array.from(r.preds.sum(1).dataSync()));
    assert.ok(
      sums.every((s) => Math.abs(s - 1) < 1e-5),
      'softmax rows sum to 1',
    );
    // per-item loss = -log p[target]; mean equals the validation loss
    const p = r.preds.arraySync() as number[][];
    const t = Array.from((r.targs as tf.Tensor).dataSync());
    const l = Array.from((r.losses as tf.Tensor).dataSync());
    l.forEach((v, i) => {
      assert.ok(Math.abs(v + Math.log(p[i]?.[t[i] as number] as number)) < 1e-4, `item ${i}`);
    });
    const [validLoss] = await learn.validate();
    assert.ok(Math.abs(l.reduce((a, b) => a + b, 0) / l.length - (validLoss as number)) < 1e-5);
    assert.deepEqual(
      Array.from((r.decoded as tf.Tensor).dataSync()),
      p.map((row) => row.indexOf(Math.max(...row))),
    );
    tf.dispose(Object.values(r));
    disposeAll(learn, dls);
  });

  it('predict gives label, index and probabilities for one item', async () => {
    const { learn, dls } = blobsLearner(82);
    const x = tf.tensor1d([0.5, -1, 0, 2, 1, 0, -0.5, 0.3]);
    const r = await expectNoLeaks(() => learn.predict(x));
    assert.equal(r.probs.length, 3);
    assert.equal(r.index, r.probs.indexOf(Math.max(...r.probs)));
    assert.equal(r.label, ['a', 'b', 'c'][r.index as number]);
    await assert.rejects(
      learn.predict('cat.jpg'),
      (e: unknown) => e instanceof ValueError && /no encodeInputs/.test(e.message),
    );
    x.dispose();
    disposeAll(learn, dls);
  });

  it('tta blends the mean of augmented passes with the plain predictions', async () => {
    const x = tf.randomNormal([20, 4], 0, 1, 'float32', 9);
    const y = tf.tensor1d(
      Array.from({ length: 20 }, (_, i) => i % 2),
      'int32',
    );
    const shifted = x.add(1);
    const dls = {
      train: new TensorBatchStream(x, y, { bs: 10 }),
      valid: new TensorBatchStream(x, y, { bs: 10 }),
      vocab: ['n', 'p'],
      c: 2,
      validWithAugmentation: () => new TensorBatchStream(shifted, y, { bs: 10 }),
    };
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
    const learn = new Learner(dls, model, {
      lossFunc: new CrossEntropyLossFlat(),
      logger: () => {},
    });
    const { preds, targs } = await expectNoLeaks(() => learn.tta({ n: 2, beta: 0.25 }), 2);
    const expected = tf.tidy(() => {
      const plain = tf.softmax(model.predict(x) as tf.Tensor);
      const aug = tf.softmax(model.predict(shifted) as tf.Tensor);
      return Array.from(aug.add(plain.sub(aug).mul(0.25)).dataSync());
    });
    Array.from(preds.dataSync()).forEach((v, i) => {
      assert.ok(Math.abs(v - (expected[i] as number)) < 1e-6);
    });
    tf.dispose([preds, targs, x, y, shifted]);
    learn.opt.dispose();
    model.dispose();
  });
});
