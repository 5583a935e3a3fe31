/**
 * SGD with momentum, fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { Optimizer } from './optimizer.js';
import { averageGrad, decayStep, momentumStep } from './optimizer-steps.js';

/**
 * Options of {@link SGD}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.SGD(groups, { lr, mom: 0.9, wd: 1e-4 });
 * ```
 */
export interface SGDOptions {
  /**
   * Learning rate.
   * @defaultValue 1e-3
   */
  lr?: number;
  /**
   * Momentum (0 = plain SGD).
   * @defaultValue 0
   */
  mom?: number;
  /**
   * Weight decay.
   * @defaultValue 0
   */
  wd?: number;
  /**
   * Decoupled weight decay (`p *= 1 - lr*wd`) rather than L2 (`g += wd*p`, PyTorch's SGD).
   * @defaultValue true
   */
  decoupleWd?: boolean;
}

const KEYS = ['lr', 'mom', 'wd', 'decoupleWd'] as const;

/**
 * SGD as fastai has it: `gradAvg = mom*gradAvg + g` (no dampening, so the first step uses
 * `g`), `p -= lr * gradAvg`. Equal to PyTorch's `SGD(momentum=mom)` (with `decoupleWd: false`,
 * also its `weight_decay`).
 *
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   lossFunc: new tsf.MSELossFlat(),
 *   optFunc: (groups, lr) => new tsf.SGD(groups, { lr, mom: 0.9 }),
 * });
 * ```
 */
export class SGD extends Optimizer {
  /** Registry name. */
  static readonly className = 'SGD';

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: SGDOptions = {}) {
    checkOptionKeys('SGD', options, KEYS);
    super(groups, { lr: options.lr ?? 1e-3, mom: options.mom ?? 0, wd: options.wd ?? 0 }, [
      decayStep(options.decoupleWd ?? true),
      averageGrad(false),
      momentumStep,
    ]);
  }
}
