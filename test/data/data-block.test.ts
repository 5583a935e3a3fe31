/**
 * DataBlock -> DataLoaders on the real pets photos and on small synthetic folders with bad
 * files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/ready.js';
import { DataError } from '../../src/core/errors.js';
import { imagenetStats } from '../../src/data/batch.js';
import { CategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import { DataLoaders, type DataLoadersOptions } from '../../src/data/data-loaders.js';
import { getImageFiles } from '../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../src/data/labellers.js';
import { IndexSplitter, RandomSplitter } from '../../src/data/splitters.js';
import { expectKernelsSupported } from '../../src/testing/kernel-guard.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { augTransforms } from '../../src/vision/augment/aug-transforms.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';

const PETS = join(SHARED_DIR, 'data', 'pets', 'images');
const skipPets = skipUnlessShared('data', 'pets', 'images');
const petLabel = usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name');

/** The first `n` pet photos (every 5th, so several breeds), small, for fast loader tests. */
function smallPets(
  n: number,
  opts: { size?: number; aug?: boolean; decoder?: 'auto' | 'sharp' } = {},
) {
  return new DataBlock({
    blocks: [ImageBlock({ decoder: opts.decoder ?? 'auto' }), CategoryBlock],
    getItems: async (p: string) =>
      (await getImageFiles(p)).filter((_, i) => i % 5 === 0).slice(0, n),
    splitter: RandomSplitter({ seed: 42 }),
    getY: petLabel,
    itemTfms: Resize(opts.size ?? 40),
    batchTfms: opts.aug === false ? [] : augTransforms(),
  });
}

async function firstBatch(stream: AsyncIterable<{ xs: tf.Tensor; ys: tf.Tensor }>) {
  for await (const b of stream) return b;
  throw new Error('no batch');
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}

