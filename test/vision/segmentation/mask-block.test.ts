import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/ready.js';
import { DataError, ValueError } from '../../../src/core/errors.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { DataBlock } from '../../../src/data/data-block.js';
import { blockFromConfig } from '../../../src/data/registry.js';
import { type AffineAugment, augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { applyMat, type Mat3 } from '../../../src/vision/augment/matrices.js';
import { ImageBlock } from '../../../src/vision/image/image-block.js';
import { Resize } from '../../../src/vision/image/resize.js';
import { decodeMask, MaskBlock } from '../../../src/vision/segmentation/mask-block.js';
import {
  cropMaskNearest,
  type LabelMask,
  warpMaskNearest,
} from '../../../src/vision/segmentation/mask-sample.js';
import { maskColor, overlayMask } from '../../../src/vision/segmentation/show-masks.js';

const dir = mkdtempSync(join(tmpdir(), 'tsfast-mask-'));

/** A grey PNG from per-pixel values. */
async function greyPng(file: string, w: number, h: number, f: (x: number, y: number) => number) {
  const buf = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) buf[y * w + x] = f(x, y);
  await sharp(buf, { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toFile(file);
}

/** A random mask with classes 0..c-1 in blobs (so nearest sampling has edges to get right). */
function randomMask(w: number, h: number, c: number, seed: number): LabelMask {
  const rng = new RandomGenerator(seed);
  const data = new Uint8Array(w * h);
  for (let i = 0; i < data.length; i++) data[i] = rng.randInt(0, c);
  return { data, width: w, height: h };
}

/** The matrix applied by hand: each output pixel through `applyMat`, reflected, rounded. */
function warpByHand(mask: LabelMask, m: Mat3, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  const reflect = (p: number, span: number) => {
    while (p < 0 || p > span) p = p < 0 ? -p : 2 * span - p;
    return p;
  };
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      const [X, Y] = applyMat(m, (2 * j) / (ow - 1) - 1, (2 * i) / (oh - 1) - 1);
      const px = reflect(((X + 1) * (mask.width - 1)) / 2, mask.width - 1);
      const py = reflect(((Y + 1) * (mask.height - 1)) / 2, mask.height - 1);
      out[i * ow + j] = mask.data[Math.round(py) * mask.width + Math.round(px)]!;
    }
  }
  return out;
}

