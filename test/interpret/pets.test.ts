/**
 * Interpretation on the real pets subset with the real pretrained MobileNet v1 0.75 weights:
 * one frozen epoch on small images, then the confusion matrix, most confused breed pairs and
 * top losses of the validation set.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { CategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import { getImageFiles } from '../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../src/data/labellers.js';
import { RandomSplitter } from '../../src/data/splitters.js';
import { ClassificationInterpretation } from '../../src/interpret/classification-interpretation.js';
import { accuracy } from '../../src/learner/metrics.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';
import { visionLearner } from '../../src/vision/learner.js';
import { mobilenetV1 } from '../../src/vision/models/archs.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';

const IMAGES = join(SHARED_DIR, 'data', 'pets', 'images');
const WEIGHTS = join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224');
const skip =
  skipUnlessShared('data', 'pets', 'images') || skipUnlessShared('models', 'mobilenet_v1_0.75_224');

describe('ClassificationInterpretation on the pets subset', { skip }, () => {
  let out: string;
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('finds real confused breed pairs that, with the diagonal, count the validation set', async () => {
    out = await mkdtemp(join(tmpdir(), 'tsfast-pets-interp-'));
    const breeds = [
      ...new Set(
        readdirSync(IMAGES)
          .map((f) => /^(.+)_\d+\.jpg$/.exec(f)?.[1])
          .filter(Boolean),
      ),
    ].sort() as string[];
    assert.equal(breeds.length, 37);

    const pets = new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      getItems: getImageFiles,
      splitter: RandomSplitter({ seed: 42 }),
      getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
      itemTfms: Resize(64),
    });
    const dls = await pets.dataloaders(IMAGES, { bs: 64, seed: 42 });
    const learn = await visionLearner(dls, mobilenetV1({ alpha: 0.75 }), {
      weights: WEIGHTS,
      metrics: [accuracy],
      trainBn: false,
      seed: 42,
      logger: () => {},
    });
    try {
      await learn.fitOneCycle(1, 1e-2);
      const before = tf.memory().numTensors;
      const interp = await ClassificationInterpretation.fromLearner(learn);
      assert.equal(tf.memory().numTensors, before, 'fromLearner leaks nothing');

      const nValid = dls.validDs.length;
      assert.equal(interp.targets.length, nValid);
      assert.deepEqual(interp.vocab, breeds);
      const cm = interp.confusionMatrix();
      const diag = cm.reduce((s, row, i) => s + row[i]!, 0);
      const confused = interp.mostConfused();
      assert.ok(confused.length > 0);
      assert.equal(confused.reduce((s, [, , n]) => s + n, 0) + diag, nValid);
      for (const [actual, predicted, n] of confused) {
        assert.ok(breeds.includes(actual) && breeds.includes(predicted) && actual !== predicted);
        assert.ok(n >= 1);
      }
      for (let i = 1; i < confused.length; i++) assert.ok(confused[i - 1]![2] >= confused[i]![2]);
      // The learner's own accuracy agrees with the matrix's diagonal.
      const acc =
        learn.recorder.values.at(-1)![learn.recorder.metricNames.indexOf('accuracy') - 1]!;
      assert.ok(Math.abs(acc - diag / nValid) < 1e-6, `${acc} vs ${diag / nValid}`);

      const cmFile = join(out, 'confusion.png');
      await interp.plotConfusionMatrix({ file: cmFile });
      const meta = await sharp(cmFile).metadata();
      assert.ok(meta.width! > 700 && meta.height! > 700, `${meta.width}x${meta.height}`);
      const top = await interp.plotTopLosses(9, { file: join(out, 'top-losses.png') });
      assert.equal(top.length, 9);
      assert.ok(String(top[0]!.item).startsWith(IMAGES));
      // With cross-entropy, each top loss is -ln(probability of the actual class).
      for (const t of top) assert.ok(Math.abs(t.loss + Math.log(t.probability)) < 1e-3);
      // The grid shows the model's input, as fastai does: the 64 px validation centre crop,
      // de-normalised. Reference: sharp's own resize and centre crop of the photo.
      const tensorsBefore = tf.memory().numTensors;
      const seen = await interp.modelInput!(top[0]!.item);
      assert.deepEqual(seen.shape, [64, 64, 3]);
      const { data: ref } = await sharp(String(top[0]!.item))
        .rotate()
        .resize(64, 64, { fit: 'cover' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const px = await seen.data();
      let diff = 0;
      for (let i = 0; i < px.length; i++) diff += Math.abs(px[i]! - ref[i]! / 255);
      assert.ok(diff / px.length < 0.06, `mean |model input - photo| = ${diff / px.length}`);
      seen.dispose();
      assert.equal(tf.memory().numTensors, tensorsBefore);
      if (process.env.TSFAST_KEEP_PLOTS) {
        console.log(`plots in ${out}; accuracy ${acc}; most confused`, confused.slice(0, 5));
        out = '';
      }
    } finally {
      learn.model.dispose();
    }
  });
});
