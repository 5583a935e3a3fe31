import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { GradientAccumulation } from '../../src/callbacks/gradient-accumulation.js';
import { GradientClip } from '../../src/callbacks/gradient-clip.js';
import { CutMix, MixUp, sampleBeta } from '../../src/callbacks/mixup.js';
import { RandomGenerator } from '../../src/core/random.js';
import { CancelFit } from '../../src/learner/cancel.js';
import type { Callback } from '../../src/learner/events.js';
import { Learner } from '../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { SGD } from '../../src/learner/sgd.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { syntheticDataLoaders } from '../../src/testing/synthetic-data.js';
import { blobsLearner, disposeAll, optStateToAllocate, weightValues } from '../learner/fixtures.js';

const sgd = (groups: readonly (readonly tf.Variable[])[], lr: number) => new SGD(groups, { lr });
const stopAfter = (n: number): Callback => ({
  name: 'stopAfter',
  afterBatch: ({ training, trainIter }) => {
    if (training && trainIter >= n) throw new CancelFit();
  },
});

describe('gradient callbacks and MixUp/CutMix', () => {
  before(async () => {
    await ready();
  });

  it('GradientClip scales the step to a global norm of maxNorm (plain SGD, lr 1)', async () => {
    const { learn, dls, model } = blobsLearner(61, { optFunc: sgd });
    const before = weightValues(model);
    const trainable = new Set(learn.trainableVariables.map((v) => v.name));
    await learn.fit(1, 1, { cbs: [new GradientClip({ maxNorm: 0.05 }), stopAfter(1)] });
    const after = weightValues(model);
    let sq = 0;
    model.weights.forEach((w, i) => {
      if (!trainable.has(w.name)) return;
      (after[i] as Float32Array).forEach((v, j) => {
        sq += (v - (before[i] as Float32Array)[j]!) ** 2;
      });
    });
    assert.ok(Math.abs(Math.sqrt(sq) - 0.05) < 1e-4, `update norm ${Math.sqrt(sq)}`);
    disposeAll(learn, dls);
  });

  it('GradientAccumulation steps once per nAcc samples, on the size-weighted sum', async () => {
    const { learn, dls } = blobsLearner(62, { optFunc: sgd });
    let steps = 0;
    let skipped = 0;
    const count: Callback = {
      name: 'count',
      order: 70,
      afterStep: () => void steps++,
      afterCancelBatch: () => void skipped++,
    };
    await expectNoLeaks(
      () => learn.fit(1, 1e-2, { cbs: [new GradientAccumulation({ nAcc: 64 }), count] }),
      optStateToAllocate(learn),
    );
    assert.equal(steps, 3); // 6 batches of 32
    assert.equal(skipped, 3);
    disposeAll(learn, dls);
  });

  it('GradientAccumulation over two half batches equals one step on the full batch', async () => {
    // same data, no shuffle: batches of 16 accumulated to 32 vs batches of 32
    const x = tf.randomNormal([32, 8], 0, 1, 'float32', 3);
    const y = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 3),
      'int32',
    );
    const run = async (bs: number, cbs: Callback[]) => {
      const dls = syntheticDataLoaders({
        xTrain: x.clone(),
        yTrain: y.clone(),
        xValid: x.clone(),
        yValid: y.clone(),
        bs,
        shuffle: false,
      });
      const model = tf.sequential({
        layers: [
          tf.layers.dense({
            units: 3,
            inputShape: [8],
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          }),
        ],
      });
      const learn = new Learner(dls, model, {
        lossFunc: new CrossEntropyLossFlat(),
        optFunc: sgd,
        logger: () => {},
      });
      await learn.fit(1, 0.5, { cbs });
      const w = weightValues(model);
      disposeAll(learn, dls);
      return w;
    };
    const full = await run(32, []);
    const acc = await run(16, [new GradientAccumulation({ nAcc: 32 })]);
    full.forEach((w, i) => {
      w.forEach((v, j) => {
        assert.ok(Math.abs(v - (acc[i] as Float32Array)[j]!) < 1e-6, `w${i}[${j}]`);
      });
    });
    tf.dispose([x, y]);
  });

  it('sampleBeta has the Beta(a, a) mean and variance', () => {
    const rng = new RandomGenerator(1);
    const a = 0.4;
    const xs = Array.from({ length: 20000 }, () => sampleBeta(rng, a, a));
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / (4 * (2 * a + 1))) < 0.01, `variance ${variance}`);
  });

  it('MixUp blends inputs and losses during training only, restores the loss, leaks nothing', async () => {
    const { learn, dls } = blobsLearner(63);
    const original = learn.lossFunc;
    const seen: number[] = [];
    const probe: Callback = {
      name: 'probe',
      order: 70,
      afterPred: ({ learn: l, training }) => {
        if (training) seen.push(l.xb.shape[0] ?? 0);
      },
    };
    await expectNoLeaks(
      () => learn.fit(1, 1e-3, { cbs: [new MixUp({ seed: 1 }), probe] }),
      optStateToAllocate(learn),
    );
    assert.equal(seen.length, 6);
    assert.equal(learn.lossFunc, original);
    assert.ok(Number.isFinite(learn.recorder.values[0]?.[1] as number));
    disposeAll(learn, dls);
  });

  it('CutMix pastes a box from another image and leaks nothing', async () => {
    const x = tf.randomUniform([32, 8, 8, 1], 0, 1, 'float32', 5);
    const y = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 2),
      'int32',
    );
    const dls = syntheticDataLoaders({
      xTrain: x.clone(),
      yTrain: y.clone(),
      xValid: x,
      yValid: y,
      bs: 16,
      vocab: ['a', 'b'],
      seed: 1,
    });
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 2 })],
    });
    const learn = new Learner(dls, model, {
      lossFunc: new CrossEntropyLossFlat(),
      logger: () => {},
    });
    let fraction = Number.NaN;
    const probe: Callback = {
      name: 'probe',
      order: 70,
      beforeBatch: ({ learn: l, training }) => {
        if (!training) return;
        const cut = l.cbs.get(CutMix);
        fraction = cut?.lam?.dataSync()[0] ?? Number.NaN;
      },
    };
    await expectNoLeaks(
      () => learn.fit(1, 1e-3, { cbs: [new CutMix({ seed: 2 }), probe] }),
      optStateToAllocate(learn),
    );
    assert.ok(fraction > 0 && fraction <= 1, `lam ${fraction}`);
    disposeAll(learn, dls);
  });
});
