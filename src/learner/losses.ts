/**
 * Loss functions with fastai's "flat" behaviour: predictions and targets are flattened so the
 * class axis is last, each loss knows its activation (what `getPreds` returns) and how to
 * decode activations (what `predict` returns).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import { fromRegistry, isRegistered, registerSerializable } from '../core/registry.js';
import type { JsonObject, JsonValue } from '../data/batch.js';

/**
 * How a loss reduces per-item values.
 * @example
 * ```ts
 * const logits = tf.tensor2d([[2, 0, 0], [0, 2, 0]]);
 * const targets = tf.tensor1d([0, 2], 'int32');
 * const reduction: tsf.Reduction = 'none';
 * const perItem = new tsf.CrossEntropyLossFlat().compute(logits, targets, reduction); // [N]
 * ```
 */
export type Reduction = 'mean' | 'none';

/**
 * A loss: value, activation and decoding. Implementations are registered by name so
 * `export`/`loadLearner` can rebuild them from JSON.
 * @example
 * ```ts
 * const logits = tf.tensor2d([[2, 0, 0], [0, 2, 0]]);
 * const targets = tf.tensor1d([0, 2], 'int32');
 * const loss: tsf.Loss = new tsf.CrossEntropyLossFlat();
 * const value = loss.compute(logits, targets); // scalar
 * const probs = loss.activation(logits);
 * ```
 */
export interface Loss {
  /** Registry name, e.g. `CrossEntropyLossFlat`. */
  readonly name: string;
  /**
   * The loss.
   * @param pred - Model output (logits).
   * @param targ - Targets.
   * @param reduction - `mean` (a scalar) or `none` (one value per item).
   * @returns A new tensor the caller disposes.
   */
  compute(pred: tf.Tensor, targ: tf.Tensor, reduction?: Reduction): tf.Tensor;
  /** Turns model outputs into probabilities/values (softmax, sigmoid, identity). */
  activation(pred: tf.Tensor): tf.Tensor;
  /** Turns activations into decoded predictions (argmax, thresholding, identity). */
  decodes(act: tf.Tensor): tf.Tensor;
  /** Options, for export. */
  getConfig(): JsonObject;
}

/**
 * `log(softmax(x))` along the last axis, composed from kernels every backend has
 * (`x - logSumExp(x)`; tfjs-node has no LogSoftmax kernel).
 * @param x - Logits.
 * @returns A new tensor the caller disposes.
 * @example
 * ```ts
 * const logp = tsf.logSoftmax(tf.tensor2d([[1, 2, 3]]));
 * ```
 */
export function logSoftmax(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.sub(x.logSumExp(-1, true)));
}

function flatLogits(pred: tf.Tensor): tf.Tensor2D {
  const c = pred.shape[pred.rank - 1] as number;
  return pred.reshape([-1, c]) as tf.Tensor2D;
}

function reduce(values: tf.Tensor, reduction: Reduction): tf.Tensor {
  return reduction === 'mean' ? values.mean() : values;
}

function nll(logp: tf.Tensor2D, targ: tf.Tensor): tf.Tensor1D {
  const c = logp.shape[1];
  const oh = tf.oneHot(targ.reshape([-1]).toInt(), c);
  return logp.mul(oh).sum(-1).neg() as tf.Tensor1D;
}

/**
 * Options of {@link CrossEntropyLossFlat}.
 * @example
 * ```ts
 * const loss = new tsf.CrossEntropyLossFlat({ labelSmoothing: 0.1 });
 * ```
 */
export interface CrossEntropyLossFlatOptions {
  /**
   * Label smoothing applied inside the loss (0 = none).
   * @defaultValue 0
   */
  labelSmoothing?: number;
  /**
   * The class axis of the predictions (fastai's `axis`). tsfast is channels-last, so a U-Net's
   * `[N, H, W, C]` logits keep it at -1: fastai's `CrossEntropyLossFlat(axis=1)` on NCHW is
   * this loss with the default, the mean over every pixel. Another axis is moved last first.
   * @defaultValue -1
   */
  axis?: number;
}

/** Moves axis `axis` of `x` last (a no-op for the last axis). */
function classAxisLast(x: tf.Tensor, axis: number): tf.Tensor {
  const a = axis < 0 ? x.rank + axis : axis;
  if (a === x.rank - 1) return x;
  const perm = [...Array(x.rank).keys()].filter((k) => k !== a);
  return x.transpose([...perm, a]);
}

