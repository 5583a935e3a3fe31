/**
 * A small model learns a keypoint on generated images: the centre of a bright square, with
 * flips, rotations and zooms applied to images and points alike (were the points not moved
 * with their images, the targets would contradict the pictures and the error would stay high).
 * Also: visionLearner on point data gives 2 * points outputs through fastai's y_range (-1, 1).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { DataBlock } from '../../../src/data/data-block.js';
import { IndexSplitter } from '../../../src/data/splitters.js';
import { Learner } from '../../../src/learner/learner.js';
import { loadLearner } from '../../../src/learner/learner-io.js';
import { augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { ImageBlock } from '../../../src/vision/image/image-block.js';
import { visionLearner } from '../../../src/vision/learner.js';
import { mobilenetV1 } from '../../../src/vision/models/archs.js';
import { SigmoidRange } from '../../../src/vision/models/sigmoid-range.js';
import { PointBlock } from '../../../src/vision/points/point-block.js';
import { SHARED_DIR, skipUnlessShared } from '../../support/shared.js';

const SIZE = 24;

interface Shape {
  png: Uint8Array;
  centre: [number, number];
}

/** A dark PNG with a bright 6x6 square; its centre in continuous pixels. */
async function square(rng: RandomGenerator): Promise<Shape> {
  const left = rng.randInt(2, SIZE - 8);
  const top = rng.randInt(2, SIZE - 8);
  const data = Buffer.alloc(SIZE * SIZE * 3, 20);
  for (let y = top; y < top + 6; y++) {
    for (let x = left; x < left + 6; x++)
      data.fill(240, (y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3);
  }
  const png = await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toBuffer();
  return { png: new Uint8Array(png), centre: [left + 3, top + 3] };
}

function tinyRegressor(nOut: number, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = input as tf.SymbolicTensor;
  for (const [i, filters] of [8, 16].entries()) {
    x = tf.layers
      .conv2d({
        filters,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        name: `conv${i}`,
      })
      .apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({ units: nOut, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 9 }) })
    .apply(x) as tf.SymbolicTensor;
  const out = new SigmoidRange({ low: -1, high: 1 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('learning a keypoint', () => {
  const shapes: Shape[] = [];
  before(async () => {
    await ready();
    const rng = new RandomGenerator(7);
    for (let i = 0; i < 256; i++) shapes.push(await square(rng));
  });

  const block = () =>
    new DataBlock({
      blocks: [ImageBlock, PointBlock],
      getX: (s) => (s as Shape).png,
      getY: (s) => [(s as Shape).centre],
      splitter: IndexSplitter(Array.from({ length: 64 }, (_, i) => 192 + i)),
      batchTfms: augTransforms({
        maxRotate: 20,
        maxWarp: 0,
        maxLighting: 0,
        maxZoom: 1.1,
        padMode: 'zeros',
      }),
    });

  it('finds the centre of a square under flips, rotations and zooms', async () => {
    const dls = await block().dataloaders(shapes, { bs: 32, seed: 1 });
    const learn = new Learner(dls, tinyRegressor(dls.c, 3), { logger: () => {} });
    assert.equal(learn.lossFunc.name, 'MSELossFlat');
    // Before training: the error of a model that knows nothing (targets spread over [-0.6, 0.6]).
    const [startLoss] = await learn.validate();
    await learn.fitOneCycle(8, 1e-2);
    const [validMse] = await learn.validate();
    // An error of 0.02 in scaled units is 1.7 pixels RMS on 24.
    assert.ok(validMse! < 0.02, `valid MSE ${validMse} (before training ${startLoss})`);
    assert.ok(validMse! < startLoss! / 5, `valid MSE ${validMse} vs ${startLoss}`);
    // predict gives the scaled point of one item.
    const res = await learn.predict(shapes[200]);
    const [cx, cy] = shapes[200]!.centre;
    const [px, py] = res.probs.map((v) => ((v + 1) * SIZE) / 2) as [number, number];
    assert.ok(Math.hypot(px - cx, py - cy) < 3, `predicted (${px}, ${py}) vs (${cx}, ${cy})`);
    // Export and load: the PointBlock and the SigmoidRange layer come back with no user code.
    const dir = await mkdtemp(join(tmpdir(), 'tsfast-point-export-'));
    try {
      const exported = await learn.export(join(dir, 'points'));
      const file = join(dir, 'shape.png');
      await writeFile(file, shapes[200]!.png);
      const loaded = await loadLearner(exported);
      assert.equal(loaded.lossFunc.name, 'MSELossFlat');
      const again = await loaded.predict(file);
      again.probs.forEach((v, k) => {
        assert.ok(Math.abs(v - res.probs[k]!) < 1e-5, `${again.probs} vs ${res.probs}`);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("visionLearner on point data: 2 * points outputs in fastai's y_range (-1, 1), MSE loss", {
    skip: skipUnlessShared('models', 'mobilenet_v1_0.75_224'),
  }, async () => {
    const dls = await block().dataloaders(shapes, { bs: 32, seed: 1 });
    assert.equal(dls.c, 2);
    const learn = await visionLearner(dls, mobilenetV1({ alpha: 0.75 }), {
      weights: join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224'),
      seed: 1,
      logger: () => {},
    });
    assert.equal(learn.lossFunc.name, 'MSELossFlat');
    assert.deepEqual(learn.model.outputs[0]!.shape, [null, 2]);
    const last = learn.model.layers.at(-1)!;
    assert.ok(last instanceof SigmoidRange && last.low === -1 && last.high === 1);
    const out = tf.tidy(() => {
      const x = tf.randomNormal([4, SIZE, SIZE, 3], 0, 20, 'float32', 1);
      return Array.from((learn.model.predict(x) as tf.Tensor).dataSync());
    });
    assert.ok(
      out.every((v) => v > -1 && v < 1),
      `${out}`,
    );
    const plain = await visionLearner(dls, mobilenetV1({ alpha: 0.75 }), {
      weights: join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224'),
      yRange: null,
      nOut: 6,
      logger: () => {},
    });
    assert.deepEqual(plain.model.outputs[0]!.shape, [null, 6]);
    assert.ok(!(plain.model.layers.at(-1) instanceof SigmoidRange));
  });
});
