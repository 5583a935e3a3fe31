/**
 * One seeded source of randomness for the whole library. Splitters, shuffling, augmentation
 * and weight initialisation all draw from {@link globalRandom} (or from a generator forked
 * from it), so `setSeed(n)` makes a whole run repeatable.
 */
import { randomInt } from 'node:crypto';
import seedrandom from 'seedrandom';
import { invalidValue } from './errors.js';

/**
 * A seeded pseudo-random generator (seedrandom's Alea: fast, 32-bit state, well tested).
 *
 * @example
 * ```ts
 * const rng = new tsf.RandomGenerator(42);
 * rng.random();          // same number every run
 * rng.permutation(5);    // e.g. [3, 0, 4, 1, 2]
 * ```
 */
export class RandomGenerator {
  /** The seed this generator started from. */
  readonly seed: number;
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private spareNormal: number | undefined;

  /** @param seed - Any finite number; equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw invalidValue('seed', 'a finite number', seed);
    this.seed = seed;
    this.prng = seedrandom.alea(String(seed), { state: true });
  }

  /**
   * A copy at the same point of the stream: both then draw the same numbers. A target that
   * must follow the input's random geometry (keypoints) replays the draws on a copy.
   * @returns The copy.
   * @example
   * ```ts
   * const copy = rng.clone();
   * copy.random() === rng.random(); // true
   * ```
   */
  clone(): RandomGenerator {
    const copy = new RandomGenerator(this.seed);
    copy.prng = seedrandom.alea('', { state: this.prng.state() });
    copy.spareNormal = this.spareNormal;
    return copy;
  }

  /**
   * A uniform draw in [0, 1).
   * @returns The next number of the stream.
   * @example
   * ```ts
   * new tsf.RandomGenerator(1).random(); // 0 <= x < 1
   * ```
   */
  random(): number {
    return this.prng();
  }

  /**
   * A uniform draw in [low, high).
   * @param low - Inclusive lower bound.
   * @param high - Exclusive upper bound.
   * @returns The draw.
   * @example
   * ```ts
   * rng.uniform(-10, 10); // a rotation angle in degrees
   * ```
   */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.prng();
  }

  /**
   * A uniform integer in [low, high).
   * @param low - Inclusive lower bound.
   * @param high - Exclusive upper bound.
   * @returns The integer.
   * @example
   * ```ts
   * rng.randInt(0, 6); // a die roll minus one
   * ```
   */
  randInt(low: number, high: number): number {
    return low + Math.floor((high - low) * this.prng());
  }

  /**
   * A draw from a normal distribution (Box-Muller, using both values of each pair).
   * @param mean - Mean. Defaults to 0.
   * @param std - Standard deviation. Defaults to 1.
   * @returns The draw.
   * @example
   * ```ts
   * rng.normal(0, 0.01);
   * ```
   */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /**
   * True with probability `p`.
   * @param p - Probability of `true`, in [0, 1].
   * @returns The draw.
   * @example
   * ```ts
   * const flip = rng.bernoulli(0.5); // true half the time
   * ```
   */
  bernoulli(p: number): boolean {
    return this.prng() < p;
  }

  /**
   * A random permutation of `0 .. n-1` (Fisher-Yates).
   * @param n - Length of the permutation.
   * @returns A new array.
   * @example
   * ```ts
   * rng.permutation(4); // e.g. [2, 0, 3, 1]
   * ```
   */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    return this.shuffleInPlace(out);
  }

  /**
   * A shuffled copy of `items`; the input is not modified.
   * @param items - Items to shuffle.
   * @returns A new array with the same items in random order.
   * @example
   * ```ts
   * rng.shuffle(['a', 'b', 'c']);
   * ```
   */
  shuffle<T>(items: readonly T[]): T[] {
    return this.shuffleInPlace([...items]);
  }

  /**
   * A 31-bit integer to seed a tfjs op or initializer (`tf.randomUniform(..., seed)`,
   * `tf.initializers.heNormal({ seed })`), so tensor randomness follows this stream too.
   * @returns An integer in [0, 2^31).
   * @example
   * ```ts
   * tf.randomNormal([3, 3], 0, 1, 'float32', tsf.globalRandom().tensorSeed());
   * ```
   */
  tensorSeed(): number {
    return Math.floor(this.prng() * 2147483648);
  }

  /**
   * A new generator seeded from this one: a component (a DataLoader, an augmentation) gets
   * its own stream, so how often another component draws does not change it.
   * @returns A generator whose seed is the next draw of this one.
   * @example
   * ```ts
   * const augRng = tsf.globalRandom().fork();
   * ```
   */
  fork(): RandomGenerator {
    return new RandomGenerator(this.tensorSeed());
  }

  private shuffleInPlace<T>(out: T[]): T[] {
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}

let current = new RandomGenerator(randomInt(2147483647));

/**
 * Reseeds the library-wide generator, making splits, shuffles, augmentation and weight
 * initialisation repeatable from this point on.
 *
 * @param seed - Any finite number.
 * @throws {@link ValueError} if `seed` is not a finite number.
 * @example
 * ```ts
 * tsf.setSeed(42);
 * const a = tsf.globalRandom().random();
 * tsf.setSeed(42);
 * a === tsf.globalRandom().random(); // true
 * ```
 */
export function setSeed(seed: number): void {
  current = new RandomGenerator(seed);
}

/**
 * The library-wide generator; replaced by every {@link setSeed} call, so fetch it when you
 * draw rather than keeping a reference.
 *
 * @returns The current global generator.
 * @example
 * ```ts
 * const angle = tsf.globalRandom().uniform(-10, 10);
 * ```
 */
export function globalRandom(): RandomGenerator {
  return current;
}

/**
 * The generator a component should use: a fresh one from `seed` when given, otherwise a fork
 * of the global generator (so it still follows {@link setSeed}).
 *
 * @param seed - Optional explicit seed.
 * @returns A generator owned by the caller.
 * @example
 * ```ts
 * const options: { seed?: number } = { seed: 42 };
 * const rng = tsf.randomFor(options.seed);
 * ```
 */
export function randomFor(seed?: number): RandomGenerator {
  return seed === undefined ? current.fork() : new RandomGenerator(seed);
}
