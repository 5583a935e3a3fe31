import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../../../src/core/errors.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { decodeImage } from '../../../src/vision/image/decode.js';
import {
  applyItemTransforms,
  type ItemTransform,
} from '../../../src/vision/image/item-transform.js';
import { isJpeg, jpegOrientation } from '../../../src/vision/image/jpeg-header.js';
import { RandomResizedCrop } from '../../../src/vision/image/random-resized-crop.js';
import { Resize } from '../../../src/vision/image/resize.js';
import { decodeJpegFast } from '../../../src/vision/image/turbojpeg.js';
import { SHARED_DIR, skipUnlessShared } from '../../support/shared.js';
import { skipUnlessTurboJpeg } from '../../support/turbojpeg.js';

const PETS = join(SHARED_DIR, 'data', 'pets', 'images');
const needTurbo = skipUnlessTurboJpeg();

/** A smooth colour gradient with some texture, so that JPEG coding has real work to do. */
function photoLike(width: number, height: number, period = 1): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      px[o] = (x * 255) / width;
      px[o + 1] = (y * 255) / height;
      px[o + 2] = 128 + 100 * Math.sin(x / (3 * period)) * Math.cos(y / (5 * period));
    }
  }
  return px;
}

describe('jpeg header', () => {
  it('recognises JPEG data by content', () => {
    assert.equal(isJpeg(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)), true);
    assert.equal(isJpeg(Uint8Array.of(0x89, 0x50, 0x4e, 0x47)), false);
    assert.equal(isJpeg(Uint8Array.of(0xff, 0xd8)), false);
  });

  it('reads every EXIF orientation sharp writes, and 1 when there is none', async () => {
    const img = sharp(photoLike(16, 8), { raw: { width: 16, height: 8, channels: 3 } });
    assert.equal(jpegOrientation(await img.clone().jpeg().toBuffer()), 1);
    for (let orientation = 1; orientation <= 8; orientation++) {
      const bytes = await img.clone().jpeg().withMetadata({ orientation }).toBuffer();
      assert.equal(jpegOrientation(bytes), orientation, `orientation ${orientation}`);
    }
  });

  it('reads a big-endian EXIF block and gives undefined for a broken header', () => {
    // SOI, APP1 "Exif\0\0" MM, IFD0 with one entry: 0x0112 SHORT 1 = 3, then SOS.
    const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0];
    const app1 = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff, 0, 0, 0, 0];
    const length = app1.length + 2;
    const jpeg = Uint8Array.of(
      0xff,
      0xd8,
      0xff,
      0xe1,
      length >> 8,
      length & 255,
      ...app1,
      0xff,
      0xda,
    );
    assert.equal(jpegOrientation(jpeg), 3);
    // Orientation 0 (written by some cameras; four pet photos have it) means no rotation.
    const zero = jpeg.slice();
    zero[6 + 6 + 8 + 2 + 8 + 1] = 0;
    assert.equal(jpegOrientation(zero), 1);
    assert.equal(jpegOrientation(jpeg.subarray(0, 20)), undefined);
    assert.equal(jpegOrientation(Uint8Array.of(0xff, 0xd8, 0x00, 0x00, 0x00)), undefined);
  });
});

