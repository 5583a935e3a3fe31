import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { RandomGenerator } from '../../../src/core/random.js';
import { transformFromConfig } from '../../../src/data/registry.js';
import { CropPad, FlipItem } from '../../../src/vision/image/crop-pad.js';
import { applyItemTransforms } from '../../../src/vision/image/item-transform.js';

// A 10x6 PNG with a distinct value at every pixel: red = column * 20, green = row * 40.
const W = 10;
const H = 6;
const raw = Buffer.alloc(W * H * 3);
for (let i = 0; i < H; i++)
  for (let j = 0; j < W; j++) raw.set([j * 20, i * 40, 77], (i * W + j) * 3);
const png = sharp(raw, { raw: { width: W, height: H, channels: 3 } })
  .png()
  .toBuffer();
const valid = { training: false, rng: new RandomGenerator(0) };

/** Pixel (row, column) of an RGB image as [r, g, b]. */
const at = (img: { data: Uint8Array; width: number }, i: number, j: number) =>
  Array.from(img.data.subarray((i * img.width + j) * 3, (i * img.width + j) * 3 + 3));

describe('CropPad', () => {
  it("crops the centre with fastai's top-left floor((size - target) / 2)", async () => {
    // 10x6 to 4x4: left floor(6 / 2) = 3, top floor(2 / 2) = 1.
    const img = await applyItemTransforms(await png, [CropPad(4)], valid);
    assert.deepEqual([img.width, img.height], [4, 4]);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) assert.deepEqual(at(img, i, j), [(j + 3) * 20, (i + 1) * 40, 77]);
    }
    assert.deepEqual(CropPad(4).cropBox!(10, 6, valid), {
      box: { left: 3, top: 1, width: 4, height: 4 },
      width: 4,
      height: 4,
    });
  });

  it('pads with zeros where the image is smaller, the odd pixel after it (as fastai)', async () => {
    // [height 9, width 13] from 6x10: top floor(-3 / 2) = -2 (pad 2 above, 1 below), left
    // floor(-3 / 2) = -2 (pad 2 left, 1 right).
    const img = await applyItemTransforms(await png, [CropPad([9, 13])], valid);
    assert.deepEqual([img.width, img.height], [13, 9]);
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 13; j++) {
        const inside = i >= 2 && i < 8 && j >= 2 && j < 12;
        assert.deepEqual(
          at(img, i, j),
          inside ? [(j - 2) * 20, (i - 2) * 40, 77] : [0, 0, 0],
          `pixel ${i},${j}`,
        );
      }
    }
    assert.equal(CropPad([9, 13]).cropBox!(10, 6, valid), undefined);
    // Crop in one axis, pad in the other: [4, 12] -> rows 1..4, columns padded 1 left, 1 right.
    const mixed = await applyItemTransforms(await png, [CropPad([4, 12])], valid);
    assert.deepEqual(at(mixed, 0, 0), [0, 0, 0]);
    assert.deepEqual(at(mixed, 0, 1), [0, 40, 77]);
    assert.deepEqual(at(mixed, 3, 10), [180, 160, 77]);
    assert.deepEqual(at(mixed, 3, 11), [0, 0, 0]);
  });

  it('round-trips its config and rejects bad options', () => {
    const t = CropPad([9, 13], { padMode: 'border' });
    assert.deepEqual(transformFromConfig(t.toConfig()).toConfig(), t.toConfig());
    assert.throws(() => CropPad(4, { padMode: 'wrap' as never }), /padMode/);
    assert.throws(() => CropPad(4, { pad: 1 } as never), /pad/);
  });
});

describe('FlipItem', () => {
  it('flips training images with probability p, never validation ones', async () => {
    const flipped = await applyItemTransforms(await png, [FlipItem({ p: 1 })], {
      training: true,
      rng: new RandomGenerator(1),
    });
    for (let j = 0; j < W; j++) assert.deepEqual(at(flipped, 2, j), [(W - 1 - j) * 20, 80, 77]);
    const kept = await applyItemTransforms(await png, [FlipItem({ p: 1 })], valid);
    assert.deepEqual(at(kept, 2, 0), [0, 80, 77]);
    // p = 0.5: about half of the training images, each decided by its own generator.
    let n = 0;
    for (let s = 0; s < 40; s++) {
      const img = await applyItemTransforms(await png, [FlipItem()], {
        training: true,
        rng: new RandomGenerator(s),
      });
      if (at(img, 0, 0)[0] === (W - 1) * 20) n++;
    }
    assert.ok(n > 10 && n < 30, `${n} of 40 flipped`);
    assert.deepEqual(transformFromConfig(FlipItem({ p: 0.3 }).toConfig()).toConfig(), {
      name: 'FlipItem',
      p: 0.3,
    });
    assert.throws(() => FlipItem({ p: 2 }), /p/);
  });
});