describe('MaskBlock', () => {
  it('maps pixel values to class indices and names a file with an unknown value', async () => {
    const file = join(dir, 'trimap.png');
    await greyPng(file, 5, 4, (x, y) => 1 + ((x + y) % 3));
    const m = await decodeMask(file, [1, 2, 3]);
    assert.deepEqual([m.width, m.height], [5, 4]);
    assert.deepEqual(Array.from(m.data.slice(0, 5)), [0, 1, 2, 0, 1]);
    await assert.rejects(decodeMask(file, [1, 2]), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match((e as Error).message, /trimap\.png.*pixel value 3/);
      return true;
    });
    const fitted = MaskBlock({ codes: ['a', 'b', 'c'], values: [1, 2, 3] }).setup([]);
    const padded = {
      training: false,
      rng: new RandomGenerator(0),
      itemTfms: [Resize(3, { method: 'pad' })],
    };
    await assert.rejects(Promise.resolve(fitted.encode(file, 'item-7', padded)), (e: unknown) => {
      assert.ok(e instanceof ValueError);
      assert.match((e as Error).message, /no crop geometry.*item-7/);
      return true;
    });
    assert.throws(() => MaskBlock({ codes: ['a', 'b'], values: [1] }), ValueError);
    assert.throws(() => MaskBlock({ codes: [] }), ValueError);
  });

  it('warps masks exactly as the augmentation matrices applied by hand, with no new labels', () => {
    const [affine] = augTransforms({ size: [24, 28], maxRotate: 40, maxWarp: 0.4, minZoom: 0.8 });
    const mask = randomMask(33, 27, 3, 7);
    const plan = (affine as AffineAugment).plan(12, 33, 27, {
      training: true,
      rng: new RandomGenerator(3),
    })!;
    for (const m of plan.matrices) {
      const out = warpMaskNearest(mask, m, 24, 28, 'reflection');
      assert.deepEqual(Array.from(out.data), Array.from(warpByHand(mask, m, 24, 28)));
      assert.ok(out.data.every((v) => v < 3));
    }
  });

  it('crops masks as the item transform maps pixel centres, by nearest neighbour', () => {
    const mask = randomMask(40, 30, 4, 1);
    const geometry = Resize(16).cropBox!(40, 30, { training: true, rng: new RandomGenerator(5) })!;
    const out = cropMaskNearest(mask, geometry);
    const { box } = geometry;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const sx = Math.round(box.left + ((x + 0.5) * box.width) / 16 - 0.5);
        const sy = Math.round(box.top + ((y + 0.5) * box.height) / 16 - 0.5);
        assert.equal(out.data[y * 16 + x], mask.data[sy * 40 + sx]);
      }
    }
  });

  for (const executor of ['cpu', 'tensor'] as const) {
    for (const format of ['png', 'jpg'] as const) {
      it(`keeps image and mask aligned under every augmentation (${executor}, ${format})`, async () => {
        await ready();
        const w = 90;
        const h = 70;
        // A shape with no symmetry: an off-centre ellipse and a bar, white on black.
        const inside = (x: number, y: number) =>
          ((x - 30) / 18) ** 2 + ((y - 28) / 12) ** 2 < 1 || (x > 55 && x < 62 && y > 10);
        const items: string[] = [];
        for (let k = 0; k < 4; k++) {
          const base = join(dir, `shape${k}_${executor}`);
          const rgb = Buffer.alloc(w * h * 3);
          for (let p = 0; p < w * h; p++)
            rgb.fill(inside(p % w, Math.floor(p / w)) ? 255 : 0, 3 * p, 3 * p + 3);
          const img = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
          await (format === 'png' ? img.png() : img.jpeg({ quality: 100 })).toFile(
            `${base}.${format}`,
          );
          await greyPng(`${base}_mask.png`, w, h, (x, y) => (inside(x, y) ? 1 : 2));
          items.push(`${base}.${format}`);
        }
        const block = new DataBlock({
          blocks: [ImageBlock, MaskBlock({ codes: ['shape', 'background'], values: [1, 2] })],
          splitter: () => [[0, 1, 2, 3], []],
          getY: (f) => String(f).replace(/\.(png|jpg)$/, '_mask.png'),
          itemTfms: Resize(64),
          batchTfms: augTransforms({
            size: 48,
            minScale: 0.6,
            maxRotate: 30,
            maxWarp: 0.3,
            minZoom: 0.9,
            maxZoom: 1.3,
            flipVert: true,
          }),
        });
        const dls = await block.dataloaders(items, { bs: 4, seed: 11, augExecutor: executor });
        let checked = 0;
        let borderMisses = 0;
        for (let epoch = 0; epoch < 3; epoch++) {
          for await (const { xs, ys } of dls.train) {
            assert.deepEqual(ys.shape, [4, 48, 48]);
            assert.equal(ys.dtype, 'int32');
            const px = await xs.data();
            const lab = await ys.data();
            tf.dispose([xs, ys]);
            assert.ok(
              lab.every((v) => v === 0 || v === 1),
              'no new label values',
            );
            for (let b = 0; b < 4; b++) {
              for (let i = 0; i < 48; i++) {
                for (let j = 0; j < 48; j++) {
                  const p = b * 48 * 48 + i * 48 + j;
                  const bright = (px[3 * p]! + px[3 * p + 1]! + px[3 * p + 2]!) / 3 > 0.5;
                  if (bright === (lab[p] === 0)) continue;
                  // A disagreement must sit on the shape's edge: a neighbour holds the other label.
                  // On the output's outer rows and columns that neighbour can lie outside the
                  // frame (a shape edge running along the border, e.g. after a dihedral turn).
                  if (i === 0 || j === 0 || i === 47 || j === 47) {
                    borderMisses++;
                    continue;
                  }
                  let edge = false;
                  for (let di = -1; di <= 1; di++) {
                    for (let dj = -1; dj <= 1; dj++) {
                      const ii = i + di;
                      const jj = j + dj;
                      if (ii < 0 || jj < 0 || ii >= 48 || jj >= 48) continue;
                      if (lab[b * 48 * 48 + ii * 48 + jj] !== lab[p]) edge = true;
                    }
                  }
                  assert.ok(edge, `image ${b} pixel (${j}, ${i}) disagrees away from the edge`);
                }
              }
              checked++;
            }
          }
        }
        assert.equal(checked, 12);
        // 12 batches of 4 images have 12 * 4 * 188 border pixels: only a few may miss.
        assert.ok(borderMisses <= 20, `${borderMisses} border pixels disagree`);
      });
    }
  }

  it('overlays masks at alpha 0.5 in the palette colours, and showBatch draws them', async () => {
    // Red pixel under class 0 (#1f77b4 = [31, 119, 180]): 0.5 * [255, 0, 0] + 0.5 * colour.
    assert.deepEqual(Array.from(overlayMask([1, 0, 0], [0])), [143, 60, 90]);
    assert.deepEqual(maskColor(1), [255, 127, 14]);
    const file = join(dir, 'img_mask_show.png');
    await greyPng(join(dir, 'show_mask.png'), 20, 16, (x) => (x < 10 ? 1 : 2));
    await sharp({ create: { width: 20, height: 16, channels: 3, background: '#808080' } })
      .png()
      .toFile(join(dir, 'show.png'));
    const block = new DataBlock({
      blocks: [ImageBlock, MaskBlock({ codes: ['a', 'b'], values: [1, 2] })],
      splitter: () => [[0], []],
      getY: () => join(dir, 'show_mask.png'),
      itemTfms: Resize(16),
    });
    const dls = await block.dataloaders([join(dir, 'show.png')], { bs: 1 });
    const before = tf.memory().numTensors;
    await dls.showBatch({ file, tileSize: 32 });
    assert.equal(tf.memory().numTensors, before);
    const meta = await sharp(file).metadata();
    assert.ok(meta.width! >= 32 && meta.height! >= 32);
  });

  it('round-trips through its config', () => {
    const fitted = MaskBlock({ codes: ['pet', 'background', 'border'], values: [1, 2, 3] }).setup(
      [],
    );
    const again = blockFromConfig(fitted.toConfig());
    assert.deepEqual(again.toConfig(), fitted.toConfig());
    assert.deepEqual(again.vocab, ['pet', 'background', 'border']);
    assert.equal(again.c, 3);
  });
});
