/**
 * Recorder's `trainMetrics` (fastai's `Recorder(train_metrics=True)`): fastai's documented
 * column names (`['epoch', 'train_loss', 'train_<metric>', 'valid_loss', 'valid_<metric>',
 * 'time']`) and values: the metric over the training batches' own predictions, per sample.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { Recorder } from '../../src/callbacks/recorder.js';
import { ValueError } from '../../src/core/errors.js';
import { errorRate } from '../../src/learner/metrics.js';
import { blobsLearner, disposeAll } from '../learner/fixtures.js';

describe('Recorder trainMetrics', () => {
  before(async () => {
    await ready();
  });

  it('adds train_<metric> columns computed on the training predictions', async () => {
    const { learn, dls } = blobsLearner(61, { metrics: [errorRate] });
    learn.recorder.trainMetrics = true;
    // Count by hand what the model predicted on each training batch, while it trained.
    let right = 0;
    let seen = 0;
    const perEpoch: number[] = [];
    learn.addCb({
      name: 'count',
      beforeTrain: () => {
        right = 0;
        seen = 0;
      },
      afterBatch: ({ learn: l, training }) => {
        if (!training) return;
        const ok = tf.tidy(() => l.pred.argMax(1).equal(l.yb).sum().dataSync()[0]!);
        right += ok;
        seen += l.yb.shape[0]!;
      },
      afterTrain: () => void perEpoch.push(1 - right / seen),
    });
    await learn.fit(2, 1e-2);
    const r = learn.recorder;
    assert.deepEqual(r.metricNames, [
      'epoch',
      'train_loss',
      'train_error_rate',
      'valid_loss',
      'valid_error_rate',
      'time',
    ]);
    assert.equal(r.values.length, 2);
    r.values.forEach((row, e) => {
      assert.equal(row.length, 4);
      assert.ok(Math.abs(row[1]! - perEpoch[e]!) < 1e-9, `epoch ${e}: ${row[1]} vs ${perEpoch[e]}`);
    });
    assert.equal(r.values[1]![0], r.losses.at(-1));
    // The validation columns are what validate() computes on the final weights.
    const [validLoss, validErr] = await learn.validate();
    assert.ok(Math.abs(r.values[1]![2]! - validLoss!) < 1e-6);
    assert.ok(Math.abs(r.values[1]![3]! - validErr!) < 1e-9);

    learn.recorder.trainMetrics = false;
    await learn.fit(1, 1e-3);
    assert.deepEqual(r.metricNames, ['epoch', 'train_loss', 'valid_loss', 'error_rate', 'time']);
    assert.equal(r.values[0]!.length, 3);
    disposeAll(learn, dls);
  });

  it('takes options or the smoothing beta, and rejects unknown options', () => {
    assert.equal(new Recorder({ trainMetrics: true }).trainMetrics, true);
    assert.equal(new Recorder(0.9).trainMetrics, false);
    assert.throws(() => new Recorder({ train_metrics: true } as never), ValueError);
  });
});
