/**
 * fastai's `DiceLoss`: one minus the soft Dice score of the softmax probabilities against the
 * one-hot targets, per image and class.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import type { JsonObject } from '../data/batch.js';
import { type Loss, type Reduction, registerLoss } from './losses.js';

/** Options of {@link DiceLoss}. */
export interface DiceLossOptions {
  /**
   * Added to numerator and denominator.
   * @defaultValue 1e-6
   */
  smooth?: number;
  /**
   * How the `[N, C]` losses reduce to the training loss.
   * @defaultValue 'sum'
   */
  reduction?: 'sum' | 'mean';
  /**
   * Square the probabilities in the union.
   * @defaultValue false
   */
  squareInUnion?: boolean;
}

/**
 * fastai's `DiceLoss`: with `p` the softmax over the class axis (last, NHWC) and `t` the one-hot
 * targets, per image and class `1 - (2 sum(p t) + smooth) / (sum(p + t) + smooth)` (sums over
 * the pixels; `sum(p^2 + t)` with `squareInUnion`), then summed (or averaged) over images and
 * classes. Activation softmax, decodes argmax.
 * @remarks Per-item values (`reduction 'none'`, used by `getPreds({ withLoss })`) sum over the
 *   classes of each image.
 * @example
 * ```ts
 * const learn = await tsf.unetLearner(dls, tsf.resnet34, { lossFunc: new tsf.DiceLoss() });
 * ```
 */
export class DiceLoss implements Loss {
  /** Registry name. */
  static readonly className = 'DiceLoss';
  /** Registry name. */
  readonly name = 'DiceLoss';
  private readonly smooth: number;
  private readonly reduction: 'sum' | 'mean';
  private readonly squareInUnion: boolean;

  /**
   * @param options - Smoothing, reduction, squared union.
   * @throws {@link ValueError} for an unknown option or a bad value.
   */
  constructor(options: DiceLossOptions = {}) {
    checkOptionKeys('DiceLoss', options, ['smooth', 'reduction', 'squareInUnion']);
    this.smooth = options.smooth ?? 1e-6;
    this.reduction = options.reduction ?? 'sum';
    this.squareInUnion = options.squareInUnion ?? false;
    if (!(this.smooth >= 0)) throw invalidValue('smooth', 'a number >= 0', this.smooth);
    if (!['sum', 'mean'].includes(this.reduction)) {
      throw invalidValue('reduction', "'sum' or 'mean'", this.reduction);
    }
  }

  /**
   * The loss.
   * @param pred - Logits `[N, ..., C]`.
   * @param targ - Class indices `[N, ...]`.
   * @param reduction - `'mean'`: this loss's own reduction; `'none'`: one value per image.
   * @returns A new tensor the caller disposes.
   */
  compute(pred: tf.Tensor, targ: tf.Tensor, reduction: Reduction = 'mean'): tf.Tensor {
    return tf.tidy(() => {
      const n = pred.shape[0] as number;
      const c = pred.shape[pred.rank - 1] as number;
      const p = tf.softmax(pred.reshape([n, -1, c]));
      const t = tf.oneHot(targ.toInt().reshape([n, -1]), c).toFloat();
      const inter = p.mul(t).sum(1);
      const union = (this.squareInUnion ? p.square() : p).add(t).sum(1);
      const loss = tf.scalar(1).sub(inter.mul(2).add(this.smooth).div(union.add(this.smooth)));
      if (reduction === 'none') return loss.sum(1);
      return this.reduction === 'sum' ? loss.sum() : loss.mean();
    });
  }

  /**
   * Softmax over the last axis.
   * @param pred - Logits.
   * @returns Probabilities.
   */
  activation(pred: tf.Tensor): tf.Tensor {
    return tf.softmax(pred);
  }

  /**
   * Argmax over the last axis.
   * @param act - Probabilities.
   * @returns int32 class indices.
   */
  decodes(act: tf.Tensor): tf.Tensor {
    return act.argMax(-1);
  }

  /** @returns The options. */
  getConfig(): JsonObject {
    return { smooth: this.smooth, reduction: this.reduction, squareInUnion: this.squareInUnion };
  }
}

registerLoss('DiceLoss', DiceLoss);