/**
 * Cross-entropy on logits with integer targets, flattened (`[N, C]` vs `[N]`, or per pixel
 * `[N, H, W, C]` vs `[N, H, W]`); activation softmax, decodes argmax.
 *
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { lossFunc: new tsf.CrossEntropyLossFlat() });
 * ```
 */
export class CrossEntropyLossFlat implements Loss {
  /** Registry name. */
  static readonly className: string = 'CrossEntropyLossFlat';
  /** Registry name. */
  readonly name: string = 'CrossEntropyLossFlat';
  private readonly eps: number;
  private readonly axis: number;

  /**
   * @param options - Label smoothing and class axis.
   * @throws {@link ValueError} for unknown options.
   */
  constructor(options: CrossEntropyLossFlatOptions = {}) {
    checkOptionKeys('CrossEntropyLossFlat', options, ['labelSmoothing', 'axis']);
    this.eps = options.labelSmoothing ?? 0;
    this.axis = options.axis ?? -1;
    if (!(this.eps >= 0 && this.eps < 1)) {
      throw invalidValue('labelSmoothing', 'a number in [0, 1)', this.eps);
    }
    if (!Number.isInteger(this.axis)) throw invalidValue('axis', 'an integer', this.axis);
  }

  /**
   * Mean (or per-item) cross-entropy.
   * @param pred - Logits `[..., C]`.
   * @param targ - Class indices `[...]`.
   * @param reduction - `mean` or `none`.
   * @returns The loss; the caller disposes it.
   */
  compute(pred: tf.Tensor, targ: tf.Tensor, reduction: Reduction = 'mean'): tf.Tensor {
    return tf.tidy(() => {
      const logp = logSoftmax(flatLogits(classAxisLast(pred, this.axis))) as tf.Tensor2D;
      const n = nll(logp, targ);
      if (this.eps === 0) return reduce(n, reduction);
      const c = logp.shape[1];
      const smooth = logp.sum(-1).neg();
      return reduce(smooth.mul(this.eps / c).add(n.mul(1 - this.eps)), reduction);
    });
  }

  /**
   * Softmax over the last axis.
   * @param pred - Logits.
   * @returns Probabilities.
   */
  activation(pred: tf.Tensor): tf.Tensor {
    if (this.axis === -1 || this.axis === pred.rank - 1) return tf.softmax(pred);
    return tf.tidy(() => {
      const last = classAxisLast(pred, this.axis);
      const a = this.axis < 0 ? pred.rank + this.axis : this.axis;
      const back = [...Array(pred.rank - 1).keys()];
      back.splice(a, 0, pred.rank - 1);
      return tf.softmax(last).transpose(back);
    });
  }

  /**
   * Argmax over the class axis.
   * @param act - Probabilities.
   * @returns int32 class indices.
   */
  decodes(act: tf.Tensor): tf.Tensor {
    return act.argMax(this.axis);
  }

  /** @returns The options. */
  getConfig(): JsonObject {
    return this.axis === -1
      ? { labelSmoothing: this.eps }
      : { labelSmoothing: this.eps, axis: this.axis };
  }
}

/**
 * Options of {@link LabelSmoothingCrossEntropy}.
 * @example
 * ```ts
 * const loss = new tsf.LabelSmoothingCrossEntropy({ eps: 0.1 });
 * ```
 */
export interface LabelSmoothingCrossEntropyOptions {
  /**
   * Smoothing: weight given to the uniform distribution.
   * @defaultValue 0.1
   */
  eps?: number;
}

/**
 * fastai's `LabelSmoothingCrossEntropy`: `eps/C * sum_c(-log p_c) + (1-eps) * nll`.
 *
 * @example
 * ```ts
 * const lossFunc = new tsf.LabelSmoothingCrossEntropy({ eps: 0.1 });
 * ```
 */
export class LabelSmoothingCrossEntropy extends CrossEntropyLossFlat {
  /** Registry name. */
  static override readonly className = 'LabelSmoothingCrossEntropy';
  /** Registry name. */
  override readonly name = 'LabelSmoothingCrossEntropy';

  /**
   * @param options - Smoothing.
   * @throws {@link ValueError} for unknown options or eps outside [0, 1).
   */
  constructor(options: LabelSmoothingCrossEntropyOptions = {}) {
    checkOptionKeys('LabelSmoothingCrossEntropy', options, ['eps']);
    super({ labelSmoothing: options.eps ?? 0.1 });
  }

