import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { DataError, ValueError } from '../../../src/core/errors.js';
import { decodeImage, imageSize } from '../../../src/vision/image/decode.js';
import { SHARED_DIR, skipUnlessShared } from '../../support/shared.js';

const PETS = join(SHARED_DIR, 'data', 'pets', 'images');

describe('decodeImage', () => {
  let dir: string;
  // A 6x4 image: left half red, right half blue.
  const raw = Buffer.alloc(6 * 4 * 3);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsfast-decode-'));
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 6; j++) raw.set(j < 3 ? [255, 0, 0] : [0, 0, 255], (i * 6 + j) * 3);
    }
  });
  const fromRaw = () => sharp(raw, { raw: { width: 6, height: 4, channels: 3 } });

  it('decodes by content: pet ".jpg" files that are really GIF and PNG (with alpha)', {
    skip: skipUnlessShared('data', 'pets', 'images'),
  }, async () => {
    const formats: string[] = [];
    for (const name of ['Abyssinian_34.jpg', 'Abyssinian_5.jpg', 'Abyssinian_1.jpg']) {
      const file = join(PETS, name);
      const meta = await sharp(file).metadata();
      const img = await decodeImage(file);
      assert.equal(img.data.length, img.width * img.height * 3, `${name} (${meta.format})`);
      formats.push(String(meta.format));
    }
    assert.deepEqual(formats.sort(), ['gif', 'jpeg', 'png']);
  });

  it('applies the EXIF orientation', async () => {
    const file = join(dir, 'rotated.jpg');
    await fromRaw().jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file);
    assert.deepEqual(await imageSize(file), { width: 4, height: 6 });
    const img = await decodeImage(file);
    assert.deepEqual([img.width, img.height], [4, 6]);
    // Orientation 6 = rotate 90 clockwise: the red left half ends on top.
    assert.ok(img.data[0]! > 200 && img.data[2]! < 60, `top-left ${img.data.slice(0, 3)}`);
    const last = (img.width * img.height - 1) * 3;
    assert.ok(img.data[last + 2]! > 200 && img.data[last]! < 60);
  });

  it('turns grey, alpha and CMYK images into 3-channel sRGB', async () => {
    const grey = join(dir, 'grey.png');
    await fromRaw().greyscale().png().toFile(grey);
    const alpha = join(dir, 'alpha.png');
    await fromRaw().ensureAlpha(0.5).png().toFile(alpha);
    const cmyk = join(dir, 'cmyk.jpg');
    await fromRaw().toColourspace('cmyk').jpeg({ quality: 100 }).toFile(cmyk);
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    for (const f of [grey, alpha, cmyk]) {
      const img = await decodeImage(f);
      assert.equal(img.data.length, 6 * 4 * 3, f);
    }
    const g = await decodeImage(grey);
    assert.equal(g.data[0], g.data[1]);
    const c = await decodeImage(cmyk);
    assert.ok(c.data[0]! > 150 && c.data[2]! < 100, `CMYK red came back as ${c.data.slice(0, 3)}`);
  });

  it('names the file when it is truncated, not an image, or missing', async () => {
    const good = await fromRaw().resize(64, 64).jpeg().toBuffer();
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'hello\n');
    for (const f of [truncated, text, join(dir, 'missing.jpg')]) {
      await assert.rejects(
        decodeImage(f),
        (e: unknown) =>
          e instanceof DataError && e.message.includes(`"${f}"`) && /skipBadImages/.test(e.message),
      );
    }
    await assert.rejects(decodeImage(new Uint8Array(readFileSync(text))), /in memory/);
  });

  it("keeps the stored pixels of a file with an ICC profile by default (as PIL), converts with iccProfile: 'convert'", async () => {
    // A PNG written byte by byte (so the stored pixels are known exactly) with a Display P3
    // profile in its iCCP chunk.
    const tagged = await fromRaw().withIccProfile('p3').png().toBuffer();
    const profile = (await sharp(tagged).metadata()).icc;
    assert.ok(profile, 'sharp gave no P3 profile');
    const stored = Buffer.from(
      [
        [200, 30, 40],
        [20, 180, 60],
        [30, 60, 220],
        [128, 128, 128],
      ].flat(),
    );
    const file = join(dir, 'p3.png');
    writeFileSync(file, pngWithProfile(stored, 4, 1, profile));
    assert.equal((await sharp(file).metadata()).hasProfile, true);
    const ignored = await decodeImage(file);
    assert.deepEqual(Buffer.from(ignored.data), stored);
    const converted = await decodeImage(file, { iccProfile: 'convert' });
    // P3 is wider than sRGB: the saturated colours move away from grey, grey stays.
    const spread = (px: Uint8Array, k: number) =>
      Math.max(...px.subarray(3 * k, 3 * k + 3)) - Math.min(...px.subarray(3 * k, 3 * k + 3));
    for (const k of [0, 1, 2]) {
      assert.ok(
        spread(converted.data, k) > spread(stored, k) + 10,
        `pixel ${k}: ${converted.data}`,
      );
    }
    for (const v of converted.data.subarray(9, 12)) assert.ok(Math.abs(v - 128) <= 2);
    await assert.rejects(
      decodeImage(file, { iccProfile: 'srgb' as 'convert' }),
      (e: unknown) => e instanceof ValueError && /iccProfile/.test(e.message),
    );
  });
});

/** An 8-bit RGB PNG (filter 0 on every row) with `profile` in an iCCP chunk. */
function pngWithProfile(rgb: Buffer, width: number, height: number, profile: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.concat(
    Array.from({ length: height }, (_, y) =>
      Buffer.concat([Buffer.from([0]), rgb.subarray(y * width * 3, (y + 1) * width * 3)]),
    ),
  );
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('iCCP', Buffer.concat([Buffer.from('P3\0\0', 'latin1'), deflateSync(profile)])),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
