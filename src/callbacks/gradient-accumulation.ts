/**
 * GradientAccumulation: step once every `nAcc` samples.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { CancelBatch } from '../learner/cancel.js';
import type { Callback, EventContext } from '../learner/events.js';

/**
 * Options of {@link GradientAccumulation}.
 * @example
 * ```ts
 * // batches of 16, one step per 64 samples
 * await learn.fit(1, 1e-3, { cbs: [new tsf.GradientAccumulation({ nAcc: 64 })] });
 * ```
 */
export interface GradientAccumulationOptions {
  /**
   * Samples to accumulate before each optimizer step.
   * @defaultValue 32
   */
  nAcc?: number;
}

/**
 * Accumulates gradients (each scaled by `batchSize / nAcc`) and steps once `nAcc` samples
 * have been seen, so small batches behave like a batch of `nAcc` (fastai's
 * `GradientAccumulation`).
 * @example
 * ```ts
 * await learn.fit(1, 1e-3, { cbs: [new tsf.GradientAccumulation({ nAcc: 64 })] });
 * ```
 */
export class GradientAccumulation implements Callback {
  /** Name. */
  readonly name = 'gradientAccumulation';
  /** Before GradientClip. */
  readonly order = 6;
  /** Training only. */
  readonly runOn = 'train';
  /** Samples per step. */
  readonly nAcc: number;
  private count = 0;
  private acc: Map<tf.Variable, tf.Tensor> | undefined;

  /** @param options - See {@link GradientAccumulationOptions}. */
  constructor(options: GradientAccumulationOptions = {}) {
    checkOptionKeys('GradientAccumulation', options, ['nAcc']);
    this.nAcc = options.nAcc ?? 32;
    if (!(this.nAcc > 0)) throw invalidValue('nAcc', 'a positive number', options.nAcc);
  }

  /** Resets the count. */
  beforeFit(): void {
    this.count = 0;
    this.dropAcc();
  }

  /** Adds this batch's scaled gradients to the accumulator. */
  afterBackward({ learn }: EventContext): void {
    const grads = learn.grads;
    if (grads === undefined) return;
    const scale = (learn.yb.shape[0] ?? 1) / this.nAcc;
    const next = new Map<tf.Variable, tf.Tensor>();
    for (const [v, g] of grads) {
      const prev = this.acc?.get(v);
      next.set(
        v,
        tf.tidy(() => (prev ? prev.add(g.mul(scale)) : g.mul(scale))),
      );
    }
    this.dropAcc();
    this.acc = next;
  }

  /** Skips the step until `nAcc` samples are accumulated, then steps on the sum. */
  beforeStep({ learn }: EventContext): void {
    this.count += learn.yb.shape[0] ?? 1;
    if (this.count < this.nAcc) throw new CancelBatch('accumulating gradients');
    this.count = 0;
    if (this.acc !== undefined) learn.replaceGrads(this.acc);
    this.acc = undefined;
  }

  /** Frees a partial accumulation. */
  afterFit(): void {
    this.dropAcc();
  }

  private dropAcc(): void {
    if (this.acc !== undefined) tf.dispose([...this.acc.values()]);
    this.acc = undefined;
  }
}
