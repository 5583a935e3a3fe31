/**
 * Rotation augmentation end to end against fastai: the matrices AffineAugment draws are
 * fastai's rotate_mat (with _prepare_mat's aspect correction) for the drawn angle, and both
 * executors resample the batch as fastai does (PyTorch affine_grid + grid_sample, reflection,
 * align_corners; fixture made by fixtures/make_rotate_fixture.py).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { AffineAugment } from '../../../src/vision/augment/aug-transforms.js';
import { cpuAugmentBatch } from '../../../src/vision/augment/cpu-executor.js';
import type { RGBImage } from '../../../src/vision/image/decode.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const fixture = JSON.parse(readFileSync(join(HERE, 'fixtures', 'rotate-fastai.json'), 'utf8')) as {
  degrees: number[];
  height: number;
  width: number;
  nhwc: number[];
};

describe("rotation matches fastai's Rotate end to end", () => {
  before(async () => {
    await ready();
  });

  it('draws rotate_mat and resamples as PyTorch, on both executors', () => {
    const { height: h, width: w, degrees } = fixture;
    const n = degrees.length;
    const rotateOnly = new AffineAugment({
      doFlip: false,
      flipVert: false,
      maxRotate: 30,
      minZoom: 1,
      maxZoom: 1,
      maxWarp: 0,
      pAffine: 1,
      size: undefined,
      padMode: 'reflection',
      minScale: 1,
    });
    const ctx = () => ({ training: true, rng: new RandomGenerator(4) });
    const plan = rotateOnly.plan(n, w, h, ctx())!;
    degrees.forEach((deg, b) => {
      // fastai: affine_mat(cos, sin, 0, -sin, cos, 0), then m01 *= h / w, m10 *= w / h.
      const t = (deg * Math.PI) / 180;
      const expected = [
        Math.cos(t),
        (Math.sin(t) * h) / w,
        0,
        (-Math.sin(t) * w) / h,
        Math.cos(t),
        0,
      ];
      expected.forEach((v, k) => {
        assert.ok(Math.abs(plan.matrices[b]![k]! - v) < 1e-9, `image ${b} entry ${k}`);
      });
    });
    const bytes = new Uint8Array(h * w * 3);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let c = 0; c < 3; c++) bytes[(i * w + j) * 3 + c] = (i * 37 + j * 11 + c * 50) % 256;
      }
    }
    const x = tf.tidy(() =>
      tf
        .tensor4d(
          Float32Array.from(bytes, (v) => v / 255),
          [1, h, w, 3],
        )
        .tile([n, 1, 1, 1]),
    );
    const tensorPath = rotateOnly.apply(x, ctx());
    const images: RGBImage[] = Array.from({ length: n }, () => ({
      data: bytes,
      width: w,
      height: h,
    }));
    const cpuPath = cpuAugmentBatch(images, [rotateOnly], ctx())!;
    for (const [name, y] of [
      ['tensor', tensorPath],
      ['cpu', cpuPath],
    ] as const) {
      const got = y.dataSync();
      let worst = 0;
      fixture.nhwc.forEach((v, k) => {
        worst = Math.max(worst, Math.abs(got[k]! - v));
      });
      assert.ok(worst < 1e-4, `${name} executor: largest difference ${worst}`);
    }
    tf.dispose([x, tensorPath, cpuPath]);
  });
});
