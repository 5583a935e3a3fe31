import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import type { Batch, BatchStream } from '../../../src/data/batch.js';
import { Learner } from '../../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../../src/learner/losses.js';
import { expectNoLeaks } from '../../../src/testing/leak-check.js';
import { syntheticDataLoaders, TensorBatchStream } from '../../../src/testing/synthetic-data.js';
import { cutModel, mobilenetV2 } from '../../../src/vision/models/archs.js';
import { dynamicUnet } from '../../../src/vision/segmentation/dynamic-unet.js';
import { flipTta } from '../../../src/vision/segmentation/flip-tta.js';

type Grid = number[][][][];

/** Mirrors an NHWC nested array by hand: axis 1 (rows) or 2 (columns). */
function mirror(a: Grid, axis: 1 | 2): Grid {
  return a.map((img) => (axis === 1 ? [...img].reverse() : img.map((row) => [...row].reverse())));
}

/** Softmax over the last axis of the model's output, as plain numbers. */
async function probsOf(model: tf.LayersModel, x: Grid): Promise<Grid> {
  const input = tf.tensor4d(x);
  const p = tf.tidy(() => tf.softmax(model.predict(input) as tf.Tensor, -1));
  const out = (await p.array()) as Grid;
  tf.dispose([input, p]);
  return out;
}

function maxAbsDiff(a: Grid, b: Grid): number {
  const fb = b.flat(3);
  return a.flat(3).reduce((m, v, k) => Math.max(m, Math.abs(v - fb[k]!)), 0);
}

