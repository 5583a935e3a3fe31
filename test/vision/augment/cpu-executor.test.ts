import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { imagenetStats } from '../../../src/data/batch.js';
import { Normalize } from '../../../src/data/normalize.js';
import { expectNoLeaks } from '../../../src/testing/leak-check.js';
import { augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { cpuAugmentBatch } from '../../../src/vision/augment/cpu-executor.js';
import type { GridPadMode } from '../../../src/vision/augment/grid-sample.js';
import type { RGBImage } from '../../../src/vision/image/decode.js';

/** Pseudo-random bytes: neighbouring pixels differ, so any misplaced tap shows. */
function noise(h: number, w: number, seed: number): RGBImage {
  const data = new Uint8Array(h * w * 3);
  let s = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width: w, height: h };
}

/** The tensor executor (gather grid sample) on the same draws. */
function tensorPath(
  images: readonly RGBImage[],
  tfms: ReturnType<typeof augTransforms>,
  seed: number,
): tf.Tensor4D {
  const ctx = { training: true, rng: new RandomGenerator(seed) };
  return tf.tidy(() => {
    let t: tf.Tensor = tf.stack(
      images.map((im) =>
        tf.tensor3d(
          Float32Array.from(im.data, (v) => v / 255),
          [im.height, im.width, 3],
        ),
      ),
    );
    for (const tfm of tfms) t = tfm.apply(t, ctx);
    return t as tf.Tensor4D;
  });
}

describe('cpuAugmentBatch', () => {
  let initial = '';
  before(async () => {
    await ready();
    initial = tf.getBackend();
  });
  after(async () => {
    await tf.setBackend(initial);
  });

  const cases: [GridPadMode, number][] = [
    ['reflection', 0],
    ['border', 0],
    ['reflection', 0.3],
  ];
  for (const [padMode, maxWarp] of cases) {
    it(`geometry matches the tensor path within 1e-4 (rotation, zoom, crop, warp ${maxWarp}; ${padMode})`, () => {
      // No lighting: its table is the only approximation of the fused pass, so what is left
      // to differ is the resampling, including rows that sample partly outside the image.
      const images = Array.from({ length: 12 }, (_, k) => noise(37, 53, k));
      const tfms = augTransforms({
        size: [31, 45],
        minScale: 0.6,
        maxRotate: 40,
        maxZoom: 1.4,
        maxWarp,
        pAffine: 1,
        maxLighting: 0,
        padMode,
      });
      const cpu = cpuAugmentBatch(images, tfms, { training: true, rng: new RandomGenerator(11) })!;
      const ref = tensorPath(images, tfms, 11);
      assert.deepEqual(cpu.shape, [12, 31, 45, 3]);
      const diff = tf.tidy(() => cpu.sub(ref).abs().max().dataSync()[0]!);
      assert.ok(diff < 1e-4, `executors differ by ${diff}`);
      tf.dispose([cpu, ref]);
    });
  }

  it('writes every output value (the heap is not zeroed): rows on the image edge included', () => {
    // The batch is allocated on the wasm heap without clearing: a value the pass skipped would
    // hold whatever was there before. Filled with NaN first, freed, then reused by the batch.
    // Seed 512 draws a zoom whose last output row samples at Y just below 1 (fastai's pets
    // recipe at 224 px from 460 px), a row that once read past the image and left NaN.
    const images = Array.from({ length: 8 }, (_, k) => noise(460, 460, k));
    const tfms = [
      ...augTransforms({ size: 224, minScale: 0.75 }),
      Normalize.fromStats(imagenetStats),
    ];
    for (let seed = 505; seed < 520; seed++) {
      const junk = tf.fill([8, 224, 224, 3], Number.NaN);
      junk.dataSync();
      junk.dispose();
      const x = cpuAugmentBatch(images, tfms, { training: true, rng: new RandomGenerator(seed) })!;
      const values = x.dataSync();
      x.dispose();
      const bad = values.filter((v) => !(Math.abs(v) < 3)).length;
      assert.equal(bad, 0, `seed ${seed}: ${bad} values not written or out of range`);
    }
  });

  it('writes the same values on wasm (straight into the heap) as on cpu, and leaks nothing', async () => {
    const images = Array.from({ length: 6 }, (_, k) => noise(24, 24, k + 20));
    const tfms = [
      ...augTransforms({ maxRotate: 25, pAffine: 0.5, pLighting: 1 }),
      Normalize.fromStats(imagenetStats),
    ];
    const run = () =>
      cpuAugmentBatch(images, tfms, { training: true, rng: new RandomGenerator(3) })!;
    const values: Float32Array[] = [];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      await expectNoLeaks(() => {
        const x = run();
        // A later allocation may grow the wasm heap: the batch must still hold its values.
        const big = tf.zeros([4 << 20]);
        values.push(x.dataSync() as Float32Array);
        tf.dispose([x, big]);
      });
    }
    assert.equal(values[0]!.length, 6 * 24 * 24 * 3);
    assert.ok(values[0]!.every(Number.isFinite));
    assert.deepEqual(values[0], values[1]);
  });
});
