import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { DiceLoss } from '../../src/learner/dice-loss.js';
import { CrossEntropyLossFlat, lossFromConfig } from '../../src/learner/losses.js';
import { AvgMetric } from '../../src/learner/metrics.js';
import {
  Dice,
  DiceMulti,
  ForegroundAcc,
  foregroundAcc,
  JaccardCoeff,
  JaccardCoeffMulti,
  pixelAccuracy,
} from '../../src/learner/segmentation-metrics.js';

/** Logits whose arg-max is `classes` (one image, [1, H, W, C]). */
function logitsFor(classes: number[][], c: number): tf.Tensor {
  const h = classes.length;
  const w = classes[0]!.length;
  const v = new Float32Array(h * w * c);
  classes.flat().forEach((k, p) => {
    v[p * c + k] = 5;
  });
  return tf.tensor4d(v, [1, h, w, c]);
}

const close = (a: number, b: number, tol = 1e-5) =>
  assert.ok(Math.abs(a - b) < tol, `${a} is not ${b}`);

describe('segmentation metrics', () => {
  // Target [[0,1],[2,1]], prediction [[0,1],[1,2]] (three classes), worked by hand:
  //   pixel accuracy 2/4; foreground (target != 0) 1/3;
  //   Dice per class: 0 -> 2*1/2 = 1, 1 -> 2*1/4 = 0.5, 2 -> 0/2 = 0; mean 0.5;
  //   Jaccard per class: 1/(2-1) = 1, 1/(4-1), 0; mean 4/9.
  const targ = () =>
    tf.tensor3d(
      [
        [
          [0, 1],
          [2, 1],
        ],
      ],
      [1, 2, 2],
      'int32',
    );
  const pred = () =>
    logitsFor(
      [
        [0, 1],
        [1, 2],
      ],
      3,
    );

  it('pixel and foreground accuracy', async () => {
    await ready();
    const [p, t] = [pred(), targ()];
    close((await pixelAccuracy(p, t).data())[0]!, 0.5);
    close((await foregroundAcc(p, t).data())[0]!, 1 / 3);
    // Background class 1: pixels (0,0) right and (1,0) wrong.
    close((await ForegroundAcc({ bkgIdx: 1 })(p, t).data())[0]!, 0.5);
    assert.equal(new AvgMetric(foregroundAcc).name, 'foreground_acc');
    tf.dispose([p, t]);
  });

  it('DiceMulti and JaccardCoeffMulti', async () => {
    const [p, t] = [pred(), targ()];
    const dice = DiceMulti();
    const jac = JaccardCoeffMulti();
    await dice.accumulate(p, t);
    await jac.accumulate(p, t);
    close(dice.value, 0.5);
    close(jac.value, 4 / 9);
    assert.equal(dice.name, 'dice_multi');
    tf.dispose([p, t]);
  });

  it('accumulates over the whole set, not per batch', async () => {
    // Binary. Batch 1: target [1,1,0,0], prediction [1,0,0,0] -> inter 1, |P|+|T| = 3.
    // Batch 2: target [1,0,0,0], prediction [1,1,1,0] -> inter 1, |P|+|T| = 4.
    // Dice = 2*2/7 (per-batch mean would be (2/3 + 2/4)/2); Jaccard = 2/(7-2).
    const dice = Dice();
    const jac = JaccardCoeff();
    for (const [t, pr] of [
      [
        [1, 1, 0, 0],
        [1, 0, 0, 0],
      ],
      [
        [1, 0, 0, 0],
        [1, 1, 1, 0],
      ],
    ]) {
      const tt = tf.tensor3d([[t!.slice(0, 2), t!.slice(2)]], [1, 2, 2], 'int32');
      const pp = logitsFor([pr!.slice(0, 2), pr!.slice(2)], 2);
      await dice.accumulate(pp, tt);
      await jac.accumulate(pp, tt);
      tf.dispose([tt, pp]);
    }
    close(dice.value, 4 / 7);
    close(jac.value, 2 / 5);
    dice.reset();
    assert.ok(Number.isNaN(dice.value));
  });

  it('DiceLoss as fastai defines it (sum over images and classes)', async () => {
    // Probabilities [[0.8, 0.2], [0.4, 0.6]] for two pixels, targets [0, 1]:
    // class 0: inter 0.8, union 1.2 + 1 -> dice 1.6/2.2; class 1: inter 0.6, union 0.8 + 1
    // -> dice 1.2/1.8; loss = (1 - 1.6/2.2) + (1 - 1.2/1.8).
    const logits = tf.log(tf.tensor4d([0.8, 0.2, 0.4, 0.6], [1, 1, 2, 2]));
    const t = tf.tensor3d([0, 1], [1, 1, 2], 'int32');
    const expected = 1 - 1.6 / 2.2 + (1 - 1.2 / 1.8);
    const loss = new DiceLoss();
    const v = loss.compute(logits, t);
    close((await v.data())[0]!, expected);
    const perItem = loss.compute(logits, t, 'none');
    assert.deepEqual(perItem.shape, [1]);
    const mean = new DiceLoss({ reduction: 'mean' }).compute(logits, t);
    close((await mean.data())[0]!, expected / 2);
    const again = lossFromConfig('DiceLoss', loss.getConfig());
    assert.equal(again.name, 'DiceLoss');
    tf.dispose([logits, t, v, perItem, mean]);
  });

  it('CrossEntropyLossFlat over pixels, with the class axis last or named', async () => {
    const logits = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 1);
    const t = tf.randomUniform([2, 3, 4], 0, 5, 'int32', 2);
    // By hand: mean over the 24 pixels of -log softmax(logits)[target].
    const logp = tf.logSoftmax(logits);
    const byHand = tf.mean(tf.neg(tf.sum(tf.mul(logp, tf.oneHot(t, 5)), -1)));
    const flat = new CrossEntropyLossFlat().compute(logits, t);
    // The same logits as NCHW with fastai's axis=1.
    const nchw = logits.transpose([0, 3, 1, 2]);
    const axis1 = new CrossEntropyLossFlat({ axis: 1 });
    const viaAxis = axis1.compute(nchw, t);
    close((await flat.data())[0]!, (await byHand.data())[0]!);
    close((await viaAxis.data())[0]!, (await byHand.data())[0]!);
    const act = axis1.activation(nchw);
    assert.deepEqual(act.shape, [2, 5, 3, 4]);
    const dec = axis1.decodes(act);
    const dec2 = logits.argMax(-1);
    assert.deepEqual(await dec.array(), await dec2.array());
    assert.deepEqual(axis1.getConfig(), { labelSmoothing: 0, axis: 1 });
    tf.dispose([logits, t, logp, byHand, flat, nchw, viaAxis, act, dec, dec2]);
  });
});
