import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/ready.js';
import { DataError } from '../../src/core/errors.js';
import { CategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import { getImageFiles } from '../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../src/data/labellers.js';
import { RandomSplitter } from '../../src/data/splitters.js';
import { Learner } from '../../src/learner/learner.js';
import { MSELossFlat } from '../../src/learner/losses.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';

describe('a single-class dataset', () => {
  it('builds and shows, but a classifier on it fails at once, saying there is one class', async () => {
    await ready();
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-one-class-'));
    for (let i = 0; i < 6; i++) {
      const jpg = await sharp({
        create: { width: 16, height: 16, channels: 3, background: { r: 40 * i, g: 90, b: 9 } },
      })
        .jpeg()
        .toBuffer();
      writeFileSync(join(dir, `cat_${i}.jpg`), jpg);
    }
    const block = new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      getItems: getImageFiles,
      splitter: RandomSplitter({ seed: 1, validPct: 0.34 }),
      getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
      itemTfms: Resize(16),
    });
    const dls = await block.dataloaders(dir, { bs: 2 });
    assert.deepEqual(dls.vocab, ['cat']);
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [16, 16, 3] }), tf.layers.dense({ units: 1 })],
    });
    assert.throws(
      () => new Learner(dls, model),
      (e: unknown) =>
        e instanceof DataError &&
        /single class \(\["cat"\]\)/.test(e.message) &&
        /at least two/.test(e.message),
    );
    // A loss that is not a classifier's is the user's choice: no refusal.
    const learn = new Learner(dls, model, { lossFunc: new MSELossFlat() });
    assert.equal(learn.dls.vocab?.length, 1);
    model.dispose();
  });
});
