/**
 * Keypoints follow their image: through the item transform's crop and the batch augmentation
 * (flip, rotation, zoom, warp), checked on rendered dots (the point must land on the dot in the
 * augmented image) and against the matrices applied by hand.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { DataBlock } from '../../../src/data/data-block.js';
import { IndexSplitter } from '../../../src/data/splitters.js';
import { augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { Brightness } from '../../../src/vision/augment/brightness-contrast.js';
import { Dihedral } from '../../../src/vision/augment/dihedral.js';
import {
  flipMat,
  IDENTITY,
  type Mat3,
  matMul3,
  rotateMat,
  warpMat,
  zoomMat,
} from '../../../src/vision/augment/matrices.js';
import { ImageBlock } from '../../../src/vision/image/image-block.js';
import { Resize } from '../../../src/vision/image/resize.js';
import { decodePoints, PointBlock } from '../../../src/vision/points/point-block.js';
import {
  invertMat3,
  pointsThroughItem,
  scalePointsThrough,
} from '../../../src/vision/points/point-geometry.js';

/** Writes a dark JPEG `w x h` with a bright disc of radius `r` centred on (cx, cy). */
async function dotImage(file: string, w: number, h: number, cx: number, cy: number, r: number) {
  const data = Buffer.alloc(w * h * 3, 10);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Pixel (x, y) covers [x, x + 1): its centre is x + 0.5.
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r)
        data.fill(250, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  }
  await sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 98 })
    .toFile(file);
}

/** Intensity-weighted centre of the bright pixels of image `b` of a batch, in continuous pixels. */
function brightCentre(xs: Float32Array, b: number, h: number, w: number): [number, number] {
  let sx = 0;
  let sy = 0;
  let s = 0;
  const off = b * h * w * 3;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = xs[off + (y * w + x) * 3]!;
      if (v > 0.5) {
        sx += v * (x + 0.5);
        sy += v * (y + 0.5);
        s += v;
      }
    }
  }
  return [sx / s, sy / s];
}