describe('flipTta', () => {
  let learn: Learner;
  let xValid: Grid;
  let targets: number[][][];

  before(async () => {
    await ready();
    // A real (untrained, seeded) MobileNetV2 0.35 U-Net at 32 px: its stride-2 convolutions
    // and asymmetric init make its predictions far from mirror-symmetric.
    const full = await mobilenetV2({ alpha: 0.35 }).body({
      initialize: true,
      seed: 1,
      inputShape: [32, 32, 3],
    });
    const unet = dynamicUnet(cutModel(full, 'block_16_project_BN'), 3, { seed: 2 });
    const x = tf.randomUniform([5, 32, 32, 3], -1, 1, 'float32', 7);
    const y = tf.randomUniform([5, 32, 32], 0, 3, 'int32', 8);
    xValid = (await x.array()) as Grid;
    targets = (await y.array()) as number[][][];
    const dls = syntheticDataLoaders({
      xTrain: x.clone(),
      yTrain: y.clone(),
      xValid: x,
      yValid: y,
      bs: 2,
    });
    learn = new Learner(dls, unet.model, { lossFunc: new CrossEntropyLossFlat() });
  });

  after(() => {
    (learn.dls as ReturnType<typeof syntheticDataLoaders>).dispose();
    learn.model.dispose();
  });

  it('averages the plain and the mirrored-back probabilities, as done by hand', async () => {
    const plain = await probsOf(learn.model, xValid);
    const mirrored = mirror(await probsOf(learn.model, mirror(xValid, 2)), 2);
    const { preds, targs } = await expectNoLeaks(() => flipTta(learn), 2);
    // Five items in batches of 2, 2, 1: the shape of the masks, with the class axis last.
    assert.deepEqual(preds.shape, [5, 32, 32, 3]);
    assert.deepEqual(targs!.shape, [5, 32, 32]);
    assert.deepEqual(await targs!.array(), targets);
    const got = (await preds.array()) as Grid;
    const expected = plain.map((img, n) =>
      img.map((row, i) => row.map((px, j) => px.map((v, c) => (v + mirrored[n]![i]![j]![c]!) / 2))),
    );
    assert.ok(
      maxAbsDiff(got, expected) < 1e-5,
      `flip TTA = hand average (${maxAbsDiff(got, expected)})`,
    );
    // The mirrored pass matters: the average is not the plain prediction.
    assert.ok(maxAbsDiff(got, plain) > 1e-3, 'the untrained U-Net is not mirror-symmetric');
    tf.dispose([preds, targs!]);
  });

  it('averages three passes with both mirrors, on the stream given', async () => {
    const plain = await probsOf(learn.model, xValid);
    const h = mirror(await probsOf(learn.model, mirror(xValid, 2)), 2);
    const v = mirror(await probsOf(learn.model, mirror(xValid, 1)), 1);
    const { preds, targs } = await expectNoLeaks(
      () => flipTta(learn, { flips: ['horizontal', 'vertical'], dl: learn.dls.valid }),
      2,
    );
    const got = (await preds.array()) as Grid;
    const expected = plain.map((img, n) =>
      img.map((row, i) =>
        row.map((px, j) => px.map((p, c) => (p + h[n]![i]![j]![c]! + v[n]![i]![j]![c]!) / 3)),
      ),
    );
    assert.ok(maxAbsDiff(got, expected) < 1e-5);
    tf.dispose([preds, targs!]);
  });

  it('leaks nothing when the stream fails after a batch, and rethrows its error', async () => {
    const x = tf.tensor4d(xValid);
    const y = tf.tensor3d(targets, undefined, 'int32');
    const inner = new TensorBatchStream(x, y, { bs: 2 });
    const failing: BatchStream = {
      numBatches: 3,
      numItems: 5,
      async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
        let b = 0;
        for await (const batch of inner) {
          if (b++ === 1) {
            tf.dispose([batch.xs, batch.ys]);
            throw new Error('disk gone');
          }
          yield batch;
        }
      },
    };
    await expectNoLeaks(() => assert.rejects(() => flipTta(learn, { dl: failing }), /disk gone/));
    tf.dispose([x, y]);
  });

  it('refuses inputs that are not image batches, and models that are not per-pixel', async () => {
    const flat = tf.zeros([4, 12]);
    const labels = tf.zeros([4], 'int32');
    const table = new TensorBatchStream(flat, labels, { bs: 2 });
    await expectNoLeaks(() =>
      assert.rejects(
        () => flipTta(learn, { dl: table }),
        /flipTta mirrors images, but batch 0 has inputs of shape \[2,12\], not \[N, H, W, C\]/,
      ),
    );
    tf.dispose([flat, labels]);

    const input = tf.input({ shape: [8, 8, 3] });
    const pooled = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
    const head = tf.layers.dense({ units: 3 }).apply(pooled) as tf.SymbolicTensor;
    const classifier = new Learner(learn.dls, tf.model({ inputs: input, outputs: head }), {
      lossFunc: new CrossEntropyLossFlat(),
    });
    const imgs = tf.zeros([2, 8, 8, 3]);
    const cls = tf.zeros([2], 'int32');
    await expectNoLeaks(() =>
      assert.rejects(
        () => flipTta(classifier, { dl: new TensorBatchStream(imgs, cls, { bs: 2 }) }),
        /flipTta averages per-pixel predictions, but the model maps images of shape \[2,8,8,3\] to \[2,3\]/,
      ),
    );
    tf.dispose([imgs, cls]);
    classifier.model.dispose();
  });

  it('names the option at fault', async () => {
    await assert.rejects(
      () => flipTta(learn, { flips: ['diagonal' as 'vertical'] }),
      /`flips` must be a list of 'horizontal' and 'vertical'. Received: flips=\["diagonal"\]/,
    );
    await assert.rejects(
      () => flipTta(learn, { flips: ['constructor' as 'vertical'] }),
      /`flips` must be a list of 'horizontal' and 'vertical'/,
    );
    await assert.rejects(
      () => flipTta(learn, { dsIdx: 2 as 1 }),
      /`dsIdx` must be 0 \(training\) or 1 \(validation\). Received: dsIdx=2/,
    );
    await assert.rejects(
      () => flipTta(learn, { flips: ['horizontal', 'horizontal'] }),
      /`flips` must be a list without repeats/,
    );
    await assert.rejects(() => flipTta(learn, { flip: 'horizontal' } as never), /flip/);
  });
});
