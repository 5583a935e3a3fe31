/**
 * The fused crop: TurboJPEG decodes at the scale the crop allows, and the CPU executor samples
 * the item transform's crop while it augments.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { CategoryBlock } from '../../../src/data/blocks.js';
import { DataBlock } from '../../../src/data/data-block.js';
import { getImageFiles } from '../../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../../src/data/labellers.js';
import { RandomSplitter } from '../../../src/data/splitters.js';
import { AffineAugment, augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { cpuAugmentBatch } from '../../../src/vision/augment/cpu-executor.js';
import { applyMat } from '../../../src/vision/augment/matrices.js';
import { decodeSettings } from '../../../src/vision/image/decode.js';
import {
  type CroppedImage,
  decodeForFusedCrop,
  isCroppedImage,
} from '../../../src/vision/image/fused-crop.js';
import { ImageBlock } from '../../../src/vision/image/image-block.js';
import {
  drawResizedCrop,
  RandomResizedCrop,
} from '../../../src/vision/image/random-resized-crop.js';
import { Resize } from '../../../src/vision/image/resize.js';
import { SHARED_DIR, skipUnlessShared } from '../../support/shared.js';
import { skipUnlessTurboJpeg } from '../../support/turbojpeg.js';

const PETS = join(SHARED_DIR, 'data', 'pets', 'images');
const needTurbo = skipUnlessTurboJpeg();

/** R = x and G = y exactly (bytes), B = 7: bilinear sampling reproduces the ramps exactly. */
function ramps(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  }
  return data;
}

describe('fused crop in the CPU executor', () => {
  before(async () => {
    await ready();
  });

  it('samples the crop box with libvips pixel centres, composed with each augmentation matrix', () => {
    const [w, h, tw, th] = [200, 150, 40, 30];
    const box = { left: 37.5, top: 20.25, width: 120, height: 90 };
    const image: CroppedImage = {
      data: ramps(w, h),
      width: w,
      height: h,
      crop: { box, width: tw, height: th },
    };
    const expectSource = (
      xs: Float32Array,
      b: number,
      mats?: (u: number, v: number) => [number, number],
    ) => {
      let checked = 0;
      for (let i = 0; i < th; i++) {
        for (let j = 0; j < tw; j++) {
          const u = -1 + (2 * j) / (tw - 1);
          const v = -1 + (2 * i) / (th - 1);
          const [xn, yn] = mats ? mats(u, v) : [u, v];
          // Intermediate (crop-sized) pixel, then the source point libvips would sample.
          const xi = ((xn + 1) * (tw - 1)) / 2;
          const yi = ((yn + 1) * (th - 1)) / 2;
          const xsrc = box.left + ((xi + 0.5) * box.width) / tw - 0.5;
          const ysrc = box.top + ((yi + 0.5) * box.height) / th - 0.5;
          if (xsrc < 0 || xsrc > w - 1 || ysrc < 0 || ysrc > h - 1) continue;
          const o = ((b * th + i) * tw + j) * 3;
          assert.ok(
            Math.abs(xs[o]! * 255 - xsrc) < 2e-3,
            `x at ${i},${j}: ${xs[o]! * 255} vs ${xsrc}`,
          );
          assert.ok(Math.abs(xs[o + 1]! * 255 - ysrc) < 2e-3, `y at ${i},${j}`);
          assert.ok(Math.abs(xs[o + 2]! * 255 - 7) < 1e-3);
          checked++;
        }
      }
      return checked;
    };
    // Crop only (validation, or no affine augmentation).
    const plain = cpuAugmentBatch([image], [], { training: false, rng: new RandomGenerator(0) })!;
    assert.equal(expectSource(plain.dataSync() as Float32Array, 0), tw * th);
    // With rotation, zoom and warp drawn per image: the executor's draws are reproduced here.
    const tfms = augTransforms({
      maxRotate: 30,
      maxZoom: 1.3,
      maxWarp: 0.3,
      pAffine: 1,
      maxLighting: 0,
    });
    const affine = tfms.find((t): t is AffineAugment => t instanceof AffineAugment)!;
    const plan = affine.plan(3, tw, th, { training: true, rng: new RandomGenerator(11) })!;
    const xs = cpuAugmentBatch([image, image, image], [affine], {
      training: true,
      rng: new RandomGenerator(11),
    })!;
    const values = xs.dataSync() as Float32Array;
    for (let b = 0; b < 3; b++) {
      const checked = expectSource(values, b, (u, v) => applyMat(plan.matrices[b]!, u, v));
      assert.ok(checked > tw * th * 0.5, `image ${b}: ${checked} points inside`);
    }
    tf.dispose([plain, xs]);
  });
});

