/**
 * Multi-label classification end to end on the real pets photos: two labels per image, the
 * species (fastai's convention: cat breeds are Capitalized) and the breed, both from the file
 * name; a frozen pretrained MobileNet trained briefly at 64 px with the default loss of a
 * MultiCategoryBlock (BCE), `accuracyMulti` and `F1ScoreMulti`, and predictions decoded to
 * label lists.
 */
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { MultiCategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import { getImageFiles } from '../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../src/data/labellers.js';
import { RandomSubsetSplitter } from '../../src/data/subset-splitters.js';
import { accuracyMulti } from '../../src/learner/metrics.js';
import { F1ScoreMulti } from '../../src/learner/multi-label-scores.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';
import { visionLearner } from '../../src/vision/learner.js';
import { mobilenetV1 } from '../../src/vision/models/archs.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';

const IMAGES = join(SHARED_DIR, 'data', 'pets', 'images');
const WEIGHTS = join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224');
const skip =
  skipUnlessShared('data', 'pets', 'images') || skipUnlessShared('models', 'mobilenet_v1_0.75_224');

const breedOf = usingAttr(RegexLabeller(/^(.+)_\d+\.jpg$/), 'name');
/** Species and breed: fastai's pets convention, cat breeds start with a capital letter. */
function speciesAndBreed(file: unknown): string[] {
  const breed = breedOf(file);
  return [breed[0] === breed[0]!.toUpperCase() ? 'cat' : 'dog', breed];
}

describe('multi-label classification on the pets photos', { skip }, () => {
  it('trains with BCE, reports accuracyMulti and F1 at the threshold, predicts label lists', async () => {
    const thresh = 0.5;
    // A 25% subset may miss a breed of 10 photos: the vocab is given, every label of the set.
    const files = await getImageFiles(IMAGES);
    const labels = [...new Set(files.flatMap(speciesAndBreed))].sort();
    assert.equal(labels.length, 39);
    const pets = new DataBlock({
      blocks: [ImageBlock, MultiCategoryBlock({ vocab: labels })],
      getItems: getImageFiles,
      splitter: RandomSubsetSplitter(0.25, 0.1, { seed: 42 }),
      getY: speciesAndBreed,
      itemTfms: Resize(64),
    });
    const dls = await pets.dataloaders(IMAGES, { bs: 32, seed: 42 });
    assert.equal(dls.trainDs.length, 235);
    assert.equal(dls.validDs.length, 94);
    const vocab = dls.vocab!;
    assert.deepEqual(vocab, labels);
    assert.equal(dls.c, vocab.length);

    const learn = await visionLearner(dls, mobilenetV1({ alpha: 0.75 }), {
      weights: WEIGHTS,
      metrics: [accuracyMulti({ thresh }), F1ScoreMulti({ thresh })],
      trainBn: false,
      seed: 42,
      logger: () => {},
    });
    // fastai: a MultiCategoryBlock's loss is BCEWithLogitsLossFlat.
    assert.equal(learn.lossFunc.name, 'BCEWithLogitsLossFlat');
    await learn.fitOneCycle(3, 2e-2);
    const before = tf.memory().numTensors;
    const rec = learn.recorder;
    assert.deepEqual(rec.metricNames.slice(3, 5), ['accuracy_multi', 'f1_score']);
    const [first, last] = [rec.values[0]!, rec.values.at(-1)!];
    assert.ok(last[1]! < first[1]!, `validation loss falls: ${first[1]} -> ${last[1]}`);

    // The recorded metrics equal the same scores computed by hand from the predictions.
    const { preds, targs: maybeTargs } = await learn.getPreds();
    const targs = maybeTargs as tf.Tensor; // a labelled validation set has targets
    const p = (await preds.array()) as number[][];
    const t = (await targs.array()) as number[][];
    tf.dispose([preds, targs]);
    let agree = 0;
    let f1 = 0;
    for (let j = 0; j < vocab.length; j++) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      p.forEach((row, i) => {
        const yes = row[j]! > thresh;
        const truth = t[i]![j] === 1;
        if (yes === truth) agree++;
        if (yes && truth) tp++;
        else if (yes) fp++;
        else if (truth) fn++;
      });
      f1 += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    }
    const accByHand = agree / (p.length * vocab.length);
    assert.ok(Math.abs(last[2]! - accByHand) < 1e-6, `accuracy_multi ${last[2]} vs ${accByHand}`);
    assert.ok(
      Math.abs(last[3]! - f1 / vocab.length) < 1e-6,
      `f1 ${last[3]} vs ${f1 / vocab.length}`,
    );
    // The species is learned: cat vs dog by the larger of the two probabilities.
    const cat = vocab.indexOf('cat');
    const dog = vocab.indexOf('dog');
    const speciesRight = p.filter(
      (row, i) => t[i]![row[cat]! > row[dog]! ? cat : dog] === 1,
    ).length;
    assert.ok(speciesRight / p.length > 0.75, `species accuracy ${speciesRight / p.length}`);

    // predict decodes to the label list over the threshold, in vocab order.
    const file = dls.validDs.items[0] as string;
    const res = await learn.predict(file);
    assert.ok(Array.isArray(res.labels), 'labels is a list');
    assert.deepEqual(
      res.labels,
      vocab.filter((_, j) => res.probs[j]! > thresh),
    );
    assert.deepEqual(
      speciesAndBreed(file).every((l) => vocab.includes(l)),
      true,
      `labels of ${basename(file)} are in the vocab`,
    );
    assert.equal(tf.memory().numTensors, before, 'getPreds and predict leak nothing');
  });
});