  /** @returns The options. */
  override getConfig(): JsonObject {
    return { eps: super.getConfig().labelSmoothing as number };
  }
}

/**
 * Options of {@link BCEWithLogitsLossFlat}.
 * @example
 * ```ts
 * const loss = new tsf.BCEWithLogitsLossFlat({ thresh: 0.3 }); // multi-label, decode at 0.3
 * ```
 */
export interface BCEWithLogitsLossFlatOptions {
  /**
   * Threshold used by `decodes`.
   * @defaultValue 0.5
   */
  thresh?: number;
  /**
   * PyTorch's `pos_weight`: the weight of the positive term, one number for every label or
   * one per label (the last axis), e.g. `negatives / positives` for rare labels.
   * @defaultValue `undefined` (1)
   */
  posWeight?: number | readonly number[];
}

/**
 * Binary cross-entropy on logits with float targets of the same shape (multi-label);
 * activation sigmoid, decodes `act > thresh`.
 *
 * @example
 * ```ts
 * const lossFunc = new tsf.BCEWithLogitsLossFlat({ thresh: 0.3 });
 * ```
 */
export class BCEWithLogitsLossFlat implements Loss {
  /** Registry name. */
  static readonly className = 'BCEWithLogitsLossFlat';
  /** Registry name. */
  readonly name = 'BCEWithLogitsLossFlat';
  /** Decoding threshold. */
  readonly thresh: number;
  /** Weight of the positive term (one, or one per label); undefined for 1. */
  readonly posWeight: number | readonly number[] | undefined;

  /**
   * @param options - Threshold and positive weight.
   * @throws {@link ValueError} for unknown options or a non-positive `posWeight`.
   */
  constructor(options: BCEWithLogitsLossFlatOptions = {}) {
    checkOptionKeys('BCEWithLogitsLossFlat', options, ['thresh', 'posWeight']);
    this.thresh = options.thresh ?? 0.5;
    const pw = options.posWeight;
    const values = pw === undefined ? [] : typeof pw === 'number' ? [pw] : pw;
    if (typeof pw === 'object' && values.length === 0) {
      throw invalidValue('posWeight', 'a number or one number per label', pw);
    }
    for (const v of values) {
      if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
        throw invalidValue('posWeight', 'finite numbers >= 0', pw);
      }
    }
    this.posWeight = pw === undefined ? undefined : typeof pw === 'number' ? pw : [...pw];
  }

  /**
   * `max(x, 0) - x*y + log(1 + exp(-|x|))`, averaged over every element.
   * @param pred - Logits.
   * @param targ - Targets in [0, 1], same number of elements.
   * @param reduction - `mean` or `none` (per element of the flattened targets).
   * @returns The loss; the caller disposes it.
   */
  compute(pred: tf.Tensor, targ: tf.Tensor, reduction: Reduction = 'mean'): tf.Tensor {
    if (pred.size !== targ.size) {
      throw new ValueError(
        `BCEWithLogitsLossFlat: predictions have ${pred.size} values (shape ${JSON.stringify(pred.shape)}) but targets have ${targ.size} (${JSON.stringify(targ.shape)}); pass one-hot float targets.`,
      );
    }
    const pw = this.posWeight;
    const c = pred.shape[pred.rank - 1] ?? 1;
    if (Array.isArray(pw) && pw.length !== c) {
      throw new ValueError(
        `BCEWithLogitsLossFlat: posWeight has ${pw.length} values but predictions have ${c} ` +
          `labels on their last axis (shape ${JSON.stringify(pred.shape)}).`,
      );
    }
    return tf.tidy(() => {
      const x = pred.reshape([-1]);
      const y = targ.reshape([-1]).toFloat();
      if (pw === undefined) {
        return reduce(x.relu().sub(x.mul(y)).add(x.abs().neg().exp().log1p()), reduction);
      }
      // softplus(-x) = log(1 + exp(-|x|)) + max(-x, 0), stable for large |x|.
      const softplusNeg = x.abs().neg().exp().log1p().add(x.neg().relu());
      // PyTorch: (1 - y) x + (1 + (pw - 1) y) softplus(-x).
      const w =
        typeof pw === 'number' ? tf.scalar(pw) : tf.tile(tf.tensor1d(pw as number[]), [x.size / c]);
      const scale = tf.scalar(1).add(w.sub(1).mul(y));
      return reduce(tf.scalar(1).sub(y).mul(x).add(scale.mul(softplusNeg)), reduction);
    });
  }

  /**
   * Sigmoid.
   * @param pred - Logits.
   * @returns Probabilities.
   */
  activation(pred: tf.Tensor): tf.Tensor {
    return tf.sigmoid(pred);
  }

  /**
   * `act > thresh`.
   * @param act - Probabilities.
   * @returns A bool tensor.
   */
  decodes(act: tf.Tensor): tf.Tensor {
    return act.greater(this.thresh);
  }

  /** @returns The options. */
  getConfig(): JsonObject {
    const pw = this.posWeight;
    if (pw === undefined) return { thresh: this.thresh };
    return { thresh: this.thresh, posWeight: typeof pw === 'number' ? pw : [...pw] };
  }
}

