/**
 * RMSProp, fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { type Hypers, Optimizer, type ParamState } from './optimizer.js';

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

const KEYS = ['lr', 'sqrMom', 'mom', 'eps', 'wd', 'decoupleWd'];

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
  private readonly decoupleWd: boolean;

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
      ['gradAvg', 'sqrAvg'],
    );
    this.decoupleWd = options.decoupleWd ?? true;
  }

  /**
   * One RMSProp update.
   * @param p - Parameter.
   * @param grad - Gradient.
   * @param h - Group hypers.
   * @param state - Parameter state.
   * @param doWd - Whether weight decay applies.
   * @returns The new value.
   */
  override update(
    p: tf.Variable,
    grad: tf.Tensor,
    h: Hypers,
    state: ParamState,
    doWd: boolean,
  ): tf.Tensor {
    const { lr, sqrMom, mom, eps, wd } = h as Record<
      'lr' | 'sqrMom' | 'mom' | 'eps' | 'wd',
      number
    >;
    let w: tf.Tensor = p;
    let g = grad;
    if (doWd && wd !== 0) {
      if (this.decoupleWd) w = w.mul(1 - lr * wd);
      else g = g.add(p.mul(wd));
    }
    const { gradAvg, sqrAvg } = state.buffers as { gradAvg: tf.Variable; sqrAvg: tf.Variable };
    let num = g;
    if (mom !== 0) {
      num = gradAvg.mul(mom).add(g);
      gradAvg.assign(num);
    }
    const v = sqrAvg.mul(sqrMom).add(g.square().mul(1 - sqrMom));
    sqrAvg.assign(v);
    return w.sub(num.div(v.sqrt().add(eps)).mul(lr));
  }
}
