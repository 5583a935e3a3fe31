/**
 * fastai's `Brightness` and `Contrast` as separate batch transforms (what `augTransforms`
 * joins in one `LightingAugment`), each drawn per image with its own probability.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import type { JsonObject } from '../../data/batch.js';
import { registerTransform } from '../../data/registry.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import { lighting } from './lighting.js';

/** Options of {@link Brightness} and {@link Contrast}. */
export interface LightingTfmOptions {
  /**
   * Largest change: brightness in `0.5 (1 +- maxLighting)`, contrast in
   * `[1 - maxLighting, 1 / (1 - maxLighting)]` (log-uniform).
   * @defaultValue `0.2`
   */
  maxLighting?: number;
  /**
   * Probability that an image is changed.
   * @defaultValue `0.75`
   */
  p?: number;
}

function resolve(caller: string, options: LightingTfmOptions): { max: number; p: number } {
  checkOptionKeys(caller, options, ['maxLighting', 'p']);
  const max = options.maxLighting ?? 0.2;
  const p = options.p ?? 0.75;
  if (!(max >= 0 && max < 1)) throw invalidValue('maxLighting', 'in [0, 1)', max);
  if (!(p >= 0 && p <= 1)) throw invalidValue('p', 'a probability in [0, 1]', p);
  return { max, p };
}

/** The shared shape of the two: one draw per image, applied in logit space. */
abstract class LightingTfm implements BatchTransform {
  /** Registry name. */
  abstract readonly name: string;
  /** fastai's `LightingTfm` order, after the affine transforms. */
  readonly order = 40;
  /** Changes pixel values only: keypoints ignore it. */
  readonly pixelOnly = true;
  /** Largest change. */
  readonly maxLighting: number;
  /** Probability that an image is changed. */
  readonly p: number;

  constructor(caller: string, options: LightingTfmOptions) {
    const { max, p } = resolve(caller, options);
    this.maxLighting = max;
    this.p = p;
  }

  /**
   * One image's draw.
   * @param ctx - The batch generator.
   * @returns The value.
   */
  protected abstract draw(ctx: BatchTransformContext): number;
  /** The value that leaves an image unchanged. */
  protected abstract readonly neutral: number;
  /**
   * Applies the draws.
   * @param xs - Images in [0, 1].
   * @param draws - One value per image.
   * @returns A new tensor.
   */
  protected abstract applyDraws(xs: tf.Tensor4D, draws: number[]): tf.Tensor;

  /**
   * Draws one value per image (the neutral one with probability `1 - p`).
   * @param n - Batch size.
   * @param ctx - Training flag and the batch generator.
   * @returns The draws, or `undefined` in validation.
   */
  plan(n: number, ctx: BatchTransformContext): number[] | undefined {
    if (!ctx.training) return undefined;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(ctx.rng.bernoulli(this.p) ? this.draw(ctx) : this.neutral);
    return out;
  }

  /**
   * Applies this batch's draws.
   * @param xs - Images `[N, H, W, C]` in [0, 1].
   * @param ctx - Training flag and the batch generator.
   * @returns A new tensor.
   */
  apply(xs: tf.Tensor, ctx: BatchTransformContext): tf.Tensor {
    const draws = this.plan(xs.shape[0]!, ctx);
    return draws ? this.applyDraws(xs as tf.Tensor4D, draws) : xs.clone();
  }

  /** @returns The options as JSON. */
  toConfig(): JsonObject {
    return { name: this.name, maxLighting: this.maxLighting, p: this.p };
  }
}

/**
 * fastai's `Brightness`: in training, with probability `p`, each image's brightness is drawn
 * uniformly in `0.5 (1 +- maxLighting)` and applied in logit space
 * (`sigmoid(logit(x) + logit(b))`); 0.5 leaves the image unchanged.
 * @example
 * ```ts
 * const batchTfms = [new tsf.Brightness({ maxLighting: 0.3, p: 1 })];
 * ```
 */
export class Brightness extends LightingTfm {
  /** Registry name. */
  readonly name = 'Brightness';
  /** Brightness 0.5 leaves an image unchanged. */
  protected readonly neutral = 0.5;

  /**
   * @param options - Largest change and probability.
   * @throws {@link ValueError} on an unknown option or a bad value.
   */
  constructor(options: LightingTfmOptions = {}) {
    super('Brightness', options);
  }

  /**
   * Uniform in `0.5 (1 +- maxLighting)`.
   * @param ctx - The batch generator.
   * @returns The brightness.
   */
  protected draw(ctx: BatchTransformContext): number {
    return ctx.rng.uniform(0.5 * (1 - this.maxLighting), 0.5 * (1 + this.maxLighting));
  }

  /**
   * Brightness in logit space.
   * @param xs - Images in [0, 1].
   * @param draws - One brightness per image.
   * @returns A new tensor.
   */
  protected applyDraws(xs: tf.Tensor4D, draws: number[]): tf.Tensor {
    return lighting(xs, draws, Array(draws.length).fill(1));
  }
}

/**
 * fastai's `Contrast`: in training, with probability `p`, each image's contrast is drawn
 * log-uniformly in `[1 - maxLighting, 1 / (1 - maxLighting)]` and applied in logit space
 * (`sigmoid(logit(x) * c)`); 1 leaves the image unchanged.
 * @example
 * ```ts
 * const batchTfms = [new tsf.Contrast({ maxLighting: 0.4 })];
 * ```
 */
export class Contrast extends LightingTfm {
  /** Registry name. */
  readonly name = 'Contrast';
  /** Contrast 1 leaves an image unchanged. */
  protected readonly neutral = 1;

  /**
   * @param options - Largest change and probability.
   * @throws {@link ValueError} on an unknown option or a bad value.
   */
  constructor(options: LightingTfmOptions = {}) {
    super('Contrast', options);
  }

  /**
   * Log-uniform in `[1 - maxLighting, 1 / (1 - maxLighting)]`.
   * @param ctx - The batch generator.
   * @returns The contrast.
   */
  protected draw(ctx: BatchTransformContext): number {
    const l = Math.log(1 - this.maxLighting);
    return Math.exp(ctx.rng.uniform(l, -l));
  }

  /**
   * Contrast in logit space.
   * @param xs - Images in [0, 1].
   * @param draws - One contrast per image.
   * @returns A new tensor.
   */
  protected applyDraws(xs: tf.Tensor4D, draws: number[]): tf.Tensor {
    return lighting(xs, Array(draws.length).fill(0.5), draws);
  }
}

registerTransform(
  'Brightness',
  (cfg) => new Brightness({ maxLighting: cfg.maxLighting as number, p: cfg.p as number }),
);
registerTransform(
  'Contrast',
  (cfg) => new Contrast({ maxLighting: cfg.maxLighting as number, p: cfg.p as number }),
);
