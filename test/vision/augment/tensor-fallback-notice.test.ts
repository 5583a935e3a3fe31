import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/index.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { CategoryBlock } from '../../../src/data/blocks.js';
import { DataBlock } from '../../../src/data/data-block.js';
import { Normalize } from '../../../src/data/normalize.js';
import { RandomSplitter } from '../../../src/data/splitters.js';
import type { BatchTransform, BatchTransformContext } from '../../../src/data/transforms.js';
import { augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { cpuAugmentBatch, noticeTensorFallback } from '../../../src/vision/augment/cpu-executor.js';
import {
  type CpuExecutableTransform,
  type CpuNormalizeStep,
  cpuStepRefusal,
} from '../../../src/vision/augment/cpu-step.js';
import { ImageBlock } from '../../../src/vision/image/image-block.js';

/** A batch transform tsfast does not know: rounds every value to a quarter. */
class Posterize implements BatchTransform {
  readonly order = 50;
  constructor(readonly name: string) {}
  apply(xs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.div(tf.round(tf.mul(xs, 4)), 4));
  }
  toConfig() {
    return {};
  }
}

/** A custom per-channel map that declares the fused pass's normalize stage. */
class Recentre implements CpuExecutableTransform {
  readonly name = 'Recentre';
  readonly order = 99;
  readonly cpuStep: CpuNormalizeStep = {
    stage: 'normalize',
    mean: [0.5, 0.5, 0.5],
    std: [2, 2, 2],
  };
  apply(xs: tf.Tensor, _ctx: BatchTransformContext): tf.Tensor {
    return tf.tidy(() => tf.div(tf.sub(xs, 0.5), 2));
  }
  toConfig() {
    return {};
  }
}

async function photos(n: number): Promise<{ bytes: Uint8Array; label: string }[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const raw = Buffer.alloc(12 * 12 * 3, (i * 37) % 256);
      const bytes = await sharp(raw, { raw: { width: 12, height: 12, channels: 3 } })
        .png()
        .toBuffer();
      return { bytes: new Uint8Array(bytes), label: i % 2 ? 'a' : 'b' };
    }),
  );
}

/** Loads every training batch of a pipeline with `tfm` and returns the notices printed. */
async function noticesWhileLoading(
  tfm: BatchTransform,
  augExecutor: 'auto' | 'cpu' | 'tensor',
): Promise<string[]> {
  const items = await photos(8);
  const dls = await new DataBlock({
    blocks: [ImageBlock, CategoryBlock],
    getX: (i: unknown) => (i as { bytes: Uint8Array }).bytes,
    getY: (i: unknown) => (i as { label: string }).label,
    splitter: RandomSplitter({ validPct: 0.25, seed: 1 }),
    batchTfms: [...augTransforms({ size: 8 }), tfm],
  }).dataloaders(items, { bs: 2, seed: 3, augExecutor });
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (line: string) => warned.push(line);
  try {
    for (let epoch = 0; epoch < 2; epoch++) {
      for await (const { xs, ys } of dls.train) tf.dispose([xs, ys]);
    }
  } finally {
    console.warn = original;
  }
  return warned;
}

describe('a batch transform the CPU executor cannot run', () => {
  before(async () => {
    await ready();
  });

  it('is named in exactly one notice when its pipeline falls back to tensor ops', async () => {
    const warned = await noticesWhileLoading(new Posterize('PosterizeA'), 'cpu');
    assert.equal(warned.length, 1, warned.join('\n'));
    assert.match(warned[0] ?? '', /batch transform PosterizeA declares no cpuStep/);
    assert.match(warned[0] ?? '', /augExecutor: 'tensor'/);
  });

  it('is not reported when the tensor path was chosen', async () => {
    assert.deepEqual(await noticesWhileLoading(new Posterize('PosterizeB'), 'tensor'), []);
  });

  it('is reported once per name, and not when every transform declares its stage', () => {
    const lines: string[] = [];
    const tfms = [...augTransforms(), new Posterize('PosterizeC')];
    assert.equal(noticeTensorFallback(tfms, 'cpu', (l) => lines.push(l))?.name, 'PosterizeC');
    assert.equal(
      noticeTensorFallback(tfms, 'cpu', (l) => lines.push(l)),
      undefined,
    );
    assert.equal(
      noticeTensorFallback(augTransforms(), 'cpu', (l) => lines.push(l)),
      undefined,
    );
    assert.equal(lines.length, 1);
  });

  it('keeps the stages in order: a second geometry or normalize is refused by name', () => {
    const [affine, light] = augTransforms();
    const norm = new Normalize({ mean: [0, 0, 0], std: [1, 1, 1] });
    assert.equal(cpuStepRefusal([affine!, light!, norm]), undefined);
    assert.equal(cpuStepRefusal([affine!, light!, norm, new Recentre()])?.name, 'Recentre');
    assert.equal(cpuStepRefusal([light!, affine!])?.name, 'AffineAugment');
  });
});

describe('a custom transform that declares a cpuStep', () => {
  it('runs in the fused pass with the values of its own tensor path', async () => {
    await ready();
    const data = Uint8Array.from({ length: 4 * 5 * 3 }, (_, i) => (i * 53) % 256);
    const image = { data, width: 5, height: 4 };
    const ctx = { training: true, rng: new RandomGenerator(0) };
    const fused = cpuAugmentBatch([image], [new Recentre()], ctx);
    assert.ok(fused, 'the fused pass refused a transform that declares its stage');
    const expected = tf.tidy(() =>
      new Recentre().apply(tf.div(tf.tensor4d(Float32Array.from(data), [1, 4, 5, 3]), 255), ctx),
    );
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(fused, expected))).dataSync()[0]);
    tf.dispose([fused, expected]);
    assert.ok((diff ?? 1) < 1e-6, `max difference ${diff}`);
  });
});
