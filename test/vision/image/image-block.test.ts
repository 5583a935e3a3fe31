import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ValueError } from '../../../src/core/errors.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { blockFromConfig } from '../../../src/data/registry.js';
import type { RGBImage } from '../../../src/vision/image/decode.js';
import { ImageBlock } from '../../../src/vision/image/image-block.js';
import { Resize } from '../../../src/vision/image/resize.js';

const solid = (width: number, height: number, rgb: [number, number, number]) =>
  sharp({
    create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });

describe('ImageBlock', () => {
  it('remembers the size of a file it has seen, and reads it again when the file changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-image-block-'));
    const file = join(dir, 'a.png');
    await solid(40, 30, [200, 10, 10]).png().toFile(file);
    const block = ImageBlock().setup([]);
    const ctx = { training: false, rng: new RandomGenerator(1), itemTfms: [Resize(16)] };
    const first = (await block.encode(file, file, ctx)) as RGBImage;
    assert.deepEqual([first.width, first.height, first.data[0]], [16, 16, 200]);
    // Replaced by a smaller image: the remembered 40x30 crop box no longer fits.
    await solid(12, 10, [10, 200, 10]).png().toFile(file);
    const second = (await block.encode(file, file, ctx)) as RGBImage;
    assert.deepEqual([second.width, second.height, second.data[1]], [16, 16, 200]);
    // Replaced by a larger one (left half red, right half blue): decoded at its new size, not
    // cropped to the old one.
    const split = Buffer.alloc(80 * 80 * 3);
    for (let p = 0; p < 80 * 80; p++) split.set(p % 80 < 40 ? [200, 0, 0] : [0, 0, 200], 3 * p);
    await sharp(split, { raw: { width: 80, height: 80, channels: 3 } })
      .png()
      .toFile(file);
    const third = (await block.encode(file, file, ctx)) as RGBImage;
    const fresh = (await ImageBlock().setup([]).encode(file, file, ctx)) as RGBImage;
    assert.deepEqual(third, fresh);
    assert.deepEqual([third.data[0], third.data[3 * 15 + 2]], [200, 200]);
  });

  it("takes iccProfile ('ignore' by default), rejects bad options, and keeps it in its config", () => {
    assert.deepEqual(ImageBlock().setup([]).toConfig(), {
      name: 'ImageBlock',
      iccProfile: 'ignore',
      decoder: 'auto',
    });
    const viaSharp = ImageBlock({ decoder: 'sharp' }).setup([]);
    assert.deepEqual(blockFromConfig(viaSharp.toConfig()).toConfig(), viaSharp.toConfig());
    assert.throws(() => ImageBlock({ decoder: 'libjpeg' as 'sharp' }), ValueError);
    const convert = ImageBlock({ iccProfile: 'convert' }).setup([]);
    assert.deepEqual(blockFromConfig(convert.toConfig()).toConfig(), convert.toConfig());
    // Exports from before the option decoded through the profile.
    assert.equal(blockFromConfig({ name: 'ImageBlock' }).toConfig().iccProfile, 'convert');
    assert.throws(() => ImageBlock({ iccProfile: 'srgb' as 'convert' }), ValueError);
    assert.throws(() => ImageBlock({ icc: true } as never), ValueError);
  });
});
