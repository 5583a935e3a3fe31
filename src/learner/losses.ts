/**
 * Loss functions with fastai's "flat" behaviour: predictions and targets are flattened so the
 * class axis is last, each loss knows its activation (what `getPreds` returns) and how to
 * decode activations (what `predict` returns).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import type { JsonObject } from '../data/batch.js';

/**
 * How a loss reduces per-item values.
 * @example
 * ```ts
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

  /**
   * @param options - Threshold.
   * @throws {@link ValueError} for unknown options.
   */
  constructor(options: BCEWithLogitsLossFlatOptions = {}) {
    checkOptionKeys('BCEWithLogitsLossFlat', options, ['thresh']);
    this.thresh = options.thresh ?? 0.5;
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
    return tf.tidy(() => {
      const x = pred.reshape([-1]);
      const y = targ.reshape([-1]).toFloat();
      const v = x.relu().sub(x.mul(y)).add(x.abs().neg().exp().log1p());
      return reduce(v, reduction);
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
    return { thresh: this.thresh };
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
}

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

  /**
   * @param options - Gamma.
   * @throws {@link ValueError} for unknown options.
   */
  constructor(options: FocalLossFlatOptions = {}) {
    checkOptionKeys('FocalLossFlat', options, ['gamma']);
    super();
    this.gamma = options.gamma ?? 2;
  }

  /**
   * The focal loss.
   * @param pred - Logits `[..., C]`.
   * @param targ - Class indices.
   * @param reduction - `mean` or `none`.
   * @returns The loss; the caller disposes it.
   */
  override compute(pred: tf.Tensor, targ: tf.Tensor, reduction: Reduction = 'mean'): tf.Tensor {
    return tf.tidy(() => {
      const ce = super.compute(pred, targ, 'none');
      const pt = ce.neg().exp();
      return reduce(tf.scalar(1).sub(pt).pow(this.gamma).mul(ce), reduction);
    });
  }

  /** @returns The options. */
  override getConfig(): JsonObject {
    return { gamma: this.gamma };
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

const LOSSES = new Map<string, LossConstructor>([
  ['CrossEntropyLossFlat', CrossEntropyLossFlat as LossConstructor],
  ['LabelSmoothingCrossEntropy', LabelSmoothingCrossEntropy as LossConstructor],
  ['BCEWithLogitsLossFlat', BCEWithLogitsLossFlat as LossConstructor],
  ['FocalLossFlat', FocalLossFlat as LossConstructor],
  ['MSELossFlat', MSELossFlat as LossConstructor],
]);

/**
 * Registers a loss class so `loadLearner` can rebuild it from its exported name and config.
 * @param name - The loss's `name`.
 * @param cls - Its constructor, taking its `getConfig()` object.
 * @throws {@link ValueError} if the name is taken.
 * @example
 * ```ts
 * tsf.registerLoss('MyLoss', MyLoss);
 * ```
 */
export function registerLoss(name: string, cls: LossConstructor): void {
  if (LOSSES.has(name)) throw new ValueError(`A loss named "${name}" is already registered.`);
  LOSSES.set(name, cls);
}

/**
 * Rebuilds a registered loss from its name and config.
 * @param name - Registry name.
 * @param config - Its `getConfig()` object.
 * @returns The loss.
 * @throws {@link ValueError} naming the registered losses if the name is unknown.
 * @example
 * ```ts
 * const loss = tsf.lossFromConfig('CrossEntropyLossFlat', {});
 * ```
 */
export function lossFromConfig(name: string, config: JsonObject): Loss {
  const cls = LOSSES.get(name);
  if (cls === undefined) {
    throw new ValueError(
      `Unknown loss "${name}". Registered: ${[...LOSSES.keys()].join(', ')}; call registerLoss("${name}", cls) before loadLearner.`,
    );
  }
  return new cls(config as never);
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
  return LOSSES.has(name);
}
