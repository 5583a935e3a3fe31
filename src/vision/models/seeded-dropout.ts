/**
 * Dropout whose masks follow tsfast's seeded randomness. tfjs's `Dropout` layer with a `seed`
 * re-seeds on every call, so it draws the same mask for every batch; without one it uses
 * `Math.random`, which no seed controls. This layer keeps a generator and draws a fresh seed
 * per training call.
 */
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../../core/errors.js';
import { RandomGenerator } from '../../core/random.js';

/** Options of {@link SeededDropout}. */
export interface SeededDropoutArgs {
  /** Fraction of units to drop, in [0, 1). */
  rate: number;
  /** Seed of the layer's mask stream. */
  seed: number;
  /** Layer name. Defaults to a unique name from tfjs. */
  name?: string;
}

/**
 * A dropout layer (inverted dropout, active only when called with `training: true`) with a
 * seeded, per-call fresh mask. Serialised as `tsfast>SeededDropout`.
 *
 * @example
 * ```ts
 * const drop = new tsf.SeededDropout({ rate: 0.5, seed: 42 });
 * const y = drop.apply(x, { training: true }) as tf.Tensor;
 * ```
 */
export class SeededDropout extends tf.layers.Layer {
  /** Registered class name. */
  static readonly className = 'SeededDropout';
  /** Fraction of units dropped. */
  readonly rate: number;
  /** Seed the mask stream started from. */
  readonly seed: number;
  private readonly rng: RandomGenerator;

  /**
   * @param args - Rate, seed and optional name.
   * @throws {@link ValueError} if `rate` is outside [0, 1).
   */
  constructor(args: SeededDropoutArgs) {
    super(args.name === undefined ? {} : { name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) {
      throw invalidValue('rate', 'a number in [0, 1)', args.rate);
    }
    this.rate = args.rate;
    this.seed = args.seed;
    this.rng = new RandomGenerator(args.seed);
    this.supportsMasking = true;
  }

  /**
   * Drops units when `kwargs.training` is true, otherwise returns the input.
   * @param inputs - One tensor.
   * @param kwargs - `{ training }`.
   * @returns The output tensor.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
    const seed = this.rng.tensorSeed();
    return tf.dropout(x, this.rate, undefined, seed);
  }

  /**
   * The layer's config (`rate`, `seed` plus the base layer's keys).
   * @returns A JSON-able config.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

tf.serialization.registerClass(SeededDropout, 'tsfast');