/**
 * Options of {@link FocalLossFlat}.
 * @example
 * ```ts
 * const loss = new tsf.FocalLossFlat({ gamma: 2 });
 * ```
 */
export interface FocalLossFlatOptions {
  /**
   * Focusing parameter.
   * @defaultValue 2
   */
  gamma?: number;
  /**
   * PyTorch's `weight`: one weight per class, multiplying each item's cross-entropy by the
   * weight of its target class (before the focal term, as fastai's `FocalLoss`).
   * @defaultValue `undefined` (every class 1)
   */
  weight?: readonly number[];
  /**
   * How `compute` reduces the per-item losses when the caller does not say.
   * @defaultValue `'mean'`
   */
  reduction?: FocalReduction;
}

/**
 * Reductions of {@link FocalLossFlat} (fastai's `FocalLoss`): the mean, the sum, or one value
 * per item.
 * @example
 * ```ts
 * const r: tsf.FocalReduction = 'sum';
 * ```
 */
export type FocalReduction = Reduction | 'sum';

/**
 * Focal loss (Lin et al.): `(1 - p_t)^gamma * CE`, with fastai's softmax activation and
 * argmax decoding.
 *
 * @example
 * ```ts
 * const lossFunc = new tsf.FocalLossFlat({ gamma: 2 });
 * ```
 */
export class FocalLossFlat extends CrossEntropyLossFlat {
  /** Registry name. */
  static override readonly className = 'FocalLossFlat';
  /** Registry name. */
  override readonly name = 'FocalLossFlat';
  /** Focusing parameter. */
  readonly gamma: number;
  /** Per-class weights, or undefined. */
  readonly weight: readonly number[] | undefined;
  /** Default reduction of `compute`. */
  readonly reduction: FocalReduction;

  /**
   * @param options - Gamma, class weights and reduction.
   * @throws {@link ValueError} for unknown options, negative weights or an unknown reduction.
   */
  constructor(options: FocalLossFlatOptions = {}) {
    checkOptionKeys('FocalLossFlat', options, ['gamma', 'weight', 'reduction']);
    super();
    this.gamma = options.gamma ?? 2;
    this.reduction = options.reduction ?? 'mean';
    if (!['mean', 'sum', 'none'].includes(this.reduction)) {
      throw invalidValue('reduction', "'mean', 'sum' or 'none'", this.reduction);
    }
    const w = options.weight;
    if (w !== undefined && (w.length === 0 || w.some((v) => !(v >= 0 && Number.isFinite(v))))) {
      throw invalidValue('weight', 'one finite weight >= 0 per class', w);
    }
    this.weight = w === undefined ? undefined : [...w];
  }

  /**
   * The focal loss: `(1 - exp(-ce))^gamma * ce` per item, where `ce` is the (class-weighted)
   * cross-entropy, then reduced.
   * @param pred - Logits `[..., C]`.
   * @param targ - Class indices.
   * @param reduction - `mean`, `sum` or `none`. Defaults to the `reduction` option.
   * @returns The loss; the caller disposes it.
   * @throws {@link ValueError} when `weight` does not have one value per class.
   */
  override compute(
    pred: tf.Tensor,
    targ: tf.Tensor,
    reduction: FocalReduction = this.reduction,
  ): tf.Tensor {
    const c = pred.shape[pred.rank - 1];
    if (this.weight && this.weight.length !== c) {
      throw new ValueError(
        `FocalLossFlat: weight has ${this.weight.length} values but predictions have ${c} classes.`,
      );
    }
    return tf.tidy(() => {
      let ce = super.compute(pred, targ, 'none');
      if (this.weight) {
        ce = ce.mul(tf.gather(tf.tensor1d(this.weight as number[]), targ.reshape([-1]).toInt()));
      }
      const pt = ce.neg().exp();
      const v = tf.scalar(1).sub(pt).pow(this.gamma).mul(ce);
      return reduction === 'sum' ? v.sum() : reduce(v, reduction);
    });
  }

