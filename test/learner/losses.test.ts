import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import {
  BCEWithLogitsLossFlat,
  CrossEntropyLossFlat,
  FocalLossFlat,
  LabelSmoothingCrossEntropy,
  logSoftmax,
  lossFromConfig,
  MSELossFlat,
} from '../../src/learner/losses.js';
import { expectKernelsSupported } from '../../src/testing/kernel-guard.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';

const LOGITS = [
  [2.0, -1.0, 0.5],
  [0.1, 0.2, 3.0],
  [-2.0, 4.0, 1.0],
  [0.0, 0.0, 0.0],
];
const TARGS = [0, 2, 0, 1];

/** log-softmax in float64 */
function logp(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
};

describe('losses', () => {
  before(async () => {
    await ready();
  });

  it('logSoftmax equals x - logSumExp(x) in float64', () => {
    const out = tf.tidy(() => logSoftmax(tf.tensor2d(LOGITS)).arraySync() as number[][]);
    out.forEach((row, i) => {
      row.forEach((v, j) => {
        assert.ok(Math.abs(v - (logp(LOGITS[i] as number[])[j] as number)) < 1e-5);
      });
    });
  });

  it('CrossEntropyLossFlat is the mean NLL of log-softmax; softmax activation, argmax decodes', () => {
    const expected =
      LOGITS.reduce((s, row, i) => s - (logp(row)[TARGS[i] as number] as number), 0) / 4;
    const loss = new CrossEntropyLossFlat();
    const got = tf.tidy(
      () => loss.compute(tf.tensor2d(LOGITS), tf.tensor1d(TARGS, 'int32')).dataSync()[0] as number,
    );
    assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
    const dec = tf.tidy(() =>
      Array.from(loss.decodes(loss.activation(tf.tensor2d(LOGITS))).dataSync()),
    );
    assert.deepEqual(dec, [0, 2, 1, 0]);
  });

  it('LabelSmoothingCrossEntropy equals eps/C * sum(-log p) + (1-eps) * nll', () => {
    const eps = 0.1;
    const c = 3;
    const expected =
      LOGITS.reduce((s, row, i) => {
        const lp = logp(row);
        const smooth = -lp.reduce((a, b) => a + b, 0);
        return s + (eps / c) * smooth + (1 - eps) * -(lp[TARGS[i] as number] as number);
      }, 0) / 4;
    const got = scalar(
      tf.tidy(() =>
        new LabelSmoothingCrossEntropy({ eps }).compute(
          tf.tensor2d(LOGITS),
          tf.tensor1d(TARGS, 'int32'),
        ),
      ),
    );
    assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
  });

  it('FocalLossFlat equals mean((1 - p_t)^gamma * CE)', () => {
    const expected =
      LOGITS.reduce((s, row, i) => {
        const ce = -(logp(row)[TARGS[i] as number] as number);
        return s + (1 - Math.exp(-ce)) ** 2 * ce;
      }, 0) / 4;
    const got = scalar(
      tf.tidy(() => new FocalLossFlat().compute(tf.tensor2d(LOGITS), tf.tensor1d(TARGS, 'int32'))),
    );
    assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
  });

  it("FocalLossFlat's weight and reduction match PyTorch's focal loss (fastai FocalLoss)", () => {
    // PyTorch 1.13, float64: ce = F.cross_entropy(x, t, weight=w, reduction='none');
    // (1 - exp(-ce))**gamma * ce, then mean / sum.
    const x = [
      [1.0, -0.5, 2.0],
      [0.3, 0.2, -1.0],
      [-2.0, 1.5, 0.5],
      [0.0, 0.1, 3.0],
    ];
    const t = [2, 0, 1, 1];
    const run = (loss: FocalLossFlat, reduction?: 'none' | 'mean' | 'sum') =>
      tf.tidy(() =>
        Array.from(
          loss.compute(tf.tensor2d(x), tf.tensor1d(t, 'int32'), reduction as never).dataSync(),
        ),
      );
    const close = (a: number[], b: number[]) =>
      b.forEach((v, i) => {
        assert.ok(Math.abs(a[i]! - v) < 1e-5 * Math.max(1, v), `${a} vs ${b}`);
      });
    const weighted = new FocalLossFlat({ weight: [0.5, 2, 1] });
    close(run(weighted, 'none'), [0.0357804773, 0.0404157408, 0.1598590153, 5.9696229706]);
    close(run(weighted), [1.551419551]);
    close(run(new FocalLossFlat({ weight: [0.5, 2, 1], reduction: 'sum' })), [6.205678204]);
    close(run(new FocalLossFlat({ gamma: 3, reduction: 'sum' })), [2.7153050527]);
    const cfg = new FocalLossFlat({ gamma: 3, weight: [1, 2, 3], reduction: 'sum' }).getConfig();
    assert.deepEqual(lossFromConfig('FocalLossFlat', cfg).getConfig(), cfg);
    assert.throws(() => run(new FocalLossFlat({ weight: [1, 2] })), /weight has 2 values/);
    assert.throws(() => new FocalLossFlat({ reduction: 'max' as never }), /reduction/);
  });

  it("BCEWithLogitsLossFlat's posWeight matches PyTorch's pos_weight", () => {
    // PyTorch 1.13, float64: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw).
    const x = [
      [3, -2, 0.5],
      [-40, 1, 25],
    ];
    const y = [
      [1, 0, 1],
      [1, 1, 0],
    ];
    const run = (loss: BCEWithLogitsLossFlat, reduction: 'mean' | 'none' = 'mean') =>
      tf.tidy(() => Array.from(loss.compute(tf.tensor2d(x), tf.tensor2d(y), reduction).dataSync()));
    const perLabel = new BCEWithLogitsLossFlat({ posWeight: [2, 0.5, 3] });
    assert.ok(Math.abs(run(perLabel)[0]! - 17.800494085) < 1e-4);
    const none = run(perLabel, 'none');
    [0.0971747031, 0.126928011, 1.4222309525, 80, 0.1566308438, 25].forEach((v, i) => {
      assert.ok(Math.abs(none[i]! - v) < 1e-4, `${none} element ${i}`);
    });
    assert.ok(Math.abs(run(new BCEWithLogitsLossFlat({ posWeight: 4 }))[0]! - 31.411772017) < 1e-4);
    const cfg = perLabel.getConfig();
    assert.deepEqual(lossFromConfig('BCEWithLogitsLossFlat', cfg).getConfig(), cfg);
    assert.throws(() => run(new BCEWithLogitsLossFlat({ posWeight: [1, 2] })), /posWeight has 2/);
    assert.throws(() => new BCEWithLogitsLossFlat({ posWeight: -1 }), /posWeight/);
  });

  it('BCEWithLogitsLossFlat equals mean(-y log s(x) - (1-y) log(1-s(x))), stable for large logits', () => {
    const x = [
      [3, -2],
      [0.5, 40],
    ];
    const y = [
      [1, 0],
      [0, 1],
    ];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const flat = x.flat().map((v, i) => {
      const t = y.flat()[i] as number;
      return -((t ? t * Math.log(sig(v)) : 0) + (t < 1 ? (1 - t) * Math.log(1 - sig(v)) : 0));
    });
    const expected = flat.reduce((a, b) => a + b, 0) / flat.length;
    const loss = new BCEWithLogitsLossFlat();
    const got = scalar(tf.tidy(() => loss.compute(tf.tensor2d(x), tf.tensor2d(y))));
    assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
    const dec = tf.tidy(() => Array.from(loss.decodes(loss.activation(tf.tensor2d(x))).dataSync()));
    assert.deepEqual(dec, [1, 0, 1, 1]);
  });

  it('MSELossFlat flattens predictions and targets', () => {
    const got = scalar(
      tf.tidy(() =>
        new MSELossFlat().compute(tf.tensor2d([[1], [2], [4]]), tf.tensor1d([1, 0, 1])),
      ),
    );
    assert.ok(Math.abs(got - (0 + 4 + 9) / 3) < 1e-6);
    assert.throws(
      () => tf.tidy(() => new MSELossFlat().compute(tf.ones([3]), tf.ones([2]))),
      /predictions have 3 values/,
    );
  });

  it('reduction "none" gives one value per item; configs round-trip through the registry', () => {
    const per = tf.tidy(() =>
      Array.from(
        new CrossEntropyLossFlat()
          .compute(tf.tensor2d(LOGITS), tf.tensor1d(TARGS, 'int32'), 'none')
          .dataSync(),
      ),
    );
    assert.equal(per.length, 4);
    const ls = lossFromConfig(
      'LabelSmoothingCrossEntropy',
      new LabelSmoothingCrossEntropy({ eps: 0.2 }).getConfig(),
    );
    assert.deepEqual(ls.getConfig(), { eps: 0.2 });
    assert.throws(() => lossFromConfig('Nope', {}), /Unknown loss "Nope"/);
  });

  it('use only tfjs-node kernels (forward and gradient) and leak nothing', async () => {
    await expectNoLeaks(() =>
      expectKernelsSupported(() =>
        tf.tidy(() => {
          const x = tf.variable(tf.tensor2d(LOGITS));
          const t = tf.tensor1d(TARGS, 'int32');
          for (const loss of [
            new CrossEntropyLossFlat(),
            new LabelSmoothingCrossEntropy(),
            new FocalLossFlat(),
            new FocalLossFlat({ weight: [1, 2, 3], reduction: 'sum' }),
          ]) {
            const { grads } = tf.variableGrads(() => loss.compute(x, t) as tf.Scalar, [x]);
            tf.dispose(Object.values(grads));
          }
          for (const bce of [
            new BCEWithLogitsLossFlat(),
            new BCEWithLogitsLossFlat({ posWeight: [1, 2, 3] }),
            new BCEWithLogitsLossFlat({ posWeight: 2 }),
          ]) {
            const { grads } = tf.variableGrads(
              () => bce.compute(x, tf.onesLike(x)) as tf.Scalar,
              [x],
            );
            tf.dispose(Object.values(grads));
          }
          x.dispose();
        }),
      ),
    );
  });
});
