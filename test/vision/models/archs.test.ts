import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { ValueError } from '../../../src/core/errors.js';
import { imagenetStats, inceptionStats } from '../../../src/data/batch.js';
import {
  archNames,
  cutModel,
  defineArch,
  getArch,
  mobilenetV1,
  mobilenetV2,
  registerArch,
  resnet18,
  resnet50,
} from '../../../src/vision/models/archs.js';
import { createHead } from '../../../src/vision/models/head.js';
import { SeededDropout } from '../../../src/vision/models/seeded-dropout.js';

describe('architecture registry', () => {
  it('registers the ResNets and MobileNets with their cut, stats and default weights', () => {
    for (const name of ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152']) {
      assert.ok(archNames().includes(name), name);
    }
    assert.ok(archNames().includes('mobilenet_v1_0.75'));
    assert.ok(archNames().includes('mobilenet_v2_0.35'));
    assert.equal(getArch('resnet50'), resnet50);
    assert.equal(mobilenetV1({ alpha: 0.75 }), getArch('mobilenet_v1_0.75'));
    assert.equal(resnet50.cut, 'layer4.2.relu');
    assert.deepEqual(resnet50.stats, imagenetStats);
    assert.deepEqual(mobilenetV1({ alpha: 0.75 }).stats, inceptionStats);
    assert.match(resnet50.weights ?? '', /timm\/resnet50\.tv_in1k.*\.safetensors$/);
    assert.match(mobilenetV1({ alpha: 0.5 }).weights ?? '', /mobilenet_v1_0\.50_224\/model\.json$/);
    assert.equal(mobilenetV2({ alpha: 0.35 }).weights, undefined);
    assert.throws(
      () => getArch('resnet51'),
      /Unknown architecture "resnet51". Registered: .*resnet50/,
    );
    assert.throws(() => mobilenetV1({ width: 2 } as never), /unknown option `width`/);
  });

  it('validates and registers a user architecture { body, cut, split, stats }', async () => {
    await ready();
    const spec = {
      name: 'tiny_user_net',
      body: () => {
        const input = tf.input({ shape: [null, null, 3] });
        const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c1' }).apply(input);
        const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, name: 'c2' }).apply(c1);
        const top = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(c2);
        return tf.model({ inputs: input, outputs: top as tf.SymbolicTensor });
      },
      cut: -2,
      split: (body: tf.LayersModel) => [body.layers.slice(0, 2), body.layers.slice(2)],
      stats: imagenetStats,
    };
    const arch = registerArch(spec);
    assert.equal(getArch('tiny_user_net'), arch);
    assert.throws(() => registerArch(spec), /already registered/);
    assert.throws(() => defineArch({ ...spec, stats: { mean: [1], std: [] } }), ValueError);
    assert.throws(() => defineArch({ ...spec, cutt: 1 } as never), /unknown option `cutt`/);
    const full = await arch.body({});
    const body = cutModel(full, arch.cut);
    assert.equal(body.layers.at(-1)?.name, 'c2');
    assert.equal(cutModel(full, 'c1').layers.at(-1)?.name, 'c1');
    assert.throws(() => cutModel(full, 'nope'), /has no layer "nope"/);
    full.dispose();
  });

  it('splits ResNet-18 into stem + layer1-2 | layer3-4, covering every body layer once', async () => {
    await ready();
    const full = resnet18.body({ initialize: false }) as tf.LayersModel;
    const body = cutModel(full, resnet18.cut);
    const [early, late] = resnet18.split(body);
    assert.ok(early && late);
    assert.equal(early.length + late.length, body.layers.length);
    assert.ok(
      early.some((l) => l.name === 'conv1') && early.some((l) => l.name === 'layer2.1.bn2'),
    );
    assert.ok(late.every((l) => /^layer[34]\./.test(l.name)));
    assert.ok(late.some((l) => l.name === 'layer3.0.conv1'));
    full.dispose();
  });
});

describe('fastai head', () => {
  it('is concat pool -> BN -> drop 0.25 -> linear 512 -> ReLU -> BN -> drop 0.5 -> linear', async () => {
    await ready();
    const input = tf.input({ shape: [4, 4, 64] });
    const head = createHead(input, 10, { seed: 1 });
    assert.deepEqual(
      head.layers.map((l) => l.getClassName()),
      [
        'GlobalMaxPooling2D',
        'GlobalAveragePooling2D',
        'Concatenate',
        'BatchNorm',
        'SeededDropout',
        'Dense',
        'ReLU',
        'BatchNorm',
        'SeededDropout',
        'Dense',
      ],
    );
    const drops = head.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
    assert.deepEqual(
      drops.map((d) => d.rate),
      [0.25, 0.5],
    );
    const dense = head.layers.filter((l) => l.getClassName() === 'Dense');
    assert.deepEqual(
      dense.map((d) => d.weights.map((w) => w.shape)),
      [[[128, 512]], [[512, 10]]],
    ); // no bias after BatchNorm, concat pool doubles 64 features
    const kernel = dense[0]?.getWeights()[0] as tf.Tensor;
    const std = tf.tidy(() => tf.moments(kernel).variance.sqrt().dataSync()[0] as number);
    assert.ok(Math.abs(std - Math.sqrt(2 / 128)) < 0.01 * 1.5, `kaiming std ${std}`);
    const beta = head.layers[3]?.getWeights()[1]?.dataSync();
    assert.ok(beta?.every((v) => Math.abs(v - 1e-3) < 1e-9));
    // Same seed, same head.
    const again = createHead(tf.input({ shape: [4, 4, 64] }), 10, { seed: 1 });
    const k2 = again.layers.find((l) => l.getClassName() === 'Dense')?.getWeights()[0] as tf.Tensor;
    assert.deepEqual(kernel.dataSync(), k2.dataSync());
  });

  it('SeededDropout draws a fresh mask per training call and is the identity in inference', async () => {
    await ready();
    const a = new SeededDropout({ rate: 0.5, seed: 5 });
    const b = new SeededDropout({ rate: 0.5, seed: 5 });
    const x = tf.ones([1, 64]);
    const m1 = (a.apply(x, { training: true }) as tf.Tensor).dataSync();
    const m2 = (a.apply(x, { training: true }) as tf.Tensor).dataSync();
    const n1 = (b.apply(x, { training: true }) as tf.Tensor).dataSync();
    assert.notDeepEqual(m1, m2);
    assert.deepEqual(m1, n1);
    assert.ok(m1.every((v) => v === 0 || v === 2));
    assert.deepEqual((a.apply(x) as tf.Tensor).dataSync(), x.dataSync());
    assert.throws(() => new SeededDropout({ rate: 1, seed: 0 }), /`rate` must be/);
  });
});
