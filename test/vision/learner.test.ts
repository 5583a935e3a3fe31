import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/ready.js';
import { ValueError } from '../../src/core/errors.js';
import { RandomGenerator } from '../../src/core/random.js';
import {
  type Batch,
  type BatchStream,
  type DataLoadersLike,
  imagenetStats,
  inceptionStats,
  type NormalizeStats,
} from '../../src/data/batch.js';
import { accuracy } from '../../src/learner/metrics.js';
import { expectKernelsSupported } from '../../src/testing/kernel-guard.js';
import { cnnLearner, visionLearner } from '../../src/vision/learner.js';
import { mobilenetV1, mobilenetV2, resnet18 } from '../../src/vision/models/archs.js';
import { readSafetensors } from '../../src/vision/models/safetensors.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';
import { nodeKernelsWithOpWrappers } from './models/node-kernels.js';
import { skipUnlessTorch, torchFixtures } from './models/torch-fixtures.js';

const PETS = join(SHARED_DIR, 'data', 'pets', 'images');
const MOBILENET = join(SHARED_DIR, 'models', 'mobilenet_v1_0.75_224');
const BREEDS = ['Abyssinian', 'Bengal', 'american_bulldog'];

/** In-memory data: images in [0, 1] NHWC, normalised per batch with the stats set by `normalize`. */
class MemoryDataLoaders implements DataLoadersLike {
  readonly train: BatchStream;
  readonly valid: BatchStream;
  readonly c: number;
  normalizedWith: NormalizeStats | undefined;

  constructor(
    private readonly pixels: Float32Array,
    private readonly size: number,
    private readonly labels: Int32Array,
    trainIdx: number[],
    validIdx: number[],
    readonly vocab: readonly string[],
    bs: number,
    seed: number,
  ) {
    this.c = vocab.length;
    const rng = new RandomGenerator(seed);
    this.train = this.stream(() => rng.shuffle(trainIdx), bs, true, trainIdx.length);
    this.valid = this.stream(() => validIdx, bs, false, validIdx.length);
  }

  normalize(stats: NormalizeStats): void {
    this.normalizedWith = stats;
  }

  private stream(order: () => number[], bs: number, dropLast: boolean, n: number): BatchStream {
    const numBatches = dropLast ? Math.floor(n / bs) : Math.ceil(n / bs);
    const self = this;
    return {
      numBatches,
      numItems: dropLast ? numBatches * bs : n,
      async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
        const idx = order();
        for (let b = 0; b < numBatches; b++) yield self.batch(idx.slice(b * bs, (b + 1) * bs));
      },
    };
  }

  private batch(idx: number[]): Batch {
    const px = this.size * this.size * 3;
    const flat = new Float32Array(idx.length * px);
    idx.forEach((i, j) => {
      flat.set(this.pixels.subarray(i * px, (i + 1) * px), j * px);
    });
    const stats = this.normalizedWith ?? { mean: [0, 0, 0], std: [1, 1, 1] };
    const xs = tf.tidy(() =>
      tf.div(tf.sub(tf.tensor4d(flat, [idx.length, this.size, this.size, 3]), [...stats.mean]), [
        ...stats.std,
      ]),
    );
    return {
      xs,
      ys: tf.tensor1d(
        idx.map((i) => this.labels[i] as number),
        'int32',
      ),
    };
  }
}

async function loadPets(
  perClass: number,
  size: number,
): Promise<{ pixels: Float32Array; labels: Int32Array }> {
  const files = BREEDS.flatMap((breed) =>
    readdirSync(PETS)
      .filter((f) => f.startsWith(`${breed}_`))
      .sort()
      .slice(0, perClass),
  );
  const px = size * size * 3;
  const pixels = new Float32Array(files.length * px);
  const labels = new Int32Array(files.length);
  await Promise.all(
    files.map(async (f, i) => {
      const data = await sharp(join(PETS, f), { pages: 1 })
        .rotate()
        .resize(size, size, { fit: 'cover' })
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer();
      for (let k = 0; k < px; k++) pixels[i * px + k] = (data[k] as number) / 255;
      labels[i] = BREEDS.findIndex((b) => f.startsWith(`${b}_`));
    }),
  );
  return { pixels, labels };
}

