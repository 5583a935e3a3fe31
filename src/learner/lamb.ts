/**
 * LAMB (layer-wise adaptive Adam), fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { averageGrad, averageSqrGrad, decayStep, lambStep } from './optimizer-steps.js';

/**
 * Options of {@link Lamb}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.Lamb(groups, { lr, wd: 0.01 });
 * ```
 */
export interface LambOptions {
  /**
   * Learning rate.
   * @defaultValue 1e-3
   */
  lr?: number;
  /**
   * Momentum of the gradient average.
   * @defaultValue 0.9
   */
  mom?: number;
  /**
   * Momentum of the squared-gradient average.
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
   * Decoupled weight decay (`p *= 1 - lr*wd`) rather than L2 (`g += wd*p`).
   * @defaultValue true
   */
  decoupleWd?: boolean;
}

const KEYS = ['lr', 'mom', 'sqrMom', 'eps', 'wd', 'decoupleWd'] as const;

/**
 * LAMB as fastai has it: the Adam step `s = (gradAvg/d1) / (sqrt(sqrAvg/d2) + eps)` scaled
 * by the trust ratio `q = min(rms(p) / rms(s), 10)` (1 when either is 0): `p -= lr * q * s`.
 *
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.Lamb(groups, { lr });
 * ```
 */
export class Lamb extends Optimizer {
  /** Registry name. */
  static readonly className = 'Lamb';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: LambOptions = {}) {
    checkOptionKeys('Lamb', options, KEYS);
    super(
      groups,
      {
        lr: options.lr ?? 1e-3,
        mom: options.mom ?? 0.9,
        sqrMom: options.sqrMom ?? 0.99,
        eps: options.eps ?? 1e-5,
        wd: options.wd ?? 0,
      },
      [decayStep(options.decoupleWd ?? true), averageGrad(true), averageSqrGrad(true), lambStep],
    );
  }
}
