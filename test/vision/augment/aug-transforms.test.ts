import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { ValueError } from '../../../src/core/errors.js';
import { RandomGenerator } from '../../../src/core/random.js';
import {
  AffineAugment,
  augTransforms,
  LightingAugment,
} from '../../../src/vision/augment/aug-transforms.js';
import { lighting, logit } from '../../../src/vision/augment/lighting.js';
import {
  applyMat,
  cropMat,
  IDENTITY,
  matMul3,
  rotateMat,
  warpMat,
  zoomMat,
} from '../../../src/vision/augment/matrices.js';

describe('augTransforms', () => {
  before(async () => {
    await ready();
  });

  it("has fastai's defaults", () => {
    const [affine, light] = augTransforms();
    assert.ok(affine instanceof AffineAugment && light instanceof LightingAugment);
    assert.deepEqual(affine.toConfig(), {
      name: 'AffineAugment',
      doFlip: true,
      flipVert: false,
      maxRotate: 10,
      minZoom: 1,
      maxZoom: 1.1,
      maxWarp: 0.2,
      pAffine: 0.75,
      size: null,
      padMode: 'reflection',
      minScale: 1,
    });
    assert.deepEqual(light.toConfig(), {
      name: 'LightingAugment',
      maxLighting: 0.2,
      pLighting: 0.75,
    });
    const [a2] = augTransforms({ mult: 2, size: 224 }) as [AffineAugment];
    assert.equal(a2.settings.maxRotate, 20);
    assert.equal(a2.settings.maxWarp, 0.4);
    assert.deepEqual(a2.settings.size, [224, 224]);
    assert.equal(augTransforms({ maxLighting: 0 }).length, 1);
  });

  it('rejects bad options with the option named', () => {
    assert.throws(() => augTransforms({ pAffine: 2 }), /`pAffine` must be a probability/);
    assert.throws(() => augTransforms({ minScale: 0.5 }), /`size` must be set when minScale < 1/);
    assert.throws(() => augTransforms({ sizes: 3 } as never), ValueError);
  });

  it('draws per image, within the ranges, repeatably; validation is only the resize', () => {
    const [affine] = augTransforms({ size: 32, minScale: 0.5 }) as [AffineAugment];
    const plan = affine.plan(64, 48, 40, { training: true, rng: new RandomGenerator(1) })!;
    const again = affine.plan(64, 48, 40, { training: true, rng: new RandomGenerator(1) })!;
    assert.deepEqual(plan.matrices, again.matrices);
    assert.equal(new Set(plan.matrices.map((m) => m.join())).size, 64);
    assert.deepEqual([plan.outHeight, plan.outWidth], [32, 32]);
    // Every image centre still maps inside the input (zoom in, crop inside, mild rotation/warp).
    for (const m of plan.matrices) {
      const [x, y] = applyMat(m, 0, 0);
      assert.ok(Math.abs(x) < 1 && Math.abs(y) < 1);
    }
    const valid = affine.plan(2, 48, 40, { training: false, rng: new RandomGenerator(1) })!;
    // Validation: centre square crop of the 48x40 input, resized to 32.
    assert.deepEqual(
      valid.matrices[0],
      cropMat({ left: 4, top: 0, width: 40, height: 40 }, 48, 40),
    );
    const [noSize] = augTransforms() as [AffineAugment];
    assert.equal(
      noSize.plan(2, 48, 40, { training: false, rng: new RandomGenerator(1) }),
      undefined,
    );
    const [light] = augTransforms().slice(1) as [LightingAugment];
    assert.equal(light.plan(2, { training: false, rng: new RandomGenerator(1) }), undefined);
    const lp = light.plan(1000, { training: true, rng: new RandomGenerator(2) })!;
    const changed = lp.brightness.filter((b) => b !== 0.5).length / 1000;
    assert.ok(changed > 0.7 && changed < 0.8, `brightness applied to ${changed}, expected ~0.75`);
    assert.ok(lp.brightness.every((b) => b >= 0.4 && b <= 0.6));
    assert.ok(lp.contrast.every((c) => c >= 0.8 - 1e-12 && c <= 1 / 0.8 + 1e-12));
  });

  it('lighting is sigmoid((logit(x) + logit(b)) * c)', () => {
    const vals = [0, 0.1, 0.5, 0.9, 1];
    const x = tf.tensor4d([...vals, ...vals], [2, 1, 5, 1]);
    const y = lighting(x, [0.5, 0.6], [1, 1.25]).dataSync();
    const expect = (v: number, b: number, c: number) =>
      1 / (1 + Math.exp(-(logit(v) + logit(b)) * c));
    vals.forEach((v, i) => {
      assert.ok(Math.abs(y[i]! - expect(v, 0.5, 1)) < 1e-5);
      assert.ok(Math.abs(y[5 + i]! - expect(v, 0.6, 1.25)) < 1e-5);
    });
    x.dispose();
  });
});

describe('matrices', () => {
  it('warp moves the corners as fastai specifies; zero warp and full crop are the identity', () => {
    const close = (a: readonly number[], b: readonly number[]) => {
      for (const [i, v] of a.entries()) assert.ok(Math.abs(v - b[i]!) < 1e-9, `${a} vs ${b}`);
    };
    close(warpMat(0, 0), IDENTITY);
    close(cropMat({ left: 0, top: 0, width: 30, height: 20 }, 30, 20), IDENTITY);
    const xt = 0.1;
    const yt = -0.2;
    const h = warpMat(xt, yt);
    // H maps the moved corners back to the original ones.
    close(applyMat(h, -1 - yt, -1 - xt), [-1, -1]);
    close(applyMat(h, 1 - yt, 1 - xt), [1, 1]);
    close(applyMat(h, -1 + yt, 1 + xt), [-1, 1]);
    close(zoomMat(2, 0.5, 0.5), [0.5, 0, 0, 0, 0.5, 0, 0, 0, 1]);
    close(matMul3(zoomMat(2, 1, 0), zoomMat(0.5, 1, 0)), IDENTITY);
  });

  it("rotateMat is fastai's rotate_mat: affine_mat(cos, sin, 0, -sin, cos, 0)", () => {
    const close = (a: readonly number[], b: readonly number[]) => {
      for (const [i, v] of a.entries()) assert.ok(Math.abs(v - b[i]!) < 1e-12, `${a} vs ${b}`);
    };
    // theta = 90 degrees: [[0, 1, 0], [-1, 0, 0], [0, 0, 1]].
    close(rotateMat(90), [0, 1, 0, -1, 0, 0, 0, 0, 1]);
    const t = Math.PI / 6;
    close(rotateMat(30), [Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t), 0, 0, 0, 1]);
    // The output's right edge (1, 0) samples the input's top edge (0, -1) at +90 degrees.
    close(applyMat(rotateMat(90), 1, 0), [0, -1]);
  });
});
