import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/ready.js';
import { DataError } from '../../../src/core/errors.js';
import { inceptionStats } from '../../../src/data/batch.js';
import { expectKernelsSupported } from '../../../src/testing/kernel-guard.js';
import {
  buildMobilenetV1,
  buildMobilenetV2,
  MOBILENET_V1_CUT,
} from '../../../src/vision/models/mobilenet.js';
import { loadTfjsModel, readTfjsWeights } from '../../../src/vision/models/tfjs-folder.js';
import { assignNamedWeights, kerasNaming } from '../../../src/vision/models/weight-map.js';
import { SHARED_DIR, skipUnlessShared } from '../../support/shared.js';
import { nodeKernelsWithOpWrappers } from './node-kernels.js';

const MODELS = join(SHARED_DIR, 'models');
const V1 = join(MODELS, 'mobilenet_v1_0.75_224');
const V2 = join(MODELS, 'mobilenet_v2_0.35_224_notop');
const PARTIAL = join(MODELS, 'mobilenet_v1_1.0_224_partial');
const PETS = join(SHARED_DIR, 'data', 'pets', 'images');

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

/** Pet breeds that are ImageNet classes, with their ImageNet index (from the issue). */
const IMAGENET_BREEDS: Record<string, number> = {
  pug: 254,
  Persian: 283,
  Siamese: 284,
  Egyptian_Mau: 285,
  beagle: 162,
  boxer: 242,
  chihuahua: 151,
  great_pyrenees: 257,
  keeshond: 261,
  leonberger: 255,
  miniature_pinscher: 237,
  newfoundland: 256,
  pomeranian: 259,
  saint_bernard: 247,
  samoyed: 258,
  scottish_terrier: 199,
  staffordshire_bull_terrier: 179,
  wheaten_terrier: 202,
  yorkshire_terrier: 187,
  basset_hound: 161,
  english_setter: 212,
  german_shorthaired: 210,
  english_cocker_spaniel: 219,
  japanese_chin: 152,
  american_pit_bull_terrier: 180,
};

