import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { transformFromConfig } from '../../../src/data/registry.js';
import { type AffineAugment, augTransforms } from '../../../src/vision/augment/aug-transforms.js';
import { Brightness, Contrast } from '../../../src/vision/augment/brightness-contrast.js';
import { Dihedral, dihedral, dihedralMat } from '../../../src/vision/augment/dihedral.js';
import { lighting } from '../../../src/vision/augment/lighting.js';
import { IDENTITY } from '../../../src/vision/augment/matrices.js';

const N = 5;
/** A [1, 5, 5, 1] image with value 10 * row + column. */
const image = () =>
  tf.tensor4d(
    Array.from({ length: N * N }, (_, k) => 10 * Math.floor(k / N) + (k % N)),
    [1, N, N, 1],
  );

describe('Dihedral', () => {
  before(async () => {
    await ready();
  });

  it("dihedralMat is fastai's table: the 8 signed permutations", () => {
    assert.deepEqual(dihedralMat(0), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(1), [-1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(2), [1, 0, 0, 0, -1, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(3), [0, -1, 0, 1, 0, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(4), [-1, 0, 0, 0, -1, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(5), [0, 1, 0, -1, 0, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(6), [0, 1, 0, 1, 0, 0, 0, 0, 1]);
    assert.deepEqual(dihedralMat(7), [0, -1, 0, -1, 0, 0, 0, 0, 1]);
    assert.equal(new Set([0, 1, 2, 3, 4, 5, 6, 7].map((k) => String(dihedralMat(k)))).size, 8);
    assert.throws(() => dihedralMat(8), /0\.\.7/);
  });

  it('resamples each image exactly by its matrix, and leaves validation alone', () => {
    const x = image();
    const t = new Dihedral({ p: 1 });
    const seen = new Set<string>();
    for (let seed = 0; seed < 24; seed++) {
      const plan = t.plan(1, N, N, { training: true, rng: new RandomGenerator(seed) })!;
      const m = plan.matrices[0]!;
      seen.add(String(m));
      const y = t.apply(x, { training: true, rng: new RandomGenerator(seed) });
      const out = y.dataSync();
      // By hand: output (row i, column j) at (u, v) reads the input at m (u, v).
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          const u = j - 2;
          const v = i - 2;
          const col = m[0] * u + m[1] * v + 2;
          const row = m[3] * u + m[4] * v + 2;
          assert.ok(Math.abs(out[i * N + j]! - (10 * row + col)) < 1e-4, `seed ${seed} ${i},${j}`);
        }
      }
      y.dispose();
    }
    assert.equal(seen.size, 8, 'every symmetry is drawn');
    const v = t.apply(x, { training: false, rng: new RandomGenerator(0) });
    assert.deepEqual(Array.from(v.dataSync()), Array.from(x.dataSync()));
    const none = new Dihedral({ p: 0 }).plan(4, N, N, {
      training: true,
      rng: new RandomGenerator(1),
    });
    assert.ok(none!.matrices.every((m) => String(m) === String(IDENTITY)));
    tf.dispose([x, v]);
  });

  it("augTransforms({ flipVert: true }) is fastai's Dihedral(p=0.5): identity 1/2 + 1/16 of draws", () => {
    const [affine] = augTransforms({ flipVert: true, maxRotate: 0, maxWarp: 0, maxZoom: 1 });
    const table = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((k) => String(dihedralMat(k))));
    const plan = (affine as AffineAugment).plan(4000, 8, 8, {
      training: true,
      rng: new RandomGenerator(12),
    })!;
    let identity = 0;
    for (const m of plan.matrices) {
      assert.ok(table.has(String(m.map((v) => v + 0))), `${m}`);
      if (String(m) === String(IDENTITY)) identity++;
    }
    assert.ok(Math.abs(identity / 4000 - 0.5625) < 0.025, `${identity / 4000}`);
  });

  it('round-trips its config', () => {
    const t = dihedral({ p: 0.3, padMode: 'zeros' });
    assert.deepEqual(transformFromConfig(t.toConfig()).toConfig(), t.toConfig());
    assert.throws(() => dihedral({ p: 1.5 }), /p/);
  });
});

describe('Brightness and Contrast', () => {
  it("draw fastai's ranges per image and apply them in logit space", () => {
    const x = tf.tensor4d(
      Array.from({ length: 4 * 6 }, (_, k) => (k % 6) / 5),
      [4, 1, 2, 3],
    );
    const b = new Brightness({ maxLighting: 0.3, p: 1 });
    const draws = b.plan(4, { training: true, rng: new RandomGenerator(2) })!;
    assert.ok(
      draws.every((d) => d >= 0.35 && d <= 0.65 && d !== 0.5),
      `${draws}`,
    );
    const got = b.apply(x, { training: true, rng: new RandomGenerator(2) });
    const ref = lighting(x, draws, [1, 1, 1, 1]);
    assert.ok(tf.tidy(() => got.sub(ref).abs().max().dataSync()[0]!) < 1e-6);
    const c = new Contrast({ maxLighting: 0.3, p: 1 });
    const cd = c.plan(4, { training: true, rng: new RandomGenerator(3) })!;
    assert.ok(
      cd.every((d) => d >= 0.7 - 1e-12 && d <= 1 / 0.7 + 1e-12 && d !== 1),
      `${cd}`,
    );
    const got2 = c.apply(x, { training: true, rng: new RandomGenerator(3) });
    const ref2 = lighting(x, [0.5, 0.5, 0.5, 0.5], cd);
    assert.ok(tf.tidy(() => got2.sub(ref2).abs().max().dataSync()[0]!) < 1e-6);
    // p = 0: nothing drawn applies; validation: unchanged.
    assert.deepEqual(
      new Contrast({ p: 0 }).plan(3, { training: true, rng: new RandomGenerator(1) }),
      [1, 1, 1],
    );
    assert.equal(b.plan(4, { training: false, rng: new RandomGenerator(1) }), undefined);
    assert.equal(b.order, 40);
    for (const t of [b, c])
      assert.deepEqual(transformFromConfig(t.toConfig()).toConfig(), t.toConfig());
    assert.throws(() => new Brightness({ maxLighting: 1 }), /maxLighting/);
    tf.dispose([x, got, ref, got2, ref2]);
  });
});
