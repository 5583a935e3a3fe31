/**
 * The transform protocols the data pipeline runs: item transforms (per item, inside a block's
 * loading, e.g. a resize in sharp) and batch transforms (on whole batch tensors, e.g.
 * augmentation and `Normalize`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { RandomGenerator } from '../core/random.js';
import type { JsonObject } from './batch.js';

/** What every transform has: a registry name and a declarative description. */
export interface Transform {
  /** Registry name, e.g. `'Resize'`, `'Normalize'`. */
  readonly name: string;
  /** Declarative description (`{ name, ...options }`), for export. */
  toConfig(): JsonObject;
}

/** What a batch transform knows when it runs. */
export interface BatchTransformContext {
  /** True for training batches; random augmentation only runs then. */
  readonly training: boolean;
  /** This batch's own generator (seeded in order, so results are repeatable). */
  readonly rng: RandomGenerator;
}

/**
 * A transform of a whole batch of inputs, run as tensor ops on the backend (on the GPU with
 * tfjs-node-gpu). `apply` is called inside `tf.tidy`, returns a new tensor and leaves the
 * input to the caller.
 */
export interface BatchTransform extends Transform {
  /**
   * Order among batch transforms (lower first): augmentation 30 (affine) and 40 (lighting),
   * `Normalize` 99, as in fastai.
   */
  readonly order: number;
  /**
   * Transforms the model inputs of one batch.
   * @param xs - Inputs, e.g. NHWC float32 images.
   * @param ctx - Training flag and the batch's generator.
   * @returns The transformed inputs (a new tensor).
   */
  apply(xs: tf.Tensor, ctx: BatchTransformContext): tf.Tensor;
}

/**
 * Type guard: is `t` a batch transform?
 * @param t - Any transform.
 * @returns Whether it has `apply` and `order`.
 * @example
 * ```ts
 * tsf.isBatchTransform(tsf.Normalize.fromStats(tsf.imagenetStats)); // true
 * ```
 */
export function isBatchTransform(t: unknown): t is BatchTransform {
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof (t as BatchTransform).apply === 'function' &&
    typeof (t as BatchTransform).order === 'number'
  );
}
