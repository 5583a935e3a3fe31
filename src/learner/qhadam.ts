/**
 * QHAdam (quasi-hyperbolic Adam), fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { averageGrad, averageSqrGrad, decayStep, qhadamStep } from './optimizer-steps.js';

/**
 * Options of {@link QHAdam}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.QHAdam(groups, { lr, nu1: 0.7 });
 * ```
 */
export interface QHAdamOptions {
  /**
   * Learning rate.
   * @defaultValue 1e-3
   */
  lr?: number;
  /**
   * Momentum of the gradient average (beta1).
   * @defaultValue 0.999
   */
  mom?: number;
  /**
   * Momentum of the squared-gradient average (beta2).
   * @defaultValue 0.999
   */
  sqrMom?: number;
  /**
   * Weight of the gradient average against the gradient in the numerator.
   * @defaultValue 0.7
   */
  nu1?: number;
  /**
   * Weight of the squared-gradient average against the squared gradient in the denominator.
   * @defaultValue 1
   */
  nu2?: number;
  /**
   * Added to the denominator.
   * @defaultValue 1e-8
   */
  eps?: number;
  /**
   * Weight decay.
   * @defaultValue 0
   */
  wd?: number;
  /**
   * Decoupled weight decay (`p *= 1 - lr*wd`) rather than L2 (`g += wd*p`).
   * @defaultValue true
   */
  decoupleWd?: boolean;
}

const KEYS = ['lr', 'mom', 'sqrMom', 'nu1', 'nu2', 'eps', 'wd', 'decoupleWd'] as const;

/**
 * QHAdam as fastai has it (Ma & Yarats 2019): Adam whose numerator and denominator mix the
 * current gradient with its averages, by `nu1` and `nu2`; fastai's defaults.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   optFunc: (groups, lr) => new tsf.QHAdam(groups, { lr }),
 * });
 * ```
 */
export class QHAdam extends Optimizer {
  /** Registry name. */
  static readonly className = 'QHAdam';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: QHAdamOptions = {}) {
    checkOptionKeys('QHAdam', options, KEYS);
    super(
      groups,
      {
        lr: options.lr ?? 1e-3,
        mom: options.mom ?? 0.999,
        sqrMom: options.sqrMom ?? 0.999,
        nu1: options.nu1 ?? 0.7,
        nu2: options.nu2 ?? 1,
        eps: options.eps ?? 1e-8,
        wd: options.wd ?? 0,
      },
      [decayStep(options.decoupleWd ?? true), averageGrad(true), averageSqrGrad(true), qhadamStep],
    );
  }
}