describe('decodeForFusedCrop', { skip: needTurbo }, () => {
  const jpeg = (w: number, h: number) =>
    sharp(Buffer.from(ramps(w, h)), { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
  const settings = decodeSettings({});
  const ctx = (training: boolean, seed = 3) => ({ training, rng: new RandomGenerator(seed) });

  it('decodes at the smallest scale k/8 the crop allows and scales the box with it', async () => {
    const bytes = await jpeg(256, 160);
    // Squish to 32x32: 8x and 5x, so 1/4 scale (64x40); the sampler shrinks by at most 2x.
    const squish = await decodeForFusedCrop(
      bytes,
      Resize(32, { method: 'squish' }),
      ctx(false),
      settings,
    );
    assert.deepEqual([squish!.width, squish!.height], [64, 40]);
    assert.deepEqual(squish!.crop, {
      box: { left: 0, top: 0, width: 64, height: 40 },
      width: 32,
      height: 32,
    });
    // Centre crop 160x160 -> 40: 4x, so 1/4 scale; the box is the centre square, scaled.
    const crop = await decodeForFusedCrop(bytes, Resize(40), ctx(false), settings);
    assert.deepEqual(crop!.crop.box, { left: 12, top: 0, width: 40, height: 40 });
    // A training RandomResizedCrop: the same draws as its sharp plan, at full scale here.
    const rrc = await decodeForFusedCrop(bytes, RandomResizedCrop(224), ctx(true, 9), settings);
    const drawn = drawResizedCrop(
      256,
      160,
      { minScale: 0.08, maxScale: 1, ratio: [3 / 4, 4 / 3] },
      new RandomGenerator(9),
    );
    assert.deepEqual([rrc!.width, rrc!.height], [256, 160]);
    assert.deepEqual(rrc!.crop.box, drawn);
  });

  it('leaves to the sharp path: a PNG, an EXIF rotation, padding, a shrink beyond 2.5x, decoder sharp', async () => {
    const raw = { raw: { width: 64, height: 48, channels: 3 as const } };
    const png = await sharp(Buffer.from(ramps(64, 48)), raw)
      .png()
      .toBuffer();
    const rotated = await sharp(Buffer.from(ramps(64, 48)), raw)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const plain = await jpeg(64, 48);
    const none = async (bytes: Uint8Array, tfm = Resize(16), s = settings) =>
      assert.equal(await decodeForFusedCrop(bytes, tfm, ctx(false), s), undefined);
    await none(png);
    await none(rotated);
    await none(plain, Resize(16, { method: 'pad' }));
    // 64 -> 8 across but 48 -> 48 down: the decode stays full size, and 8x is left to libvips.
    await none(plain, Resize([48, 8], { method: 'squish' }));
    await none(plain, Resize(16), decodeSettings({ decoder: 'sharp' }));
    await none(plain, Resize(16), decodeSettings({ iccProfile: 'convert' }));
    assert.ok(isCroppedImage((await decodeForFusedCrop(plain, Resize(16), ctx(false), settings))!));
  });

  it('gives pet batches close to the sharp path with the same draws (flip and lighting)', {
    skip: skipUnlessShared('data', 'pets', 'images'),
  }, async () => {
    const load = async (decoder: 'auto' | 'sharp') => {
      const dls = await new DataBlock({
        blocks: [ImageBlock({ decoder }), CategoryBlock],
        getItems: async (p: string) => (await getImageFiles(p)).filter((_, i) => i % 40 === 0),
        splitter: RandomSplitter({ validPct: 0, seed: 42 }),
        getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
        itemTfms: RandomResizedCrop(96, { minScale: 0.35 }),
        // Every sample point inside the crop: the two paths differ only in their filters.
        batchTfms: augTransforms({ maxRotate: 0, maxZoom: 1, maxWarp: 0 }),
      }).dataloaders(PETS, { bs: 8, seed: 5, augExecutor: 'cpu' });
      for await (const { xs, ys } of dls.train) {
        ys.dispose();
        return xs;
      }
      throw new Error('no batch');
    };
    const [fused, viaSharp] = [await load('auto'), await load('sharp')];
    const mean = tf.tidy(() => fused.sub(viaSharp).abs().mean().dataSync()[0]!);
    // Zero would mean the fused path never ran.
    assert.ok(mean > 0 && mean < 0.015, `mean difference ${mean}`);
    tf.dispose([fused, viaSharp]);
  });
});
