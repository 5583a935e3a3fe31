/**
 * A small real problem: pet breeds from pretrained MobileNet features. Three breeds, 30 photos
 * each, decoded with sharp; the MobileNet body (cut at conv_pw_13_relu, average-pooled) turns
 * each photo into 768 features once; the Learner trains a head on them with one-cycle.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/ready.js';
import { setSeed } from '../../src/core/random.js';
import { Learner } from '../../src/learner/learner.js';
import { folderHandler } from '../../src/learner/learner-io.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { accuracy } from '../../src/learner/metrics.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { syntheticDataLoaders } from '../../src/testing/synthetic-data.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';
import { optStateToAllocate } from './fixtures.js';

const skip =
  skipUnlessShared('models', 'mobilenet_v1_0.75_224', 'model.json') ||
  skipUnlessShared('data', 'pets', 'images');
const BREEDS = ['Abyssinian', 'american_bulldog', 'Bengal'];
const PER_BREED = 30;
const SIZE = 128;
const OUT_DIR = join(import.meta.dirname, '..', '.fixtures', 'learner');

async function decode(file: string): Promise<Float32Array> {
  const { data } = await sharp(file)
    .rotate()
    .resize(SIZE, SIZE, { fit: 'cover' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 127.5 - 1); // MobileNet expects [-1, 1]
}

describe('a small real problem (pets, MobileNet features)', { skip }, () => {
  before(async () => {
    await ready();
  });

  it("fitOneCycle brings the loss well below the first epoch's; plotLoss writes a PNG", async () => {
    const dir = join(SHARED_DIR, 'data', 'pets', 'images');
    const names = readdirSync(dir);
    const files: string[] = [];
    const labels: number[] = [];
    BREEDS.forEach((breed, c) => {
      const mine = names
        .filter((n) => new RegExp(`^${breed}_\\d+\\.jpg$`).test(n))
        .sort()
        .slice(0, PER_BREED);
      for (const n of mine) {
        files.push(join(dir, n));
        labels.push(c);
      }
    });
    const pixels = await Promise.all(files.map(decode));
    const full = await tf.loadLayersModel(
      folderHandler(join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224')),
    );
    const body = tf.model({
      inputs: full.inputs,
      outputs: full.getLayer('conv_pw_13_relu').output,
    });
    const feats: tf.Tensor[] = [];
    for (let i = 0; i < pixels.length; i += 15) {
      const chunk = pixels.slice(i, i + 15);
      const x = tf.tensor4d(Float32Array.from(chunk.flatMap((p) => Array.from(p))), [
        chunk.length,
        SIZE,
        SIZE,
        3,
      ]);
      feats.push(tf.tidy(() => (body.apply(x, { training: false }) as tf.Tensor).mean([1, 2])));
      x.dispose();
    }
    full.dispose();
    const x = tf.concat(feats);
    tf.dispose(feats);
    // interleave so both splits hold every breed: every 3rd item goes to validation
    setSeed(0);
    const order = Array.from({ length: labels.length }, (_, i) => i);
    const validIdx = order.filter((i) => i % 3 === 0);
    const trainIdx = order.filter((i) => i % 3 !== 0);
    const y = tf.tensor1d(labels, 'int32');
    const take = (t: tf.Tensor, idx: number[]) =>
      tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32')));
    const dls = syntheticDataLoaders({
      xTrain: take(x, trainIdx),
      yTrain: take(y, trainIdx),
      xValid: take(x, validIdx),
      yValid: take(y, validIdx),
      bs: 12,
      vocab: BREEDS,
      seed: 1,
    });
    tf.dispose([x, y]);
    const model = tf.sequential({
      layers: [
        tf.layers.dropout({ rate: 0.25, inputShape: [768], seed: 3 }),
        tf.layers.dense({
          units: 64,
          activation: 'relu',
          kernelInitializer: tf.initializers.heNormal({ seed: 1 }),
        }),
        tf.layers.dense({
          units: 3,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    const learn = new Learner(dls, model, {
      lossFunc: new CrossEntropyLossFlat(),
      metrics: [accuracy],
      logger: () => {},
    });
    await expectNoLeaks(() => learn.fitOneCycle(6, 3e-3), optStateToAllocate(learn));
    const values = learn.recorder.values;
    const [firstTrain, firstValid] = values[0] as number[];
    const [lastTrain, lastValid, lastAcc] = values.at(-1) as number[];
    assert.ok(
      (lastTrain as number) < 0.5 * (firstTrain as number),
      `train loss ${firstTrain} -> ${lastTrain}`,
    );
    assert.ok(
      (lastValid as number) < 0.6 * (firstValid as number),
      `valid loss ${firstValid} -> ${lastValid}`,
    );
    assert.ok((lastAcc as number) > 0.7, `accuracy ${lastAcc}`);
    if (process.env.TSFAST_DEBUG) console.log(JSON.stringify(values));
    mkdirSync(OUT_DIR, { recursive: true });
    const png = await learn.recorder.plotLoss({
      file: join(OUT_DIR, 'pets-loss.png'),
      skipStart: 0,
    });
    assert.equal(readFileSync(png).subarray(1, 4).toString(), 'PNG');
    learn.opt.dispose();
    model.dispose();
    dls.dispose();
  });
});
