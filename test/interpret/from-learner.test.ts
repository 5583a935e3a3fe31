import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/ready.js';
import { RandomGenerator } from '../../src/core/random.js';
import { writeShapeImages } from '../../src/demo/shapes.js';
import { ClassificationInterpretation } from '../../src/interpret/classification-interpretation.js';
import { Learner } from '../../src/learner/learner.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { syntheticDataLoaders } from '../../src/testing/synthetic-data.js';

// A linear classifier with fixed weights over fixed inputs: every probability, prediction and
// loss is recomputed below in plain JavaScript, independently of tfjs.
const N = 10;
const F = 4;
const vocab = ['circle', 'square', 'star'];
const C = vocab.length;
const rng = new RandomGenerator(3);
const X = Array.from({ length: N }, () => Array.from({ length: F }, () => rng.normal()));
const W = Array.from({ length: F }, () => Array.from({ length: C }, () => rng.normal()));
const B = [0.1, -0.2, 0.05];
const Y = Array.from({ length: N }, (_, i) => i % C);

function reference() {
  const probs = X.map((x) => {
    const logits = B.map((b, c) => b + x.reduce((s, v, f) => s + v * W[f]![c]!, 0));
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
  const decoded = probs.map((p) => p.indexOf(Math.max(...p)));
  const losses = probs.map((p, i) => -Math.log(p[Y[i]!]!));
  const cm = vocab.map(() => vocab.map(() => 0));
  Y.forEach((t, i) => {
    cm[t]![decoded[i]!]! += 1;
  });
  return { probs, decoded, losses, cm };
}

describe('ClassificationInterpretation.fromLearner', () => {
  let dir: string;
  let files: string[];
  before(async () => {
    await ready();
    dir = await mkdtemp(join(tmpdir(), 'tsfast-interp-'));
    // Real image files standing for the validation items, for plotTopLosses.
    const imgs = await writeShapeImages(dir, { classes: ['circle'], perClass: N, size: 32 });
    files = imgs.map((i) => i.file);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function makeLearner() {
    const dls = syntheticDataLoaders({
      xTrain: tf.tensor2d(X),
      yTrain: tf.tensor1d(Y, 'int32'),
      xValid: tf.tensor2d(X),
      yValid: tf.tensor1d(Y, 'int32'),
      bs: 4,
      vocab,
    });
    const model = tf.sequential({ layers: [tf.layers.dense({ units: C, inputShape: [F] })] });
    model.layers[0]!.setWeights([tf.tensor2d(W), tf.tensor1d(B)]);
    const learn = new Learner(dls, model, { logger: () => {} });
    const dispose = () => {
      dls.dispose();
      model.dispose();
    };
    return { learn, dispose };
  }

  it('matches probabilities, predictions and losses computed by hand, leaking nothing', async () => {
    const { learn, dispose } = makeLearner();
    try {
      const interp = await expectNoLeaks(() =>
        ClassificationInterpretation.fromLearner(learn, { items: files }),
      );
      const ref = reference();
      assert.deepEqual(interp.vocab, vocab);
      assert.deepEqual(interp.targets, Y);
      assert.deepEqual(interp.decoded, ref.decoded);
      interp.probs.forEach((row, i) => {
        row.forEach((p, c) => {
          assert.ok(Math.abs(p - ref.probs[i]![c]!) < 1e-5, `p[${i}][${c}]`);
        });
      });
      interp.losses.forEach((l, i) => {
        assert.ok(Math.abs(l - ref.losses[i]!) < 1e-4, `loss ${i}`);
      });
      assert.deepEqual(interp.confusionMatrix(), ref.cm);
      const off = interp.mostConfused().reduce((s, r) => s + r[2], 0);
      const diag = ref.cm.reduce((s, row, i) => s + row[i]!, 0);
      assert.equal(off + diag, N);
    } finally {
      dispose();
    }
  });

  it('plots the top losses as a captioned image grid', async () => {
    const { learn, dispose } = makeLearner();
    try {
      const interp = await ClassificationInterpretation.fromLearner(learn, { items: files });
      const file = join(dir, 'top.png');
      const shown = await interp.plotTopLosses(4, { file, ncols: 2, tileSize: 64 });
      const ref = reference();
      const worst = ref.losses
        .map((l, i) => [l, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 4)
        .map(([, i]) => i);
      assert.deepEqual(
        shown.map((t) => t.index),
        worst,
      );
      assert.equal(shown[0]!.item, files[worst[0]!]);
      const meta = await sharp(file).metadata();
      assert.equal(meta.format, 'png');
      assert.ok(meta.width! >= 128 && meta.height! >= 128);
      // Without items there is nothing to draw: the error says what to pass.
      const bare = await ClassificationInterpretation.fromLearner(learn);
      await assert.rejects(bare.plotTopLosses(2, { file }), /pass `items`/);
    } finally {
      dispose();
    }
  });

  it('refuses data without a vocab', async () => {
    const dls = syntheticDataLoaders({
      xTrain: tf.zeros([4, 2]),
      yTrain: tf.zeros([4, 1]),
      xValid: tf.zeros([4, 2]),
      yValid: tf.zeros([4, 1]),
      bs: 2,
    });
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    try {
      const learn = new Learner(dls, model, { logger: () => {} });
      await assert.rejects(ClassificationInterpretation.fromLearner(learn), /no vocab/);
    } finally {
      dls.dispose();
      model.dispose();
    }
  });
});
