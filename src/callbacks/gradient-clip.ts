/**
 * GradientClip: clip the global gradient norm.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import type { Callback, EventContext } from '../learner/events.js';

/**
 * Options of {@link GradientClip}.
 * @example
 * ```ts
 * await learn.fit(1, 1e-3, { cbs: [new tsf.GradientClip({ maxNorm: 1 })] });
 * ```
 */
export interface GradientClipOptions {
  /**
   * Maximum global L2 norm.
   * @defaultValue 1
   */
  maxNorm?: number;
}

/**
 * Scales the gradients so their global L2 norm is at most `maxNorm` before each step, like
 * PyTorch's `clip_grad_norm_` (scale `maxNorm / (norm + 1e-6)` when below 1).
 * @example
 * ```ts
 * await learn.fit(1, 1e-2, { cbs: [new tsf.GradientClip({ maxNorm: 0.5 })] });
 * ```
 */
export class GradientClip implements Callback {
  /** Name. */
  readonly name = 'gradientClip';
  /** After GradientAccumulation. */
  readonly order = 10;
  /** Training only. */
  readonly runOn = 'train';
  /** Maximum norm. */
  readonly maxNorm: number;

  /** @param options - See {@link GradientClipOptions}. */
  constructor(options: GradientClipOptions = {}) {
    checkOptionKeys('GradientClip', options, ['maxNorm']);
    this.maxNorm = options.maxNorm ?? 1;
    if (!(this.maxNorm > 0)) throw invalidValue('maxNorm', 'a positive number', options.maxNorm);
  }

  /** Clips the gradients. */
  beforeStep({ learn }: EventContext): void {
    const grads = learn.grads;
    if (grads === undefined || grads.size === 0) return;
    const scale = tf.tidy(() => {
      const total = tf.addN([...grads.values()].map((g) => g.square().sum())).sqrt();
      return tf.minimum(tf.scalar(this.maxNorm).div(total.add(1e-6)), 1);
    });
    const clipped = new Map<tf.Variable, tf.Tensor>();
    for (const [v, g] of grads) clipped.set(v, g.mul(scale));
    scale.dispose();
    learn.replaceGrads(clipped);
  }
}
