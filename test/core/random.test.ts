import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalRandom, RandomGenerator, randomFor, setSeed } from '../../src/core/random.js';

function draws(rng: RandomGenerator, n: number): number[] {
  return Array.from({ length: n }, () => rng.random());
}

describe('RandomGenerator', () => {
  it('gives identical streams for one seed and different streams for another', () => {
    assert.deepEqual(draws(new RandomGenerator(42), 100), draws(new RandomGenerator(42), 100));
    assert.notDeepEqual(draws(new RandomGenerator(42), 100), draws(new RandomGenerator(43), 100));
  });

  it('setSeed makes the global stream, forks and permutations repeatable', () => {
    setSeed(7);
    const a = [globalRandom().random(), ...globalRandom().permutation(10), randomFor().random()];
    setSeed(7);
    const b = [globalRandom().random(), ...globalRandom().permutation(10), randomFor().random()];
    assert.deepEqual(a, b);
    setSeed(8);
    assert.notDeepEqual(a, [
      globalRandom().random(),
      ...globalRandom().permutation(10),
      randomFor().random(),
    ]);
  });

  it('an explicit seed ignores the global stream', () => {
    setSeed(1);
    const a = randomFor(5).permutation(20);
    setSeed(2);
    assert.deepEqual(randomFor(5).permutation(20), a);
  });

  it('permutation contains every index once', () => {
    const p = new RandomGenerator(3).permutation(1000);
    assert.deepEqual(
      [...p].sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.notDeepEqual(
      p,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it('uniform, randInt and normal have the right ranges and moments', () => {
    const rng = new RandomGenerator(11);
    const n = 20000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform(-2, 3);
      assert.ok(u >= -2 && u < 3);
      const k = rng.randInt(4, 9);
      assert.ok(Number.isInteger(k) && k >= 4 && k < 9);
      const z = rng.normal(1, 2);
      sum += z;
      sumSq += z * z;
    }
    const mean = sum / n;
    const std = Math.sqrt(sumSq / n - mean * mean);
    assert.ok(Math.abs(mean - 1) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(std - 2) < 0.05, `std ${std}`);
  });

  it('tensorSeed is a 31-bit integer and shuffle leaves its input alone', () => {
    const rng = new RandomGenerator(9);
    const s = rng.tensorSeed();
    assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 31);
    const items = ['a', 'b', 'c', 'd', 'e'];
    const shuffled = rng.shuffle(items);
    assert.deepEqual(items, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual([...shuffled].sort(), items);
  });

  it('rejects a non-finite seed, naming it', () => {
    assert.throws(() => new RandomGenerator(Number.NaN), /`seed` must be a finite number/);
  });
});

describe('RandomGenerator.clone', () => {
  it('continues the same stream from the same point, independently', () => {
    const rng = new RandomGenerator(11);
    rng.random();
    rng.normal(); // leaves a spare normal draw, which the copy must share
    const copy = rng.clone();
    const a = [rng.normal(), rng.random(), rng.uniform(2, 3), rng.randInt(0, 100)];
    const b = [copy.normal(), copy.random(), copy.uniform(2, 3), copy.randInt(0, 100)];
    assert.deepEqual(b, a);
    // The original stream is unchanged by cloning: same numbers as a fresh generator.
    const fresh = new RandomGenerator(11);
    fresh.random();
    fresh.normal();
    fresh.normal();
    assert.equal(fresh.random(), a[1]);
  });
});
