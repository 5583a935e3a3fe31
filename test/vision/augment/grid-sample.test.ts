import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { imagenetStats } from '../../../src/data/batch.js';
import { Normalize } from '../../../src/data/normalize.js';
import { expectKernelsSupported } from '../../../src/testing/kernel-guard.js';
import { expectNoLeaks } from '../../../src/testing/leak-check.js';
import { augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { cpuAugmentBatch } from '../../../src/vision/augment/cpu-executor.js';
import { gridSample } from '../../../src/vision/augment/grid-sample.js';
import {
  aspectCorrect,
  flipMat,
  IDENTITY,
  type Mat3,
  rotateMat,
  warpMat,
} from '../../../src/vision/augment/matrices.js';
import type { RGBImage } from '../../../src/vision/image/decode.js';

/** A synthetic RGB image with distinct, non-linear values everywhere. */
function synthetic(h: number, w: number, seed = 0): RGBImage {
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const k = (i * w + j) * 3;
      data[k] = (i * 37 + j * 11 + seed * 13) % 256;
      data[k + 1] = (i * j + 7 * seed) % 256;
      data[k + 2] = ((i + 2 * j) * 5 + seed) % 256;
    }
  }
  return { data, width: w, height: h };
}

function toFloat(img: RGBImage): tf.Tensor3D {
  return tf.tensor3d(
    Float32Array.from(img.data, (v) => v / 255),
    [img.height, img.width, 3],
  );
}

/** Independent reference: PyTorch grid_sample(align_corners=True, reflection) for one pixel. */
function refSample(
  img: RGBImage,
  m: Mat3,
  i: number,
  j: number,
  outH: number,
  outW: number,
): number[] {
  const u = -1 + (2 * j) / (outW - 1);
  const v = -1 + (2 * i) / (outH - 1);
  const z = m[6] * u + m[7] * v + m[8];
  const x = (m[0] * u + m[1] * v + m[2]) / z;
  const y = (m[3] * u + m[4] * v + m[5]) / z;
  const reflect = (p: number, size: number) => {
    // PyTorch reflect_coordinates with align_corners: reflect about 0 and size - 1.
    const span = size - 1;
    let a = Math.abs(p);
    const flips = Math.floor(a / span);
    a -= flips * span;
    return flips % 2 === 0 ? a : span - a;
  };
  const px = reflect(((x + 1) / 2) * (img.width - 1), img.width);
  const py = reflect(((y + 1) / 2) * (img.height - 1), img.height);
  const x0 = Math.floor(px);
  const y0 = Math.floor(py);
  const at = (yy: number, xx: number, c: number) =>
    img.data[(Math.min(yy, img.height - 1) * img.width + Math.min(xx, img.width - 1)) * 3 + c]! /
    255;
  return [0, 1, 2].map((c) => {
    const fx = px - x0;
    const fy = py - y0;
    return (
      (1 - fy) * ((1 - fx) * at(y0, x0, c) + fx * at(y0, x0 + 1, c)) +
      fy * ((1 - fx) * at(y0 + 1, x0, c) + fx * at(y0 + 1, x0 + 1, c))
    );
  });
}

describe('gridSample (tensor path)', () => {
  before(async () => {
    await ready();
  });

  it('the identity returns the input within 1e-5', async () => {
    const img = synthetic(17, 23);
    const x = toFloat(img).expandDims(0) as tf.Tensor4D;
    const y = await expectNoLeaks(() => gridSample(x, [IDENTITY], 17, 23), 1);
    assert.ok(tf.tidy(() => y.sub(x).abs().max().dataSync()[0]!) < 1e-5);
    tf.dispose([x, y]);
  });

  it('a horizontal flip equals reversing the width axis', () => {
    const x = toFloat(synthetic(12, 19)).expandDims(0) as tf.Tensor4D;
    const y = gridSample(x, [flipMat(true)], 12, 19);
    const rev = tf.reverse(x, 2);
    assert.ok(tf.tidy(() => y.sub(rev).abs().max().dataSync()[0]!) < 1e-5);
    tf.dispose([x, y, rev]);
  });

  it('a 90 degree rotation of a square image moves every pixel where expected', () => {
    const n = 9;
    const img = synthetic(n, n);
    const x = toFloat(img).expandDims(0) as tf.Tensor4D;
    const y = gridSample(x, [rotateMat(90)], n, n);
    const out = y.dataSync();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let c = 0; c < 3; c++) {
          // fastai's rotate_mat(90) = [[0, 1], [-1, 0]]: output (u, v) reads input (v, -u),
          // i.e. output (i, j) reads input row n-1-j, column i.
          const expected = img.data[((n - 1 - j) * n + i) * 3 + c]! / 255;
          assert.ok(Math.abs(out[(i * n + j) * 3 + c]! - expected) < 1e-5, `pixel ${i},${j},${c}`);
        }
      }
    }
    tf.dispose([x, y]);
  });

  it('a 30 degree rotation with warp and a resize matches a per-pixel reference', () => {
    const img = synthetic(20, 30, 3);
    const m = aspectCorrect(rotateMat(30), 30, 20);
    const persp = warpMat(0.15, -0.1);
    const x = toFloat(img).expandDims(0) as tf.Tensor4D;
    for (const mat of [m, persp]) {
      const y = gridSample(x, [mat], 13, 17, 'reflection');
      const out = y.dataSync();
      for (let i = 0; i < 13; i++) {
        for (let j = 0; j < 17; j++) {
          const ref = refSample(img, mat, i, j, 13, 17);
          for (let c = 0; c < 3; c++) {
            assert.ok(
              Math.abs(out[(i * 17 + j) * 3 + c]! - ref[c]!) < 1e-4,
              `pixel ${i},${j},${c}`,
            );
          }
        }
      }
      y.dispose();
    }
    x.dispose();
  });

  it('zeros and border padding fill outside the image', () => {
    const x = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
    const shift: Mat3 = [1, 0, 2, 0, 1, 0, 0, 0, 1]; // reads one full width to the right
    const zeros = gridSample(x, [shift], 4, 4, 'zeros');
    const border = gridSample(x, [shift], 4, 4, 'border');
    // Column 0 reads x = 1 (the last column, in bounds); the others read outside.
    const z = zeros.arraySync() as number[][][][];
    for (const row of z[0]!) {
      for (const [j, p] of row.entries()) {
        assert.ok(Math.abs(p[0]! - (j === 0 ? 1 : 0)) < 1e-5, `column ${j}: ${p[0]}`);
      }
    }
    assert.equal(border.min().dataSync()[0], 1);
    tf.dispose([x, zeros, border]);
  });
});

