import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../core/errors.js';
import type { JsonObject, NormalizeStats } from './batch.js';
import { registerTransform } from './registry.js';
import type { BatchTransform } from './transforms.js';

/**
 * fastai's `Normalize` batch transform: `(x - mean) / std` per channel (last axis), in
 * training and validation alike. `decode` undoes it (for showing batches).
 *
 * @example
 * ```ts
 * const norm = tsf.Normalize.fromStats(tsf.imagenetStats);
 * const y = norm.apply(x); // x: [N, H, W, 3] in [0, 1]
 * ```
 */
export class Normalize implements BatchTransform {
  /** Registry name. */
  readonly name = 'Normalize';
  /** Runs after augmentation, as in fastai. */
  readonly order = 99;
  /** The statistics. */
  readonly stats: NormalizeStats;
  /**
   * Declares that a fused CPU pass may run it as its last stage, a per-channel affine map
   * (vision's `CpuExecutableTransform`).
   * @internal
   */
  readonly cpuStep: {
    readonly stage: 'normalize';
    readonly mean: readonly number[];
    readonly std: readonly number[];
  };

  /**
   * @param stats - Per-channel mean and standard deviation (all std > 0, equal lengths).
   * @throws {@link ValueError} on mismatched lengths or a non-positive std.
   */
  constructor(stats: NormalizeStats) {
    if (stats.mean.length !== stats.std.length || stats.mean.length === 0) {
      throw invalidValue('stats', 'mean and std of the same non-zero length', stats);
    }
    if (!stats.std.every((s) => s > 0)) throw invalidValue('stats.std', 'all > 0', stats.std);
    this.stats = { mean: [...stats.mean], std: [...stats.std] };
    this.cpuStep = { stage: 'normalize', mean: this.stats.mean, std: this.stats.std };
  }

  /**
   * Builds the transform from statistics such as {@link imagenetStats}.
   * @param stats - Per-channel mean and std.
   * @returns The transform.
   * @example
   * ```ts
   * const norm = tsf.Normalize.fromStats(tsf.imagenetStats);
   * ```
   */
  static fromStats(stats: NormalizeStats): Normalize {
    return new Normalize(stats);
  }

  /**
   * Normalises `xs` over its last axis.
   * @param xs - Inputs whose last axis has one entry per statistic.
   * @returns `(xs - mean) / std` (a new tensor).
   * @example
   * ```ts
   * const norm = tsf.Normalize.fromStats(tsf.imagenetStats);
   * const y = norm.apply(x); // x: [N, H, W, 3] in [0, 1]
   * ```
   */
  apply(xs: tf.Tensor): tf.Tensor {
    const c = xs.shape[xs.shape.length - 1];
    if (c !== this.stats.mean.length) {
      throw invalidValue('Normalize input channels', `${this.stats.mean.length}`, c);
    }
    return tf.tidy(() => {
      const scale = tf.tensor1d(this.stats.std.map((s) => 1 / s));
      const shift = tf.tensor1d(this.stats.mean.map((m, i) => -m / this.stats.std[i]!));
      return xs.mul(scale).add(shift);
    });
  }

  /**
   * Undoes the normalisation: `x * std + mean`.
   * @param xs - Normalised inputs.
   * @returns The inputs in their original range (a new tensor).
   * @example
   * ```ts
   * const norm = tsf.Normalize.fromStats(tsf.imagenetStats);
   * const pixels = norm.decode(norm.apply(x)); // x again
   * ```
   */
  decode(xs: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      xs.mul(tf.tensor1d([...this.stats.std])).add(tf.tensor1d([...this.stats.mean])),
    );
  }

  /**
   * @returns `{ name: 'Normalize', mean, std }`.
   * @example
   * ```ts
   * const norm = tsf.Normalize.fromStats(tsf.imagenetStats);
   * norm.toConfig(); // { name: 'Normalize', mean: [0.485, 0.456, 0.406], std: [...] }
   * ```
   */
  toConfig(): JsonObject {
    return { name: 'Normalize', mean: [...this.stats.mean], std: [...this.stats.std] };
  }
}

registerTransform(
  'Normalize',
  (cfg) => new Normalize({ mean: cfg.mean as number[], std: cfg.std as number[] }),
);