describe('PointBlock', () => {
  let dir: string;
  const items: { file: string; pt: [number, number] }[] = [];
  before(async () => {
    await ready();
    dir = await mkdtemp(join(tmpdir(), 'tsfast-points-'));
    const rng = new RandomGenerator(3);
    for (let i = 0; i < 8; i++) {
      const [w, h] = [80, 64];
      const pt: [number, number] = [rng.uniform(24, 56), rng.uniform(20, 44)];
      const file = join(dir, `dot_${i}.jpg`);
      await dotImage(file, w, h, pt[0], pt[1], 4);
      items.push({ file, pt });
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('maps points through matrices exactly as the inverse applied by hand', () => {
    // Flip: a point at x = 10 of 32 pixels goes to 32 - 10; y unchanged.
    assert.deepEqual(
      scalePointsThrough([10, 5], flipMat(true), 32, 32, 32, 32).map((v) => +v.toFixed(9)),
      [(2 * 22) / 32 - 1, (2 * 5) / 32 - 1],
    );
    // Rotation, zoom and warp composed: out = inv(M) in, in the sampler's frame; and M maps
    // the result back onto the input point.
    const m: Mat3 = matMul3(warpMat(0.1, -0.15), matMul3(rotateMat(25), zoomMat(1.2, 0.3, 0.6)));
    const inv = invertMat3(m);
    const close = (a: readonly number[], b: readonly number[], tol = 1e-9) =>
      a.forEach((v, i) => {
        assert.ok(Math.abs(v - b[i]!) < tol, `${a} vs ${b}`);
      });
    close(matMul3(m, inv), IDENTITY);
    const [W, H] = [40, 30];
    const p = [13.25, 21.5];
    const [tx, ty] = scalePointsThrough(p, m, W, H, W, H) as [number, number];
    // Back to the sampler frame of the output, then through M: the input point.
    const px = ((tx + 1) * W) / 2;
    const py = ((ty + 1) * H) / 2;
    const u = (2 * (px - 0.5)) / (W - 1) - 1;
    const v = (2 * (py - 0.5)) / (H - 1) - 1;
    const z = m[6] * u + m[7] * v + m[8];
    const X = (m[0] * u + m[1] * v + m[2]) / z;
    const Y = (m[3] * u + m[4] * v + m[5]) / z;
    close([((X + 1) * (W - 1)) / 2 + 0.5, ((Y + 1) * (H - 1)) / 2 + 0.5], p);
    // Item crop: box (8, 0, 64, 64) resized to 32: x -> (x - 8) / 2.
    close(
      pointsThroughItem([40, 10], {
        srcWidth: 80,
        srcHeight: 64,
        box: { left: 8, top: 0, width: 64, height: 64 },
        width: 32,
        height: 32,
      }),
      [16, 5],
    );
    // fastai's TensorPoint scaling and its decoding.
    close(scalePointsThrough([16, 8], IDENTITY, 32, 32, 32, 32), [0, -0.5]);
    close(decodePoints([0, -0.5], 32, 32), [16, 8]);
  });

  it('a padding resize, whose geometry points cannot follow, is an error naming the item', async () => {
    const block = new DataBlock({
      blocks: [ImageBlock, PointBlock],
      getX: (it) => (it as { file: string }).file,
      getY: (it) => [(it as { pt: number[] }).pt],
      splitter: IndexSplitter([]),
      itemTfms: Resize(48, { method: 'pad' }),
    });
    const dls = await block.dataloaders(items.slice(0, 2), { bs: 2, seed: 1 });
    const before = tf.memory().numTensors;
    await assert.rejects(
      async () => {
        for await (const b of dls.train) tf.dispose([b.xs, b.ys]);
      },
      (e: unknown) =>
        e instanceof Error && /geometry is unknown/.test(e.message) && /dot_/.test(e.message),
    );
    assert.equal(tf.memory().numTensors, before, 'the batch images are disposed on the error');
  });

  it('points follow dihedral symmetries and lighting leaves them alone', async () => {
    const block = new DataBlock({
      blocks: [ImageBlock, PointBlock],
      getX: (it) => (it as { file: string }).file,
      getY: (it) => [(it as { pt: number[] }).pt],
      splitter: IndexSplitter([]),
      itemTfms: Resize([48, 56], { method: 'squish' }),
      batchTfms: [new Dihedral({ p: 1, padMode: 'zeros' }), new Brightness({ p: 1 })],
    });
    const dls = await block.dataloaders(items, { bs: 8, seed: 9 });
    for await (const { xs, ys } of dls.train) {
      const [n, h, w] = xs.shape as number[];
      const px = xs.dataSync() as Float32Array;
      const pts = ys.dataSync();
      for (let b = 0; b < n!; b++) {
        const [dx, dy] = decodePoints([pts[2 * b]!, pts[2 * b + 1]!], w!, h!) as [number, number];
        const [cx, cy] = brightCentre(px, b, h!, w!);
        assert.ok(Math.hypot(dx - cx, dy - cy) < 1, `image ${b}: (${dx}, ${dy}) vs (${cx}, ${cy})`);
      }
      tf.dispose([xs, ys]);
    }
  });

  for (const executor of ['tensor', 'cpu'] as const) {
    it(`points land on their dot after resize, flip, rotation, zoom and warp (${executor})`, async () => {
      const block = new DataBlock({
        blocks: [ImageBlock, PointBlock],
        getX: (it) => (it as { file: string }).file,
        getY: (it) => [(it as { pt: number[] }).pt],
        splitter: IndexSplitter([]),
        itemTfms: Resize(48),
        batchTfms: augTransforms({
          maxRotate: 30,
          minZoom: 1,
          maxZoom: 1.3,
          maxWarp: 0.15,
          pAffine: 1,
          maxLighting: 0,
          padMode: 'zeros',
          size: 40,
        }),
      });
      const dls = await block.dataloaders(items, { bs: 8, seed: 5, augExecutor: executor });
      assert.equal(dls.c, 2);
      const before = tf.memory().numTensors;
      let seen = 0;
      for (let pass = 0; pass < 2; pass++) {
        for await (const { xs, ys } of dls.train) {
          assert.deepEqual(ys.shape, [8, 1, 2]);
          const [n, h, w] = xs.shape as number[];
          const px = xs.dataSync() as Float32Array;
          const pts = ys.dataSync();
          for (let b = 0; b < n!; b++) {
            const [dx, dy] = decodePoints([pts[2 * b]!, pts[2 * b + 1]!], w!, h!) as [
              number,
              number,
            ];
            const [cx, cy] = brightCentre(px, b, h!, w!);
            assert.ok(
              Math.hypot(dx - cx, dy - cy) < 1,
              `image ${b}: point (${dx.toFixed(2)}, ${dy.toFixed(2)}) vs dot (${cx.toFixed(2)}, ${cy.toFixed(2)})`,
            );
            seen++;
          }
          tf.dispose([xs, ys]);
        }
      }
      assert.equal(seen, 16);
      assert.equal(tf.memory().numTensors, before, 'batches leave nothing behind');
    });
  }
});
