/**
 * BnFreeze: BatchNorm layers of frozen groups run in inference mode.
 */

import type * as tf from '@tensorflow/tfjs';
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { flattenLayers, isBatchNorm } from '../learner/param-groups.js';

/**
 * Puts the BatchNorm layers whose weights are not being trained (frozen groups, with
 * `trainBn: false`) in inference mode during training: moving statistics are used and not
 * updated (fastai's `BnFreeze`).
 *
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { trainBn: false, cbs: [new tsf.BnFreeze()] });
 * ```
 */
export class BnFreeze implements Callback {
  /** Name. */
  readonly name = 'bnFreeze';
  private layers: tf.layers.Layer[] = [];

  /** Forces the frozen BatchNorm layers into inference mode. */
  beforeTrain({ learn }: EventContext): void {
    this.layers = frozenBnLayers(learn);
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