/** Decodes by content, resizes the short side to 224 and centre-crops: [224, 224, 3] uint8. */
async function centreCrop224(path: string): Promise<Uint8Array> {
  const { data } = await sharp(path, { pages: 1 })
    .rotate()
    .resize(224, 224, { fit: 'cover', position: 'centre' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(data.length, 224 * 224 * 3, path);
  return data;
}

describe('MobileNet from tfjs LayersModel folders', () => {
  it('mobilenetV1 built in TypeScript equals the tfjs model, weights loaded by name', {
    skip: skipUnlessShared('models', 'mobilenet_v1_0.75_224'),
  }, async () => {
    await ready();
    const reference = await loadTfjsModel(V1);
    const ours = buildMobilenetV1({ alpha: 0.75, initialize: false });
    const report = assignNamedWeights(ours, await readTfjsWeights(V1), kerasNaming, V1);
    assert.equal(report.loaded.length, 137);
    const before = tf.memory().numTensors;
    const [diffTop, diffBody, bodyShape] = tf.tidy(() => {
      const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 7);
      const refBody = tf.model({
        inputs: reference.inputs,
        outputs: reference.getLayer(MOBILENET_V1_CUT).output as tf.SymbolicTensor,
      });
      const oursBody = tf.model({
        inputs: ours.inputs,
        outputs: ours.getLayer(MOBILENET_V1_CUT).output as tf.SymbolicTensor,
      });
      const fb = oursBody.predict(x) as tf.Tensor;
      return [
        maxAbsDiff(ours.predict(x) as tf.Tensor, reference.predict(x) as tf.Tensor),
        maxAbsDiff(fb, refBody.predict(x) as tf.Tensor),
        fb.shape,
      ];
    });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(bodyShape, [2, 7, 7, 768]);
    assert.ok(diffBody < 1e-4, `body features differ by ${diffBody}`);
    assert.ok(diffTop < 1e-6, `probabilities differ by ${diffTop}`);
    // Any input size: the body is fully convolutional.
    const small = (ours.getLayer(MOBILENET_V1_CUT).output as tf.SymbolicTensor).shape;
    assert.deepEqual(small, [null, null, null, 768]);
    reference.dispose();
    ours.dispose();
  });

  it('mobilenetV2 (alpha 0.35, no top) equals the tfjs model at 224 and runs at 160', {
    skip: skipUnlessShared('models', 'mobilenet_v2_0.35_224_notop'),
  }, async () => {
    await ready();
    const reference = await loadTfjsModel(V2);
    const ours = buildMobilenetV2({ alpha: 0.35, includeTop: false, initialize: false });
    const report = assignNamedWeights(ours, await readTfjsWeights(V2), kerasNaming, V2);
    assert.equal(report.loaded.length, reference.weights.length);
    const [diff, shape160] = tf.tidy(() => {
      const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 8);
      const y = ours.predict(x) as tf.Tensor;
      const y160 = ours.predict(tf.randomUniform([1, 160, 160, 3], -1, 1)) as tf.Tensor;
      return [maxAbsDiff(y, reference.predict(x) as tf.Tensor), y160.shape];
    });
    assert.ok(diff < 1e-4, `features differ by ${diff}`);
    assert.deepEqual(shape160, [1, 5, 5, 1280]);
    reference.dispose();
    ours.dispose();
  });

  it('a model folder with a missing shard fails naming the file and its weights', {
    skip: skipUnlessShared('models', 'mobilenet_v1_1.0_224_partial'),
  }, async () => {
    await ready();
    await assert.rejects(loadTfjsModel(PARTIAL), (err: Error) => {
      assert.ok(err instanceof DataError);
      assert.match(err.message, /"group37-shard1of1" is missing/);
      assert.match(err.message, /conv_pw_13\/kernel/);
      return true;
    });
    // The truncated manifest lists only the shards present and loads.
    const cut = await loadTfjsModel(join(PARTIAL, 'model_truncated_conv_dw_13_relu.json'));
    assert.deepEqual(cut.outputs[0]?.shape, [null, 7, 7, 1024]);
    cut.dispose();
  });

  it('ImageNet check: 250 pet photos of 25 ImageNet breeds, top-1 >= 65 %, top-5 >= 90 %', {
    skip:
      skipUnlessShared('data', 'pets', 'images') ||
      skipUnlessShared('models', 'mobilenet_v1_0.75_224'),
  }, async () => {
    await ready();
    const files = readdirSync(PETS)
      .filter((f) => IMAGENET_BREEDS[f.replace(/_\d+\.jpg$/, '')] !== undefined)
      .sort();
    assert.equal(files.length, 250);
    const model = buildMobilenetV1({ alpha: 0.75, initialize: false });
    assignNamedWeights(model, await readTfjsWeights(V1), kerasNaming, V1);
    const mean = tf.tensor1d([...inceptionStats.mean]);
    const std = tf.tensor1d([...inceptionStats.std]);
    let top1 = 0;
    let top5 = 0;
    const bs = 25;
    for (let i = 0; i < files.length; i += bs) {
      const chunk = files.slice(i, i + bs);
      const pixels = await Promise.all(chunk.map((f) => centreCrop224(join(PETS, f))));
      const run = () =>
        tf.tidy(() => {
          const flat = new Float32Array(chunk.length * 224 * 224 * 3);
          pixels.forEach((p, j) => {
            flat.set(p, j * p.length);
          });
          const raw = tf.tensor4d(flat, [chunk.length, 224, 224, 3]);
          const x = tf.div(tf.sub(tf.div(raw, 255), mean), std);
          return tf.topk(model.predict(x) as tf.Tensor, 5).indices;
        });
      const top =
        i === 0
          ? (await expectKernelsSupported(run, { kernelsFile: nodeKernelsWithOpWrappers() })).result
          : run();
      const rows = (await top.array()) as number[][];
      top.dispose();
      rows.forEach((row, j) => {
        const want = IMAGENET_BREEDS[(chunk[j] as string).replace(/_\d+\.jpg$/, '')];
        if (row[0] === want) top1++;
        if (row.includes(want as number)) top5++;
      });
    }
    mean.dispose();
    std.dispose();
    model.dispose();
    const t1 = top1 / files.length;
    const t5 = top5 / files.length;
    console.log(
      `ImageNet check: top-1 ${(100 * t1).toFixed(1)} %, top-5 ${(100 * t5).toFixed(1)} %`,
    );
    assert.ok(t1 >= 0.65, `top-1 ${t1}`);
    assert.ok(t5 >= 0.9, `top-5 ${t5}`);
  });
});