describe('the two executors agree', () => {
  before(async () => {
    await ready();
  });

  it('cpu pass = tensor path for the same draws (affine, warp, crop, lighting, Normalize)', async () => {
    const images = [
      synthetic(48, 64, 1),
      synthetic(48, 64, 2),
      synthetic(48, 64, 3),
      synthetic(48, 64, 4),
    ];
    const tfms = [
      ...augTransforms({
        size: 32,
        minScale: 0.5,
        maxRotate: 30,
        maxZoom: 1.3,
        pAffine: 1,
        pLighting: 1,
      }),
      Normalize.fromStats(imagenetStats),
    ];
    for (const training of [true, false]) {
      const cpu = cpuAugmentBatch(images, tfms, { training, rng: new RandomGenerator(9) })!;
      const x = tf.stack(images.map(toFloat)) as tf.Tensor4D;
      const ctx = { training, rng: new RandomGenerator(9) };
      const { result: tensor } = await expectKernelsSupported(() =>
        tf.tidy(() => {
          let t: tf.Tensor = x;
          for (const tfm of tfms) t = tfm.apply(t, ctx);
          return t;
        }),
      );
      assert.deepEqual(cpu.shape, [4, 32, 32, 3]);
      const diff = tf.tidy(() => cpu.sub(tensor).abs().max().dataSync()[0]!);
      assert.ok(diff < 2e-3, `executors differ by ${diff} (training=${training})`);
      tf.dispose([cpu, x, tensor]);
    }
  });

  it('cpu pass: images that drew no rotation copy their pixels exactly, mirrored when flipped', () => {
    const images = Array.from({ length: 16 }, (_, k) => synthetic(9, 13, k));
    // Flip and rotation only, rotation drawn for a quarter of the images (pAffine 0.25).
    const tfms = [
      ...augTransforms({ maxZoom: 1, maxWarp: 0, maxLighting: 0, pAffine: 0.25 }),
      Normalize.fromStats(imagenetStats),
    ];
    const out = cpuAugmentBatch(images, tfms, { training: true, rng: new RandomGenerator(5) })!;
    const got = out.arraySync() as number[][][][];
    const { mean, std } = imagenetStats;
    const counts = { same: 0, flipped: 0, rotated: 0 };
    images.forEach((img, b) => {
      const err = (flip: boolean) => {
        let worst = 0;
        for (let i = 0; i < 9; i++) {
          for (let j = 0; j < 13; j++) {
            for (let c = 0; c < 3; c++) {
              const v = img.data[(i * 13 + (flip ? 12 - j : j)) * 3 + c]! / 255;
              worst = Math.max(worst, Math.abs(got[b]![i]![j]![c]! - (v - mean[c]!) / std[c]!));
            }
          }
        }
        return worst;
      };
      if (err(false) < 1e-6) counts.same++;
      else if (err(true) < 1e-6) counts.flipped++;
      else counts.rotated++;
    });
    assert.ok(counts.same > 0 && counts.flipped > 0 && counts.rotated > 0, JSON.stringify(counts));
    out.dispose();
    // With lighting (tone tables), the copied images still match the tensor path.
    const lit = [
      ...augTransforms({ maxZoom: 1, maxWarp: 0, pAffine: 0.25, pLighting: 1 }),
      Normalize.fromStats(imagenetStats),
    ];
    const cpu = cpuAugmentBatch(images, lit, { training: true, rng: new RandomGenerator(6) })!;
    const ctx = { training: true, rng: new RandomGenerator(6) };
    const diff = tf.tidy(() => {
      let t: tf.Tensor = tf.stack(images.map(toFloat));
      for (const tfm of lit) t = tfm.apply(t, ctx);
      return cpu.sub(t).abs().max().dataSync()[0]!;
    });
    assert.ok(diff < 2e-3, `executors differ by ${diff}`);
    cpu.dispose();
  });

  it('falls back (undefined) for transforms it does not know or mixed sizes', () => {
    const unknown = {
      name: 'X',
      order: 50,
      apply: (t: tf.Tensor) => t.clone(),
      toConfig: () => ({}),
    };
    const ctx = { training: true, rng: new RandomGenerator(0) };
    assert.equal(cpuAugmentBatch([synthetic(4, 4)], [unknown], ctx), undefined);
    assert.equal(
      cpuAugmentBatch([synthetic(4, 4), synthetic(5, 4)], augTransforms(), ctx),
      undefined,
    );
  });
});