  /** @returns The options. */
  override getConfig(): JsonObject {
    const cfg: { [k: string]: JsonValue } = { gamma: this.gamma };
    if (this.weight) cfg.weight = [...this.weight];
    if (this.reduction !== 'mean') cfg.reduction = this.reduction;
    return cfg;
  }
}

/**
 * Mean squared error on flattened predictions and targets (regression); identity activation
 * and decoding.
 *
 * @example
 * ```ts
 * const lossFunc = new tsf.MSELossFlat();
 * ```
 */
export class MSELossFlat implements Loss {
  /** Registry name. */
  static readonly className = 'MSELossFlat';
  /** Registry name. */
  readonly name = 'MSELossFlat';

  /**
   * Mean (or per-element) squared error.
   * @param pred - Predictions.
   * @param targ - Targets with as many elements.
   * @param reduction - `mean` or `none`.
   * @returns The loss; the caller disposes it.
   */
  compute(pred: tf.Tensor, targ: tf.Tensor, reduction: Reduction = 'mean'): tf.Tensor {
    if (pred.size !== targ.size) {
      throw new ValueError(
        `MSELossFlat: predictions have ${pred.size} values (shape ${JSON.stringify(pred.shape)}) but targets have ${targ.size} (${JSON.stringify(targ.shape)}).`,
      );
    }
    return tf.tidy(() =>
      reduce(
        pred
          .reshape([-1])
          .sub(targ.reshape([-1]).toFloat())
          .square(),
        reduction,
      ),
    );
  }

  /**
   * Identity (a copy).
   * @param pred - Predictions.
   * @returns The same values.
   */
  activation(pred: tf.Tensor): tf.Tensor {
    return pred.clone();
  }

  /**
   * Identity (a copy).
   * @param act - Activations.
   * @returns The same values.
   */
  decodes(act: tf.Tensor): tf.Tensor {
    return act.clone();
  }

  /** @returns No options. */
  getConfig(): JsonObject {
    return {};
  }
}

/**
 * A loss class as {@link registerLoss} takes it: constructed from its `getConfig()` object.
 * @example
 * ```ts
 * const cls: tsf.LossConstructor = tsf.FocalLossFlat;
 * tsf.registerLoss('MyFocal', cls);
 * ```
 */
export type LossConstructor = new (options: never) => Loss;

/**
 * Registers a loss class so `loadLearner` can rebuild it from its exported name and config.
 * @param name - The loss's `name`.
 * @param cls - Its constructor, taking its `getConfig()` object.
 * @throws {@link ValueError} if the name is taken.
 * @example
 * ```ts
 * // A loss whose saved learners reload it by name.
 * class MyLoss extends tsf.CrossEntropyLossFlat {
 *   override readonly name = 'MyLoss';
 * }
 * tsf.registerLoss('MyLoss', MyLoss);
 * ```
 */
export function registerLoss(name: string, cls: LossConstructor): void {
  registerSerializable('loss', name, (config: JsonObject) => new cls(config as never));
}

for (const cls of [
  CrossEntropyLossFlat,
  LabelSmoothingCrossEntropy,
  BCEWithLogitsLossFlat,
  FocalLossFlat,
  MSELossFlat,
]) {
  registerLoss(cls.className, cls as LossConstructor);
}

/**
 * Rebuilds a registered loss from its name and config.
 * @param name - Registry name.
 * @param config - Its `getConfig()` object.
 * @returns The loss.
 * @throws DataError naming the registered losses if the name is unknown.
 * @example
 * ```ts
 * const loss = tsf.lossFromConfig('CrossEntropyLossFlat', {});
 * ```
 */
export function lossFromConfig(name: string, config: JsonObject): Loss {
  return fromRegistry('loss', name, config, `Call registerLoss("${name}", cls) before loadLearner`);
}

/**
 * Whether `name` is a registered loss (an exported learner can rebuild it).
 * @param name - Registry name.
 * @returns True if registered.
 * @example
 * ```ts
 * tsf.isRegisteredLoss('MSELossFlat'); // true
 * ```
 */
export function isRegisteredLoss(name: string): boolean {
  return isRegistered('loss', name);
}
