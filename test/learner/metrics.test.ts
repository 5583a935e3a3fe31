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
import { F1ScoreMulti, PrecisionMulti, RecallMulti } from '../../src/learner/multi-label-scores.js';

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

  it('accuracy flattens predictions with more than two dims, as fastai flatten_check', () => {
    // fastai: x of shape (4, 2, 5) with y = x.argmax(-1) gives accuracy 1; 2 of 8 wrong -> 0.75.
    const logits = Array.from({ length: 4 }, (_, a) =>
      Array.from({ length: 2 }, (_, b) =>
        Array.from({ length: 5 }, (_, c) => ((a * 7 + b * 3 + c * 5) % 11) / 11),
      ),
    );
    const best = logits.map((r) => r.map((v) => v.indexOf(Math.max(...v))));
    const score = (targ: number[][]) =>
      tf.tidy(() => accuracy(tf.tensor3d(logits), tf.tensor2d(targ, [4, 2], 'int32')).arraySync());
    assert.equal(score(best), 1);
    const wrong = best.map((r) => [...r]);
    wrong[0]![1] = (wrong[0]![1]! + 1) % 5;
    wrong[3]![0] = (wrong[3]![0]! + 2) % 5;
    assert.equal(score(wrong), 0.75);
    assert.throws(
      () => tf.tidy(() => accuracy(tf.tensor3d(logits), tf.tensor1d([0, 1, 2], 'int32'))),
      /accuracy: predictions of shape \[4,2\] \(8 values\) do not match targets of shape \[3\]/,
    );
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
      [Precision({ average: 'macro' }), expected.precision],
      [Recall({ average: 'macro' }), expected.recall],
      [F1Score({ average: 'macro' }), expected.f1],
      // micro F1 of single-label predictions is the accuracy; weighted uses supports 3, 2, 1.
      [F1Score({ average: 'micro' }), 4 / 6],
      [F1Score({ average: 'weighted' }), (0.8 * 3 + 0.5 * 2 + 2 / 3) / 6],
    ] as const) {
      m.reset();
      await m.accumulate(p, t);
      assert.ok(Math.abs(m.value - e) < 1e-9, `${m.name}: ${m.value} vs ${e}`);
    }
    tf.dispose([p, t]);
  });

  it("F1Score defaults to fastai's average='binary' (class 1 positive)", async () => {
    // targets [1,1,0,1,0,0,1,0], argmax [1,0,0,1,1,1,1,0]: tp 3, fp 2, fn 1
    // -> precision 0.6, recall 0.75, F1 2/3 (scikit-learn's f1_score defaults).
    const targ = [1, 1, 0, 1, 0, 0, 1, 0];
    const argmax = [1, 0, 0, 1, 1, 1, 1, 0];
    const p = tf.tensor2d(argmax.map((k) => (k === 1 ? [0.2, 0.8] : [0.9, 0.1])));
    const t = tf.tensor1d(targ, 'int32');
    for (const [m, e] of [
      [F1Score(), 2 / 3],
      [Precision(), 0.6],
      [Recall(), 0.75],
      // posLabel 0: tp 2, fp 1, fn 2 -> F1 4/7
      [F1Score({ posLabel: 0 }), 4 / 7],
    ] as const) {
      m.reset();
      await m.accumulate(p, t);
      assert.ok(Math.abs(m.value - e) < 1e-9, `${m.name}: ${m.value} vs ${e}`);
    }
    const three = tf.tensor2d(PREDS);
    const t3 = tf.tensor1d(TARGS, 'int32');
    await assert.rejects(F1Score().accumulate(three, t3), /average 'binary' needs two classes/);
    assert.throws(() => F1Score({ average: 'samples' as never }), /average/);
    tf.dispose([p, t, three, t3]);
  });

  it('F1ScoreMulti and friends score each label at the threshold, averaged as scikit-learn', async () => {
    // sigmoid > 0.5 <=> logit > 0: predicted [[1,0,1],[0,1,0],[1,1,0],[0,0,0]]
    // targets [[1,0,0],[0,1,1],[1,0,0],[0,0,1]]
    // per label F1: 1, 2/3, 0 (macro 5/9); pooled tp 3, fp 2, fn 2 (micro 0.6);
    // supports 2, 1, 2 (weighted 8/15); per item F1 2/3, 2/3, 2/3, 0 (samples 0.5).
    const logits = tf.tensor2d([
      [2, -1, 0.5],
      [-2, 1, -1],
      [1, 3, -2],
      [-1, -1, -0.1],
    ]);
    const targs = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 1],
      [1, 0, 0],
      [0, 0, 1],
    ]);
    for (const [m, e] of [
      [F1ScoreMulti(), 5 / 9],
      [F1ScoreMulti({ average: 'micro' }), 0.6],
      [F1ScoreMulti({ average: 'weighted' }), 8 / 15],
      [F1ScoreMulti({ average: 'samples' }), 0.5],
      // per label precision 1, 1/2, 0; recall 1, 1, 0
      [PrecisionMulti(), 0.5],
      [RecallMulti(), 2 / 3],
    ] as const) {
      m.reset();
      await m.accumulate(logits, targs);
      assert.ok(Math.abs(m.value - e) < 1e-9, `${m.name}: ${m.value} vs ${e}`);
    }
    // Probabilities at threshold 0.3: label 2 of item 3 (0.4) is now predicted -> label 2:
    // tp 1, fp 1, fn 1 (F1 1/2); macro (1 + 2/3 + 1/2) / 3.
    const probs = tf.tensor2d([
      [0.9, 0.1, 0.6],
      [0.1, 0.8, 0.2],
      [0.7, 0.9, 0.1],
      [0.2, 0.1, 0.4],
    ]);
    const m = F1ScoreMulti({ thresh: 0.3, sigmoid: false });
    m.reset();
    await m.accumulate(probs, targs);
    assert.ok(Math.abs(m.value - (1 + 2 / 3 + 0.5) / 3) < 1e-9, `${m.value}`);
    const bad = tf.tensor1d([0, 1, 2, 0], 'int32');
    await assert.rejects(F1ScoreMulti().accumulate(logits, bad), /one-hot targets/);
    tf.dispose([logits, targs, probs, bad]);
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
