/**
 * RAdam (rectified Adam), fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { averageGrad, averageSqrGrad, decayStep, radamStep } from './optimizer-steps.js';

/**
 * Options of {@link RAdam}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.RAdam(groups, { lr, wd: 0.01 });
 * ```
 */
export interface RAdamOptions {
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
   * @defaultValue 0
   */
  wd?: number;
  /**
   * Softplus sharpness applied to the denominator (0: none), fastai's `beta`.
   * @defaultValue 0
   */
  beta?: number;
  /**
   * Decoupled weight decay (`p *= 1 - lr*wd`) rather than L2 (`g += wd*p`).
   * @defaultValue true
   */
  decoupleWd?: boolean;
}

const KEYS = ['lr', 'mom', 'sqrMom', 'eps', 'wd', 'beta', 'decoupleWd'] as const;

/**
 * RAdam as fastai has it (Liu et al. 2019): Adam whose adaptive rate is switched on only once
 * its variance is tractable, and then rectified; the first steps are momentum steps. No
 * warm-up needed. Equal to PyTorch's `RAdam` up to where `eps` is added (fastai adds it to
 * `sqrt(sqrAvg / debias2)`, PyTorch to `sqrt(sqrAvg)`).
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   optFunc: (groups, lr) => new tsf.RAdam(groups, { lr }),
 * });
 * ```
 */
export class RAdam extends Optimizer {
  /** Registry name. */
  static readonly className = 'RAdam';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: RAdamOptions = {}) {
    checkOptionKeys('RAdam', options, KEYS);
    super(
      groups,
      {
        lr: options.lr ?? 1e-3,
        mom: options.mom ?? 0.9,
        sqrMom: options.sqrMom ?? 0.99,
        eps: options.eps ?? 1e-5,
        wd: options.wd ?? 0,
        beta: options.beta ?? 0,
      },
      [decayStep(options.decoupleWd ?? true), averageGrad(true), averageSqrGrad(true), radamStep],
    );
  }
}