/** Per class: the first `nTrain` indices train, the next `nValid` validate. */
function splitPerClass(labels: Int32Array, nTrain: number): [number[], number[]] {
  const train: number[] = [];
  const valid: number[] = [];
  const seen = new Map<number, number>();
  labels.forEach((y, i) => {
    const k = seen.get(y) ?? 0;
    seen.set(y, k + 1);
    (k < nTrain ? train : valid).push(i);
  });
  return [train, valid];
}

type Snapshot = Map<string, Float32Array>;
function snapshot(layers: readonly tf.layers.Layer[]): Snapshot {
  const out: Snapshot = new Map();
  for (const layer of layers) {
    for (const w of layer.weights)
      out.set(
        `${layer.name}/${w.originalName.split('/').pop()}`,
        w.read().dataSync() as Float32Array,
      );
  }
  return out;
}
function changed(a: Snapshot, b: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of a) {
    const w = b.get(k) as Float32Array;
    if (v.some((x, i) => x !== w[i])) out.add(k);
  }
  return out;
}

describe('visionLearner', () => {
  before(async () => {
    await ready();
  });

  it('MobileNet v1 on real photos: body frozen, then all trainable after unfreeze, well above chance', {
    skip:
      skipUnlessShared('data', 'pets', 'images') ||
      skipUnlessShared('models', 'mobilenet_v1_0.75_224'),
  }, async () => {
    const size = 128;
    const { pixels, labels } = await loadPets(40, size);
    const [trainIdx, validIdx] = splitPerClass(labels, 28);
    const dls = new MemoryDataLoaders(pixels, size, labels, trainIdx, validIdx, BREEDS, 12, 1);
    const arch = mobilenetV1({ alpha: 0.75 });
    const learn = await visionLearner(dls, arch, {
      weights: MOBILENET,
      metrics: [accuracy],
      seed: 42,
      logger: () => {},
    });
    assert.deepEqual(dls.normalizedWith, inceptionStats);
    assert.equal(learn.opt.paramGroups.length, 3);
    const bodyLayers = learn.model.layers.filter((l) => !l.name.startsWith('head.'));
    const isBnWeight = (k: string) => /_bn\/(gamma|beta|moving_mean|moving_variance)$/.test(k);
    const s0 = snapshot(bodyLayers);
    const before = tf.memory().numTensors;
    await learn.fitOneCycle(1, 2e-3);
    const frozenChanges = changed(s0, snapshot(bodyLayers));
    assert.deepEqual(
      [...frozenChanges].filter((k) => !isBnWeight(k)),
      [],
      'frozen body weights changed',
    );
    assert.ok(
      [...frozenChanges].some((k) => k.endsWith('/gamma')),
      'trainBn: BN scale should train',
    );
    learn.unfreeze();
    const s1 = snapshot(bodyLayers);
    await learn.fitOneCycle(1, 1e-3);
    const unfrozenChanges = changed(s1, snapshot(bodyLayers));
    const unchanged = [...s1.keys()].filter((k) => !unfrozenChanges.has(k));
    assert.deepEqual(unchanged, [], 'every body weight trains after unfreeze()');
    // what stays is the optimizer state, allocated on each parameter's first step
    const optState = learn.opt.bufferNames.length * learn.opt.allParams.length;
    assert.equal(learn.opt.state.size, learn.opt.allParams.length);
    assert.equal(tf.memory().numTensors, before + optState, 'fit leaks no tensors');
    const [validLoss, acc] = await learn.validate();
    console.log(
      `3 breeds at ${size}px, ${trainIdx.length} training photos: accuracy ${acc}, loss ${validLoss}`,
    );
    assert.ok((acc as number) >= 0.7, `accuracy ${acc} (chance 0.33)`);
    learn.model.dispose();
  });

  it('ResNet-18 from a torchvision safetensors file: weights loaded, 3 groups, frozen, ImageNet stats', {
    skip: skipUnlessTorch(),
  }, async () => {
    const dir = torchFixtures('make_resnet_fixtures.py');
    const file = join(dir, 'resnet18.safetensors');
    const pixels = new Float32Array(8 * 32 * 32 * 3).map((_, i) => (i % 97) / 97);
    const labels = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    const dls = new MemoryDataLoaders(
      pixels,
      32,
      labels,
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      ['a', 'b', 'c', 'd'],
      4,
      2,
    );
    const learn = await cnnLearner(dls, resnet18, { weights: file, seed: 3, logger: () => {} });
    assert.deepEqual(dls.normalizedWith, imagenetStats);
    assert.equal(learn.opt.paramGroups.length, 3);
    const torch = (await readSafetensors(file)).tensors.get('conv1.weight');
    const ours = learn.model.getLayer('conv1').getWeights()[0] as tf.Tensor;
    // torch [64, 3, 7, 7][o, i, y, x] == tfjs [7, 7, 3, 64][y][x][i][o]
    const k = (await ours.array()) as number[][][][];
    assert.equal(k[2]?.[5]?.[1]?.[17], torch?.data[((17 * 3 + 1) * 7 + 2) * 7 + 5]);
    const out = tf.tidy(() => (learn.model.predict(tf.zeros([2, 64, 64, 3])) as tf.Tensor).shape);
    assert.deepEqual(out, [2, 4]);
    const s0 = snapshot(learn.model.layers.filter((l) => l.name.startsWith('layer1.0.conv')));
    // A training epoch (forward, backward, Adam) uses only kernels tfjs-node registers.
    await expectKernelsSupported(() => learn.fit(1, 1e-3), {
      kernelsFile: nodeKernelsWithOpWrappers(),
    });
    assert.equal(
      changed(s0, snapshot(learn.model.layers.filter((l) => l.name.startsWith('layer1.0.conv'))))
        .size,
      0,
    );
    learn.model.dispose();
  });

  it('trains a MobileNet v2 from scratch (not frozen) with tfjs-node kernels only', async () => {
    const pixels = new Float32Array(4 * 32 * 32 * 3).map((_, i) => (i % 89) / 89);
    const labels = Int32Array.from([0, 1, 0, 1]);
    const dls = new MemoryDataLoaders(pixels, 32, labels, [0, 1, 2, 3], [0, 1], ['a', 'b'], 2, 4);
    const learn = await visionLearner(dls, mobilenetV2({ alpha: 0.35 }), {
      pretrained: false,
      seed: 5,
      logger: () => {},
    });
    assert.equal(dls.normalizedWith, undefined, 'no pretrained stats without pretrained weights');
    const convs = learn.model.layers.filter(
      (l) => l.name === 'block_1_depthwise' || l.name === 'Conv1',
    );
    const s0 = snapshot(convs);
    await expectKernelsSupported(() => learn.fit(1, 1e-3), {
      kernelsFile: nodeKernelsWithOpWrappers(),
    });
    assert.equal(changed(s0, snapshot(convs)).size, 2, 'depthwise and conv kernels train');
    learn.model.dispose();
  });

  it('refuses an architecture without default weights, and unknown options', async () => {
    const dls = new MemoryDataLoaders(
      new Float32Array(3 * 4),
      2,
      Int32Array.from([0]),
      [0],
      [0],
      ['a'],
      1,
      0,
    );
    await assert.rejects(visionLearner(dls, mobilenetV2({ alpha: 0.35 })), (err: Error) => {
      assert.ok(err instanceof ValueError);
      assert.match(
        err.message,
        /"mobilenet_v2_0.35" has no default pretrained weights; pass `weights`/,
      );
      return true;
    });
    await assert.rejects(
      visionLearner(dls, 'resnet18', { pretrain: false } as never),
      /unknown option `pretrain`/,
    );
  });
});
