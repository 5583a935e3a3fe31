import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ValueError } from '../../src/core/errors.js';
import { imageGrid } from '../../src/plot/image-grid.js';

describe('imageGrid', () => {
  it('lays out tiles with captions and keeps the pixels', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsfast-grid-')), 'sub', 'grid.png');
    const red = {
      data: new Uint8Array(8 * 8 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)),
      width: 8,
      height: 8,
    };
    const blue = tf.tensor3d(
      Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 3 === 2 ? 1 : 0)),
      [8, 8, 3],
    );
    const tiles = [
      { image: red, title: 'red <&> one' },
      { image: blue, title: 'blue' },
      { image: red, title: 'two\nlines' },
    ];
    const { width, height } = await imageGrid(tiles, { file, ncols: 2, tileSize: 64 });
    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.width, meta.height], [width, height]);
    assert.ok(width === 2 * (64 + 2 * 3) && height > 2 * 64);
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) =>
      Array.from(
        data.subarray(
          (y * info.width + x) * info.channels,
          (y * info.width + x) * info.channels + 3,
        ),
      );
    // Centre of the first image tile is red, of the second blue.
    const cellH = height / 2;
    const imgTop = cellH - 3 - 64;
    assert.deepEqual(px(3 + 32, imgTop + 32), [255, 0, 0]);
    assert.deepEqual(px(70 + 3 + 32, imgTop + 32), [0, 0, 255]);
    // Captions drew dark pixels above the images.
    let dark = 0;
    for (let y = 0; y < imgTop; y++) for (let x = 0; x < 70; x++) if (px(x, y)[0]! < 100) dark++;
    assert.ok(dark > 10, 'no caption text rendered');
    blue.dispose();
  });

  it('rejects an empty list and a tensor that is not [H, W, 3]', async () => {
    await assert.rejects(imageGrid([], { file: '/tmp/x.png' }), ValueError);
    const bad = tf.zeros([4, 4]) as unknown as tf.Tensor3D;
    await assert.rejects(
      imageGrid([{ image: bad, title: '' }], { file: '/tmp/x.png' }),
      /\[H, W, 3\]/,
    );
    bad.dispose();
  });
});
