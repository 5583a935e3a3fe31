/**
 * BnFreeze: BatchNorm layers of frozen groups (optionally of the whole pretrained body) run in
 * inference mode.
 */

import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { flattenLayers, isBatchNorm } from '../learner/param-groups.js';

/** Options of {@link BnFreeze}. */
export interface BnFreezeOptions {
  /**
   * Keep the BatchNorm layers of the body (every parameter group but the last, the head) in
   * inference mode after `unfreeze()` too: they normalise with their pretrained moving
   * statistics and do not update them, while their scale and shift still train with the rest
   * of the body (Keras's advice for fine-tuning). With `false` (fastai's `BnFreeze`) they
   * switch to batch statistics once their group trains, which small batches (tsfast's 8-16 at
   * 224 px on the wasm engine) make noisy: on the shared pets set the unfrozen epochs then
   * ended worse than the frozen one.
   * @defaultValue false
   */
  body?: boolean;
}

/**
 * Puts the BatchNorm layers whose weights are not being trained (frozen groups, with
 * `trainBn: false`) in inference mode during training: moving statistics are used and not
 * updated (fastai's `BnFreeze`). With `{ body: true }` the body's BatchNorm layers stay in
 * inference mode after unfreezing as well.
 *
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { trainBn: false, cbs: [new tsf.BnFreeze()] });
 * // Pretrained statistics for the whole fine-tuning (small batches):
 * const cb = new tsf.BnFreeze({ body: true });
 * ```
 */
export class BnFreeze implements Callback {
  /** Name. */
  readonly name = 'bnFreeze';
  /** Whether the body's BatchNorm layers stay in inference mode once unfrozen. */
  readonly body: boolean;
  private layers: tf.layers.Layer[] = [];

  /**
   * @param options - `body`.
   * @throws {@link ValueError} for an unknown option or a `body` that is not a boolean.
   */
  constructor(options: BnFreezeOptions = {}) {
    checkOptionKeys('BnFreeze', options, ['body']);
    const body = options.body ?? false;
    if (typeof body !== 'boolean') throw invalidValue('body', 'a boolean', body);
    this.body = body;
  }

  /** Forces the frozen (or body) BatchNorm layers into inference mode. */
  beforeTrain({ learn }: EventContext): void {
    this.layers = this.body ? bodyBnLayers(learn) : frozenBnLayers(learn);
    learn.setBnEval(this.layers, true);
  }

  /** Restores them. */
  afterTrain({ learn }: EventContext): void {
    learn.setBnEval(this.layers, false);
  }

  /** Restores them (also after a cancelled fit). */
  afterFit({ learn }: EventContext): void {
    learn.setBnEval(this.layers, false);
    this.layers = [];
  }
}

function frozenBnLayers(learn: Learner): tf.layers.Layer[] {
  const training = new Set(learn.trainableVariables.map((v) => v.name));
  return flattenLayers(learn.model).filter(
    (layer) => isBatchNorm(layer) && !layer.trainableWeights.some((w) => training.has(w.name)),
  );
}

function bodyBnLayers(learn: Learner): tf.layers.Layer[] {
  const groups = learn.paramGroups;
  const body = new Set(groups.slice(0, -1).flatMap((g) => g.map((v) => v.name)));
  return flattenLayers(learn.model).filter(
    (layer) =>
      isBatchNorm(layer) &&
      layer.trainableWeights.length > 0 &&
      layer.trainableWeights.every((w) => body.has(w.name)),
  );
}
