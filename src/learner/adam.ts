/**
 * Adam with decoupled weight decay (AdamW), fastai's defaults.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { adamStep, averageGrad, averageSqrGrad, decayStep } from './optimizer-steps.js';

/**
 * Options of {@link Adam}.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   optFunc: (groups, lr) => new tsf.Adam(groups, { lr, sqrMom: 0.999, wd: 0.01 }),
 * });
 * ```
 */
export interface AdamOptions {
  /**
   * Learning rate.
   * @defaultValue 1e-3
   */
  lr?: number;
  /**
   * Momentum of the gradient average (beta1).
   * @defaultValue 0.9
   */
  mom?: number;
  /**
   * Momentum of the squared-gradient average (beta2).
   * @defaultValue 0.99
   */
  sqrMom?: number;
  /**
   * Added to the denominator.
   * @defaultValue 1e-5
   */
  eps?: number;
  /**
   * Weight decay.
   * @defaultValue 0.01
   */
  wd?: number;
  /**
   * Decoupled weight decay (`p *= 1 - lr * wd`, AdamW) rather than L2 (`g += wd * p`).
   * @defaultValue true
   */
  decoupleWd?: boolean;
}

const KEYS = ['lr', 'mom', 'sqrMom', 'eps', 'wd', 'decoupleWd'] as const;

/**
 * Adam as fastai has it: `gradAvg = mom*gradAvg + (1-mom)*g`,
 * `sqrAvg = sqrMom*sqrAvg + (1-sqrMom)*g^2`,
 * `p -= lr / (1-mom^t) * gradAvg / (sqrt(sqrAvg / (1-sqrMom^t)) + eps)`, after decoupled
 * weight decay `p *= 1 - lr*wd`. Equal to PyTorch's `AdamW(betas=(mom, sqrMom), eps, weight_decay=wd)`.
 *
 * @remarks Differs from `tf.train.adam`: decoupled weight decay, per-group hypers that can
 * change every batch, and debiasing with the current momentum (fastai).
 * @example
 * ```ts
 * const body = [tf.variable(tf.ones([4, 4]))];
 * const head = [tf.variable(tf.zeros([4]))];
 * const opt = new tsf.Adam([body, head], { lr: 3e-3 });
 * opt.setHyper('lr', [1e-4, 1e-3]);
 * ```
 */
export class Adam extends Optimizer {
  /** Registry name. */
  static readonly className = 'Adam';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: AdamOptions = {}) {
    checkOptionKeys('Adam', options, KEYS);
    super(
      groups,
      {
        lr: options.lr ?? 1e-3,
        mom: options.mom ?? 0.9,
        sqrMom: options.sqrMom ?? 0.99,
        eps: options.eps ?? 1e-5,
        wd: options.wd ?? 0.01,
      },
      [decayStep(options.decoupleWd ?? true), averageGrad(true), averageSqrGrad(true), adamStep],
    );
  }
}
