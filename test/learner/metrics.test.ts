import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import {
  AvgMetric,
  accuracy,
  accuracyMulti,
  errorRate,
  F1Score,
  Precision,
  Recall,
  topKAccuracy,
} from '../../src/learner/metrics.js';

// 6 items, 3 classes: argmax = [0, 1, 2, 2, 1, 0]; targets [0, 1, 1, 2, 0, 0]
const PREDS = [
  [0.8, 0.1, 0.1],
  [0.2, 0.7, 0.1],
  [0.1, 0.3, 0.6],
  [0.0, 0.1, 0.9],
  [0.4, 0.5, 0.1],
  [0.5, 0.2, 0.3],
];
const TARGS = [0, 1, 1, 2, 0, 0];

const value = (f: (p: tf.Tensor, t: tf.Tensor) => tf.Scalar, preds = PREDS, targs = TARGS) =>
  tf.tidy(() => f(tf.tensor2d(preds), tf.tensor1d(targs, 'int32')).dataSync()[0] as number);

describe('metrics', () => {
  before(async () => {
    await ready();
  });

  it('accuracy, errorRate and topKAccuracy on fixed predictions', () => {
    assert.ok(Math.abs(value(accuracy) - 4 / 6) < 1e-6);
    assert.ok(Math.abs(value(errorRate) - 2 / 6) < 1e-6);
    // top-2: item 2 (target 1: 0.3 second) yes; item 4 (target 0: 0.4 second) yes -> 6/6
    assert.ok(Math.abs(value(topKAccuracy(2)) - 1) < 1e-6);
    assert.ok(Math.abs(value(topKAccuracy(1)) - 4 / 6) < 1e-6);
  });

  it('AvgMetric averages over samples, not batches', async () => {
    const m = new AvgMetric(accuracy);
    assert.equal(m.name, 'accuracy');
    assert.equal(new AvgMetric(errorRate).name, 'error_rate');
    // fastai's column name for top_k_accuracy (not "top_kaccuracy").
    assert.equal(new AvgMetric(topKAccuracy(3)).name, 'top_k_accuracy');
    m.reset();
    // batch of 4 with 4/4 right, then batch of 2 with 0/2 right: 4/6, not (1 + 0)/2
    const p1 = tf.tensor2d(PREDS.slice(0, 2).concat(PREDS.slice(3, 4), PREDS.slice(5, 6)));
    const t1 = tf.tensor1d([0, 1, 2, 0], 'int32');
    const p2 = tf.tensor2d([PREDS[2] as number[], PREDS[4] as number[]]);
    const t2 = tf.tensor1d([1, 0], 'int32');
    await m.accumulate(p1, t1);
    await m.accumulate(p2, t2);
    assert.ok(Math.abs(m.value - 4 / 6) < 1e-6, `${m.value}`);
    tf.dispose([p1, t1, p2, t2]);
  });

  it('macro F1, precision and recall match hand-computed per-class values', async () => {
    // class 0: tp 2 (items 0, 5), fp 0, fn 1 (item 4) -> P 1, R 2/3, F1 0.8
    // class 1: tp 1 (item 1), fp 1 (item 4), fn 1 (item 2) -> P 1/2, R 1/2, F1 1/2
    // class 2: tp 1 (item 3), fp 1 (item 2), fn 0 -> P 1/2, R 1, F1 2/3
    const expected = {
      precision: (1 + 0.5 + 0.5) / 3,
      recall: (2 / 3 + 0.5 + 1) / 3,
      f1: (0.8 + 0.5 + 2 / 3) / 3,
    };
    const p = tf.tensor2d(PREDS);
    const t = tf.tensor1d(TARGS, 'int32');
    for (const [m, e] of [
      [Precision(), expected.precision],
      [Recall(), expected.recall],
      [F1Score(), expected.f1],
    ] as const) {
      m.reset();
      await m.accumulate(p, t);
      assert.ok(Math.abs(m.value - e) < 1e-9, `${m.name}: ${m.value} vs ${e}`);
    }
    tf.dispose([p, t]);
  });

  it('accuracyMulti thresholds sigmoid outputs and averages every element', () => {
    const logits = [
      [2, -2, 0.5],
      [-1, 1, -3],
    ];
    const targs = [
      [1, 0, 0],
      [0, 1, 1],
    ];
    // sigmoid > 0.5 <=> logit > 0: [[1,0,1],[0,1,0]] vs targets: 4 of 6 equal
    const got = tf.tidy(
      () => accuracyMulti()(tf.tensor2d(logits), tf.tensor2d(targs)).dataSync()[0] as number,
    );
    assert.ok(Math.abs(got - 4 / 6) < 1e-6);
  });
});
