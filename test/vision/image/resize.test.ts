import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { RandomGenerator } from '../../../src/core/random.js';
import { applyItemTransforms } from '../../../src/vision/image/item-transform.js';
import {
  drawResizedCrop,
  RandomResizedCrop,
} from '../../../src/vision/image/random-resized-crop.js';
import { Resize } from '../../../src/vision/image/resize.js';

// A 60x40 PNG with a distinct value at every pixel.
const W = 60;
const H = 40;
const raw = Buffer.alloc(W * H * 3);
for (let i = 0; i < H; i++) {
  for (let j = 0; j < W; j++) raw.set([j * 4, i * 6, (i * 7 + j * 3) % 256], (i * W + j) * 3);
}
const png = sharp(raw, { raw: { width: W, height: H, channels: 3 } })
  .png()
  .toBuffer();
const valid = { training: false, rng: new RandomGenerator(0) };

async function reference(f: (s: sharp.Sharp) => sharp.Sharp): Promise<Uint8Array> {
  return new Uint8Array(
    await f(sharp(await png))
      .raw()
      .toBuffer(),
  );
}

describe('Resize', () => {
  it('crop: the centre square in validation, a random one in training', async () => {
    const img = await applyItemTransforms(await png, [Resize(20)], valid);
    assert.deepEqual([img.width, img.height], [20, 20]);
    const ref = await reference((s) =>
      s
        .extract({ left: 10, top: 0, width: 40, height: 40 })
        .resize(20, 20, { fit: 'fill', kernel: 'linear' }),
    );
    assert.deepEqual(img.data, ref);
    const rng = new RandomGenerator(5);
    const px = new RandomGenerator(5).random();
    const t = await applyItemTransforms(await png, [Resize(20)], { training: true, rng });
    const left = Math.trunc(px * 20);
    const refT = await reference((s) =>
      s
        .extract({ left, top: 0, width: 40, height: 40 })
        .resize(20, 20, { fit: 'fill', kernel: 'linear' }),
    );
    assert.deepEqual(t.data, refT);
    assert.notEqual(left, 10);
  });

  it('pad: the whole image, padded where it falls short', async () => {
    const img = await applyItemTransforms(
      await png,
      [Resize(20, { method: 'pad', padMode: 'zeros' })],
      valid,
    );
    assert.deepEqual([img.width, img.height], [20, 20]);
    const row = (i: number) => img.data.subarray(i * 60, (i + 1) * 60);
    // 40 / 3 -> 13 image rows, 3 black above and 4 below.
    assert.ok(row(0).every((v) => v === 0) && row(2).every((v) => v === 0));
    assert.ok(row(19).every((v) => v === 0) && row(16).every((v) => v === 0));
    assert.ok(row(8).some((v) => v > 0));
    const refl = await applyItemTransforms(await png, [Resize(20, { method: 'pad' })], valid);
    assert.ok(
      refl.data.subarray(0, 60).some((v) => v > 0),
      'reflection fills the pad with image pixels',
    );
  });

  it('squish: the whole image resized', async () => {
    const img = await applyItemTransforms(
      await png,
      [Resize([10, 30], { method: 'squish' })],
      valid,
    );
    assert.deepEqual([img.width, img.height], [30, 10]);
    assert.deepEqual(
      img.data,
      await reference((s) => s.resize(30, 10, { fit: 'fill', kernel: 'linear' })),
    );
  });

  it('rejects bad sizes and options', () => {
    assert.throws(() => Resize(0), /`size` must be a positive integer/);
    assert.throws(() => Resize(10, { method: 'fit' as never }), /`method` must be one of/);
  });
});

describe('RandomResizedCrop', () => {
  it('validation: resize to size + valXtra (multiple of 8), then the centre crop', async () => {
    const img = await applyItemTransforms(await png, [RandomResizedCrop(16)], valid);
    const ref = await reference((s) =>
      s
        .resize(24, 24, { fit: 'fill', kernel: 'linear' })
        .extract({ left: 4, top: 4, width: 16, height: 16 }),
    );
    assert.deepEqual(img.data, ref);
  });

  it('training draws stay inside the image with area and ratio in range', () => {
    const rng = new RandomGenerator(3);
    for (let k = 0; k < 500; k++) {
      const b = drawResizedCrop(
        500,
        375,
        { minScale: 0.08, maxScale: 1, ratio: [3 / 4, 4 / 3] },
        rng,
      );
      assert.ok(b.left >= 0 && b.top >= 0 && b.left + b.width <= 500 && b.top + b.height <= 375);
      const area = (b.width * b.height) / (500 * 375);
      assert.ok(area > 0.07 && area <= 1, `area ${area}`);
      const r = b.width / b.height;
      assert.ok(r > 0.7 && r < 1.4, `ratio ${r}`);
    }
    // No crop fits a 10:1 image at ratio 1: fastai's fallback is the central square.
    const b = drawResizedCrop(100, 10, { minScale: 0.9, maxScale: 1, ratio: [1, 1] }, rng);
    assert.deepEqual(b, { left: 45, top: 0, width: 10, height: 10 });
  });
});
