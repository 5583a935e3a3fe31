/**
 * LARC / LARS (layer-wise adaptive rate control), fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { averageGrad, decayStep, larcStep } from './optimizer-steps.js';

/**
 * Options of {@link Larc}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.Larc(groups, { lr, trustCoeff: 0.02 });
 * ```
 */
export interface LarcOptions {
  /**
   * Learning rate.
   * @defaultValue 1e-3
   */
  lr?: number;
  /**
   * Momentum (`gradAvg = mom*gradAvg + g`; 0 = none).
   * @defaultValue 0.9
   */
  mom?: number;
  /**
   * Scale of each parameter's own rate, `lr * trustCoeff * |p| / (|g| + wd |p| + eps)`.
   * @defaultValue 0.02
   */
  trustCoeff?: number;
  /**
   * Cap each parameter's own rate at `lr` (LARC); `false` uses it as is (LARS).
   * @defaultValue true
   */
  clip?: boolean;
  /**
   * Added to the denominator of the trust ratio.
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

const KEYS = ['lr', 'mom', 'trustCoeff', 'clip', 'eps', 'wd', 'decoupleWd'] as const;

/**
 * LARC as fastai has it (You et al. 2017): SGD with momentum where every parameter tensor
 * gets its own rate from the ratio of its norm to its gradient's, for large-batch training.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   optFunc: (groups, lr) => new tsf.Larc(groups, { lr, clip: false }), // LARS
 * });
 * ```
 */
export class Larc extends Optimizer {
  /** Registry name. */
  static readonly className = 'Larc';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: LarcOptions = {}) {
    checkOptionKeys('Larc', options, KEYS);
    super(
      groups,
      {
        lr: options.lr ?? 1e-3,
        mom: options.mom ?? 0.9,
        trustCoeff: options.trustCoeff ?? 0.02,
        eps: options.eps ?? 1e-8,
        wd: options.wd ?? 0,
      },
      [decayStep(options.decoupleWd ?? true), averageGrad(false), larcStep(options.clip ?? true)],
    );
  }
}
