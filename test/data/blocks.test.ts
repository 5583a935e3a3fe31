import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../../src/core/errors.js';
import { RandomGenerator } from '../../src/core/random.js';
import {
  CategoryBlock,
  MultiCategoryBlock,
  RegressionBlock,
  resolveBlock,
} from '../../src/data/blocks.js';
import { Normalize } from '../../src/data/normalize.js';

const ctx = { training: false, rng: new RandomGenerator(0), itemTfms: [] };

describe('blocks', () => {
  it('CategoryBlock sorts the training labels and names an unseen label', () => {
    const b = resolveBlock(CategoryBlock).setup(['dog', 'cat', 'dog', 'bird']);
    assert.deepEqual(b.vocab, ['bird', 'cat', 'dog']);
    assert.equal(b.c, 3);
    assert.equal(b.encode('dog', 'x.jpg', ctx), 2);
    assert.throws(
      () => b.encode('cow', '/v/cow_1.jpg', ctx),
      (e: unknown) =>
        e instanceof DataError && /label "cow" of item "\/v\/cow_1.jpg"/.test(e.message),
    );
    const ys = b.collate([2, 0], []);
    assert.equal(ys.dtype, 'int32');
    assert.deepEqual(b.describe(ys), ['dog', 'bird']);
    ys.dispose();
    assert.deepEqual(CategoryBlock({ vocab: ['z', 'a'] }).setup([]).vocab, ['z', 'a']);
  });

  it('MultiCategoryBlock one-hot encodes label lists', () => {
    const b = MultiCategoryBlock().setup([['b', 'a'], 'c a']);
    assert.deepEqual(b.vocab, ['a', 'b', 'c']);
    const ys = b.collate([b.encode(['c'], 0, ctx), b.encode('a b', 1, ctx)], []);
    assert.equal(ys.dtype, 'float32');
    assert.deepEqual(ys.arraySync(), [
      [0, 0, 1],
      [1, 1, 0],
    ]);
    assert.deepEqual(b.describe(ys), ['c', 'a;b']);
    ys.dispose();
  });

  it('RegressionBlock stacks numbers and lists', () => {
    const one = RegressionBlock().setup([1.5]);
    const ys = one.collate([one.encode(1.5, 0, ctx), one.encode('2', 1, ctx)], []);
    assert.deepEqual(ys.shape, [2]);
    assert.deepEqual(Array.from(ys.dataSync()), [1.5, 2]);
    const two = RegressionBlock().setup([[1, 2]]);
    assert.equal(two.c, 2);
    const ys2 = two.collate([two.encode([1, 2], 0, ctx)], []);
    assert.deepEqual(ys2.shape, [1, 2]);
    assert.throws(() => two.encode([1], 'row', ctx), /expected 2 finite number/);
    tf.dispose([ys, ys2]);
  });

  it('Normalize matches (x - mean) / std and decodes back', () => {
    const norm = Normalize.fromStats({ mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
    const x = tf.tensor4d([0, 0.5, 1, 1, 0.25, 0.5], [1, 1, 2, 3]);
    const y = norm.apply(x);
    const expected = [-1, 1, 0.5, 1, 0, 0.25];
    for (const [i, v] of y.dataSync().entries()) assert.ok(Math.abs(v - expected[i]!) < 1e-6);
    const back = norm.decode(y);
    for (const [i, v] of back.dataSync().entries())
      assert.ok(Math.abs(v - x.dataSync()[i]!) < 1e-6);
    assert.throws(() => Normalize.fromStats({ mean: [0], std: [0] }), /std/);
    tf.dispose([x, y, back]);
  });
});