describe('TurboJPEG decoding', { skip: needTurbo }, () => {
  let dir: string;
  const width = 61;
  const height = 37;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsfast-turbo-'));
  });
  const source = () => sharp(photoLike(width, height), { raw: { width, height, channels: 3 } });
  const viaSharp = (bytes: Uint8Array) => decodeImage(bytes, { decoder: 'sharp' });
  const bothDecoders = (bytes: Uint8Array, tfms: ItemTransform[], training: boolean) =>
    Promise.all(
      (['auto', 'sharp'] as const).map((decoder) =>
        applyItemTransforms(bytes, tfms, { training, rng: new RandomGenerator(7) }, undefined, {
          decoder,
        }),
      ),
    );

  it('gives the same pixels as sharp: 4:2:0, 4:4:4, progressive, grey, odd sizes', async () => {
    const variants: Record<string, Buffer> = {
      '4:2:0': await source().jpeg({ quality: 80 }).toBuffer(),
      '4:4:4': await source().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer(),
      progressive: await source().jpeg({ progressive: true }).toBuffer(),
      grey: await source().toColourspace('b-w').jpeg().toBuffer(),
    };
    assert.equal((await sharp(variants.grey).metadata()).channels, 1);
    for (const [name, bytes] of Object.entries(variants)) {
      const fast = await decodeJpegFast(bytes);
      assert.ok(fast, `${name}: TurboJPEG should take it`);
      const ref = await viaSharp(bytes);
      assert.deepEqual([fast.width, fast.height], [width, height], name);
      assert.ok(Buffer.from(fast.data).equals(Buffer.from(ref.data)), `${name}: pixels differ`);
      // decodeImage's default goes the fast way and gives the same pixels.
      assert.ok(Buffer.from((await decodeImage(bytes)).data).equals(Buffer.from(ref.data)));
    }
  });

  it('leaves to sharp what it would not decode identically: EXIF rotation, CMYK, PNG', async () => {
    const rotated = await source().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const cmyk = await source().toColourspace('cmyk').jpeg().toBuffer();
    const png = await source().png().toBuffer();
    for (const [name, bytes] of Object.entries({ rotated, cmyk, png })) {
      assert.equal(await decodeJpegFast(bytes), undefined, name);
      const auto = await decodeImage(bytes);
      const ref = await viaSharp(bytes);
      assert.deepEqual([auto.width, auto.height], [ref.width, ref.height], name);
      assert.ok(Buffer.from(auto.data).equals(Buffer.from(ref.data)), name);
    }
    assert.deepEqual(
      [(await decodeImage(rotated)).width, (await decodeImage(rotated)).height],
      [height, width],
    );
  });

  it('decodes 600 images started at once (koffi itself queues at most 256 calls)', async () => {
    const bytes = await source().jpeg().toBuffer();
    const ref = await viaSharp(bytes);
    const all = await Promise.all(Array.from({ length: 600 }, () => decodeJpegFast(bytes)));
    assert.equal(all.filter((img) => img === undefined).length, 0);
    assert.ok(all.every((img) => Buffer.from(img!.data).equals(Buffer.from(ref.data))));
  });

  it('leaves a truncated JPEG to sharp, whose error names the file', async () => {
    const whole = await source().jpeg().toBuffer();
    const file = join(dir, 'truncated.jpg');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    assert.equal(await decodeJpegFast(readFileSync(file)), undefined);
    await assert.rejects(
      decodeImage(file),
      (e: unknown) => e instanceof DataError && e.message.includes(file),
    );
  });

  it('feeds the item transforms the same pixels as a sharp decode when no shrinking is allowed', async () => {
    const bytes = await source().jpeg({ quality: 90 }).toBuffer();
    // Each first transform keeps the source at full size here (its reduction is below 8/7).
    const tfms = [
      [RandomResizedCrop(30)],
      [RandomResizedCrop(34, { valXtra: 0 })],
      [Resize(36)],
      [Resize(36, { method: 'squish' })],
      [Resize(56, { method: 'pad', padMode: 'reflection' })],
      [Resize(36), RandomResizedCrop(8)],
    ];
    for (const list of tfms) {
      for (const training of [true, false]) {
        const [fast, ref] = await bothDecoders(bytes, list, training);
        const label = `${list.map((t) => t.name).join('+')} training=${training}`;
        assert.deepEqual([fast.width, fast.height], [ref.width, ref.height], label);
        assert.ok(Buffer.from(fast.data).equals(Buffer.from(ref.data)), `${label}: pixels differ`);
      }
    }
  });

  it('decodes at k/8 of the size when the transform allows, close to the full-size result', async () => {
    const [bw, bh] = [256, 160];
    // Texture coarse enough to survive a 5x shrink: what is compared is the filters, not aliasing.
    const bytes = await sharp(photoLike(bw, bh, 6), { raw: { width: bw, height: bh, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const sizes: Array<[number, number]> = [];
    for (const reduction of [0.5, 1, 1.9, 2, 2.5, 3.9, 8, 20]) {
      const img = await decodeJpegFast(bytes, () => reduction);
      sizes.push([img!.width, img!.height]);
    }
    assert.deepEqual(sizes, [
      [256, 160],
      [256, 160],
      [160, 100],
      [128, 80],
      [128, 80],
      [96, 60],
      [32, 20],
      [32, 20],
    ]);
    for (const list of [
      [Resize(32)],
      [Resize(40, { method: 'squish' })],
      [RandomResizedCrop(32)],
    ]) {
      for (const training of [true, false]) {
        const [fast, ref] = await bothDecoders(bytes, list, training);
        const label = `${list[0]!.name} training=${training}`;
        assert.deepEqual([fast.width, fast.height], [ref.width, ref.height], label);
        let sum = 0;
        for (let i = 0; i < ref.data.length; i++) sum += Math.abs(fast.data[i]! - ref.data[i]!);
        // Different filters shrink (DCT scaling then libvips' reduce, or reduce alone).
        // A random crop position is whole pixels of the decoded image: at 1/4 scale it moves by
        // up to 0.8 output pixels, which a textured image shows.
        const tolerance = training && list[0]!.name === 'Resize' ? 5 : 1;
        const mean = sum / ref.data.length;
        assert.ok(mean < tolerance, `${label}: mean difference ${mean}`);
      }
    }
  });

  it('decodes every pet photo bit-identically to sharp', {
    skip: skipUnlessShared('data', 'pets', 'images'),
  }, async () => {
    const files = readdirSync(PETS)
      .filter((f) => f.endsWith('.jpg'))
      .sort();
    let fastCount = 0;
    for (const f of files) {
      const bytes = readFileSync(join(PETS, f));
      const fast = await decodeJpegFast(bytes);
      if (!fast) continue;
      fastCount++;
      const ref = await viaSharp(bytes);
      assert.ok(Buffer.from(fast.data).equals(Buffer.from(ref.data)), f);
    }
    // Two of the 940 files are GIF and PNG data; every real JPEG goes the fast way (four have an
    // EXIF orientation of 0, which means no rotation).
    assert.equal(fastCount, files.length - 2);
  });
});