describe('DataBlock', () => {
  before(async () => {
    await ready();
  });

  it('builds the pets reference DataBlock: 37 classes, 752/188, and showBatch draws photos', {
    skip: skipPets,
  }, async () => {
    const pets = new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      getItems: getImageFiles,
      splitter: RandomSplitter({ seed: 42 }),
      getY: petLabel,
      itemTfms: Resize(460),
      batchTfms: augTransforms({ size: 224, minScale: 0.75 }),
    });
    const dls = await pets.dataloaders(PETS);
    assert.equal(dls.vocab?.length, 37);
    assert.equal(dls.c, 37);
    assert.equal(dls.trainDs.length, 752);
    assert.equal(dls.validDs.length, 188);
    assert.equal(dls.bs, 64);
    assert.equal(dls.train.numBatches, 11); // dropLast
    assert.equal(dls.train.numItems, 704);
    assert.equal(dls.valid.numBatches, 3);
    assert.deepEqual([...dls.vocab!], [...dls.vocab!].sort());
    const file = join(mkdtempSync(join(tmpdir(), 'tsfast-show-')), 'batch.png');
    await expectNoLeaks(() => dls.showBatch({ nrows: 2, ncols: 4, file }));
    const meta = await sharp(file).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width! > meta.height!, `expected a 2x4 grid, got ${meta.width}x${meta.height}`);
    const stats = await sharp(file).stats();
    assert.ok(stats.channels[0]!.stdev > 20, 'the grid should hold photos, not a blank canvas');
  });

  it('gives identical batches for the same seed and different ones for another', {
    skip: skipPets,
  }, async () => {
    const make = (o: DataLoadersOptions) => smallPets(40).dataloaders(PETS, { bs: 8, ...o });
    const a = await firstBatch((await make({ seed: 1 })).train);
    const b = await firstBatch((await make({ seed: 1 })).train);
    const c = await firstBatch((await make({ seed: 2 })).train);
    assert.equal(maxAbsDiff(a.xs, b.xs), 0);
    assert.deepEqual(Array.from(a.ys.dataSync()), Array.from(b.ys.dataSync()));
    assert.ok(maxAbsDiff(a.xs, c.xs) > 0.1);
    tf.dispose([a.xs, a.ys, b.xs, b.ys, c.xs, c.ys]);
  });

  it('never augments validation: batches equal the centre-cropped decode, in order', {
    skip: skipPets,
  }, async () => {
    // With sharp decoding, the crop and resize are sharp's: the same pixels as the reference.
    const dls = await smallPets(40, { decoder: 'sharp' }).dataloaders(PETS, { bs: 4, seed: 3 });
    const { xs, ys } = await firstBatch(dls.valid);
    const items = dls.validDs.items.slice(0, 4) as string[];
    // Reference made directly with sharp: centre crop of the largest square, bilinear to 40,
    // embedded colour profiles ignored (ImageBlock's default, as PIL).
    const ref = await Promise.all(
      items.map(async (f) => {
        const { width, height } = await sharp(f).metadata();
        const side = Math.min(width!, height!);
        const buf = await sharp(f, { ignoreIcc: true })
          .removeAlpha()
          .toColourspace('srgb')
          .extract({
            left: Math.trunc(0.5 * (width! - side)),
            top: Math.trunc(0.5 * (height! - side)),
            width: side,
            height: side,
          })
          .resize(40, 40, { fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer();
        return Array.from(buf, (v) => v / 255);
      }),
    );
    const expected = tf.tensor4d(ref.flat(), [4, 40, 40, 3]);
    assert.ok(maxAbsDiff(xs, expected) < 1e-6);
    // By default (TurboJPEG at a reduced scale, the crop sampled by the batch executor on wasm
    // and cpu) the same picture through other filters.
    const fused = await smallPets(40).dataloaders(PETS, { bs: 4, seed: 3 });
    const f = await firstBatch(fused.valid);
    const meanDiff = tf.tidy(() => f.xs.sub(expected).abs().mean().dataSync()[0]!);
    assert.ok(meanDiff < 0.015, `fused validation batch: mean difference ${meanDiff}`);
    tf.dispose([f.xs, f.ys]);
    assert.deepEqual(
      Array.from(ys.dataSync()),
      items.map((f) => dls.vocab!.indexOf(petLabel(f))),
    );
    // The same items with the training augmentation differ.
    const aug = await firstBatch(dls.validWithAugmentation());
    assert.ok(maxAbsDiff(aug.xs, xs) > 0.05);
    tf.dispose([xs, ys, expected, aug.xs, aug.ys]);
  });

  it('normalises with the formula and the statistics follow', { skip: skipPets }, async () => {
    const dls = await smallPets(20).dataloaders(PETS, { bs: 8, seed: 4 });
    const raw = await firstBatch(dls.valid);
    dls.normalize(imagenetStats);
    dls.normalize(imagenetStats); // replaces, does not stack
    const norm = await firstBatch(dls.valid);
    const { mean, std } = imagenetStats;
    const expected = tf.tidy(() => raw.xs.sub(tf.tensor1d([...mean])).div(tf.tensor1d([...std])));
    assert.ok(maxAbsDiff(norm.xs, expected) < 1e-5);
    const chanMean = (x: tf.Tensor) => tf.tidy(() => Array.from(x.mean([0, 1, 2]).dataSync()));
    const rawMean = chanMean(raw.xs);
    chanMean(norm.xs).forEach((m, c) => {
      assert.ok(Math.abs(m - (rawMean[c]! - mean[c]!) / std[c]!) < 1e-4);
    });
    assert.deepEqual(
      (dls.toConfig().batchTfms as { name: string }[]).map((t) => t.name),
      ['AffineAugment', 'LightingAugment', 'Normalize'],
    );
    assert.deepEqual(dls.normalizer?.toConfig(), {
      name: 'Normalize',
      mean: [...mean],
      std: [...std],
    });
    tf.dispose([raw.xs, raw.ys, norm.xs, norm.ys, expected]);
  });

  it('iterates a full epoch without leaking tensors; the tensor path passes the kernel guard', {
    skip: skipPets,
  }, async () => {
    const dls = await smallPets(60).dataloaders(PETS, { bs: 16, seed: 5 });
    dls.normalize(imagenetStats);
    let n = 0;
    await expectNoLeaks(async () => {
      for await (const { xs, ys } of dls.train) {
        n += xs.shape[0]!;
        tf.dispose([xs, ys]);
      }
      for await (const { xs, ys } of dls.valid) {
        n += xs.shape[0]!;
        tf.dispose([xs, ys]);
      }
    });
    assert.equal(n, dls.train.numItems + dls.validDs.length);
    const tensorDls = await smallPets(20).dataloaders(PETS, {
      bs: 8,
      seed: 5,
      augExecutor: 'tensor',
    });
    tensorDls.normalize(imagenetStats);
    await expectNoLeaks(async () => {
      for await (const { xs, ys } of tensorDls.train) tf.dispose([xs, ys]);
    });
    const { result, kernels } = await expectKernelsSupported(() => tensorDls.oneBatch());
    assert.ok(kernels.includes('GatherV2') && kernels.includes('Sigmoid'), kernels.join(','));
    assert.deepEqual(result.xs.shape, [8, 40, 40, 3]);
    tf.dispose([result.xs, result.ys]);
  });

  it('encodeInputs makes the validation-time input for raw paths', { skip: skipPets }, async () => {
    const dls = await smallPets(20).dataloaders(PETS, { bs: 4, seed: 6 });
    dls.normalize(imagenetStats);
    const v = await firstBatch(dls.valid);
    const xs = await dls.encodeInputs(dls.validDs.items.slice(0, 2));
    assert.ok(maxAbsDiff(xs, v.xs.slice(0, 2)) < 1e-6);
    tf.dispose([xs, v.xs, v.ys]);
  });

  it('rebuilds the inference pipeline from its JSON description (export / loadLearner)', {
    skip: skipPets,
  }, async () => {
    const dls = await smallPets(20).dataloaders(PETS, { bs: 4, seed: 6 });
    dls.normalize(imagenetStats);
    const config = JSON.parse(JSON.stringify(dls.toConfig()));
    const loaded = DataLoaders.fromConfig(config);
    assert.deepEqual(loaded.vocab, dls.vocab);
    assert.equal(loaded.c, dls.c);
    assert.deepEqual(loaded.toConfig(), dls.toConfig());
    const paths = dls.validDs.items.slice(0, 3);
    const [a, b] = [await dls.encodeInputs(paths), await loaded.encodeInputs(paths)];
    assert.equal(maxAbsDiff(a, b), 0);
    tf.dispose([a, b]);
    assert.throws(
      () => DataLoaders.fromConfig({ ...config, itemTfms: [{ name: 'Sharpen' }] }),
      /Unknown transform "Sharpen"/,
    );
  });

  it('summary walks one item through every step', { skip: skipPets }, async () => {
    const logged: string[] = [];
    const text = await smallPets(10).summary(PETS, { log: (l) => logged.push(l) });
    // Returned, and streamed line by line to `log` when one is given.
    assert.equal(text, logged.join('\n'));
    assert.match(text, /Found 10 items/);
    assert.match(text, /getY: "/);
    assert.match(text, /ImageBlock: RGB image 40x40/);
    assert.match(text, /xs float32 \[2,40,40,3\], ys int32 \[2\]/);
  });
});

describe('DataBlock on bad input', () => {
  let dir: string;
  before(async () => {
    await ready();
    dir = mkdtempSync(join(tmpdir(), 'tsfast-bad-'));
    const mk = (r: number, g: number) =>
      sharp({ create: { width: 24, height: 16, channels: 3, background: { r, g, b: 50 } } })
        .jpeg()
        .toBuffer();
    for (let i = 0; i < 6; i++) writeFileSync(join(dir, `cat_${i}.jpg`), await mk(200, 20 * i));
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, `dog_${i}.jpg`), await mk(20 * i, 200));
  });

  const block = (splitter = IndexSplitter([0, 6])) =>
    new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      getItems: getImageFiles,
      splitter,
      getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
      itemTfms: Resize(16),
    });

  it('an empty folder is an error naming the folder', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tsfast-empty-'));
    await assert.rejects(
      block().datasets(empty),
      (e: unknown) => e instanceof DataError && e.message.includes(`"${empty}"`),
    );
  });

  it('a label the regex does not match names the file', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tsfast-regex-'));
    writeFileSync(join(d, 'cat_1.jpg'), readFileSync(join(dir, 'cat_1.jpg')));
    writeFileSync(join(d, 'IMG 01.jpg'), readFileSync(join(dir, 'cat_2.jpg')));
    await assert.rejects(
      block(IndexSplitter([])).datasets(d),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.includes('IMG 01.jpg"') &&
        e.message.includes('RegexLabeller'),
    );
    // The error carries the report up to the failing step.
    await assert.rejects(
      block(IndexSplitter([])).summary(d),
      /step "getY" failed[\s\S]*Found 2 items/,
    );
  });

  it('a category seen only in validation names the label and the item', async () => {
    const files = await getImageFiles(dir);
    const dogs = files.map((f, i) => (f.includes('/dog_') ? i : -1)).filter((i) => i >= 0);
    await assert.rejects(
      block(IndexSplitter(dogs)).datasets(dir),
      (e: unknown) => e instanceof DataError && /label "dog" of item ".*dog_0.jpg"/.test(e.message),
    );
  });

  it('truncated JPEG and a text file named .jpg: clear errors, or skipped and reported once', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tsfast-corrupt-'));
    mkdirSync(d, { recursive: true });
    for (let i = 0; i < 4; i++)
      writeFileSync(join(d, `cat_${i}.jpg`), readFileSync(join(dir, `cat_${i}.jpg`)));
    const good = readFileSync(join(dir, 'dog_1.jpg'));
    writeFileSync(join(d, 'dog_1.jpg'), good);
    writeFileSync(join(d, 'dog_2.jpg'), good.subarray(0, Math.floor(good.length / 2)));
    writeFileSync(join(d, 'dog_3.jpg'), 'this is not an image\n');
    const dblock = block(IndexSplitter([]));
    const strict = await dblock.dataloaders(d, { bs: 7, shuffle: false, seed: 0 });
    await assert.rejects(
      firstBatch(strict.train),
      (e: unknown) =>
        e instanceof DataError && /Cannot decode image ".*dog_[23].jpg"/.test(e.message),
    );
    const reported: string[] = [];
    const lenient = await dblock.dataloaders(d, {
      bs: 7,
      shuffle: false,
      seed: 0,
      skipBadImages: true,
      onSkip: (s) => reported.push(String(s.item)),
    });
    for (let epoch = 0; epoch < 2; epoch++) {
      const { xs, ys } = await firstBatch(lenient.train);
      assert.equal(xs.shape[0], 5);
      assert.equal(ys.shape[0], 5);
      tf.dispose([xs, ys]);
    }
    assert.deepEqual(reported.map((f) => f.slice(d.length + 1)).sort(), ['dog_2.jpg', 'dog_3.jpg']);
    assert.equal(lenient.skipped.length, 2);
  });

  it('images of different sizes without a resize say which and how to fix it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tsfast-sizes-'));
    writeFileSync(join(d, 'cat_1.jpg'), readFileSync(join(dir, 'cat_1.jpg')));
    writeFileSync(
      join(d, 'cat_2.jpg'),
      await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } })
        .jpeg()
        .toBuffer(),
    );
    const noResize = new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      getItems: getImageFiles,
      splitter: IndexSplitter([]),
      getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
    });
    const dls = await noResize.dataloaders(d, { bs: 2, shuffle: false, augExecutor: 'tensor' });
    await assert.rejects(
      firstBatch(dls.train),
      /Cannot collate images of different sizes.*Resize\(224\)/,
    );
  });
});
