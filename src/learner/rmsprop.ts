/**
 * RMSProp, fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { averageGrad, averageSqrGrad, decayStep, rmsPropStep } from './optimizer-steps.js';

/**
 * Options of {@link RMSProp}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.RMSProp(groups, { lr, sqrMom: 0.99 });
 * ```
 */
export interface RMSPropOptions {
  /**
   * Learning rate.
   * @defaultValue 1e-2
   */
  lr?: number;
  /**
   * Momentum of the squared-gradient average (PyTorch's `alpha`).
   * @defaultValue 0.99
   */
  sqrMom?: number;
  /**
   * Momentum (`gradAvg = mom*gradAvg + g`; 0 = none).
   * @defaultValue 0
   */
  mom?: number;
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
   * Decoupled weight decay rather than L2.
   * @defaultValue true
   */
  decoupleWd?: boolean;
}

const KEYS = ['lr', 'sqrMom', 'mom', 'eps', 'wd', 'decoupleWd'] as const;

/**
 * RMSProp as fastai has it: `sqrAvg = sqrMom*sqrAvg + (1-sqrMom)*g^2`,
 * `p -= lr * (mom ? gradAvg : g) / (sqrt(sqrAvg) + eps)`. Without momentum equal to PyTorch's
 * `RMSprop(alpha=sqrMom, eps)`.
 *
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.RMSProp(groups, { lr });
 * ```
 */
export class RMSProp extends Optimizer {
  /** Registry name. */
  static readonly className = 'RMSProp';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: RMSPropOptions = {}) {
    checkOptionKeys('RMSProp', options, KEYS);
    super(
      groups,
      {
        lr: options.lr ?? 1e-2,
        sqrMom: options.sqrMom ?? 0.99,
        mom: options.mom ?? 0,
        eps: options.eps ?? 1e-8,
        wd: options.wd ?? 0,
      },
      [
        decayStep(options.decoupleWd ?? true),
        averageGrad(false),
        averageSqrGrad(true),
        rmsPropStep,
      ],
    );
  }
}
