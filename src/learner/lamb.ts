/**
 * LAMB (layer-wise adaptive Adam), fastai's form.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';
import { debias, type Hypers, Optimizer, type ParamState } from './optimizer.js';

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
   * Decoupled weight decay.
   * @defaultValue 0
   */
  wd?: number;
}

const KEYS = ['lr', 'mom', 'sqrMom', 'eps', 'wd'];

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
      ['gradAvg', 'sqrAvg'],
    );
  }

  /**
   * One LAMB update.
   * @param p - Parameter.
   * @param g - Gradient.
   * @param h - Group hypers.
   * @param state - Parameter state.
   * @param doWd - Whether weight decay applies.
   * @returns The new value.
   */
  override update(
    p: tf.Variable,
    g: tf.Tensor,
    h: Hypers,
    state: ParamState,
    doWd: boolean,
  ): tf.Tensor {
    const { lr, mom, sqrMom, eps, wd } = h as Record<
      'lr' | 'mom' | 'sqrMom' | 'eps' | 'wd',
      number
    >;
    let w: tf.Tensor = p;
    if (doWd && wd !== 0) w = w.mul(1 - lr * wd);
    const { gradAvg, sqrAvg } = state.buffers as { gradAvg: tf.Variable; sqrAvg: tf.Variable };
    const m = gradAvg.mul(mom).add(g.mul(1 - mom));
    const v = sqrAvg.mul(sqrMom).add(g.square().mul(1 - sqrMom));
    gradAvg.assign(m);
    sqrAvg.assign(v);
    const d1 = debias(mom, 1 - mom, state.step);
    const d2 = debias(sqrMom, 1 - sqrMom, state.step);
    const s = m.div(d1).div(v.div(d2).sqrt().add(eps));
    const r1 = w.square().mean().sqrt();
    const r2 = s.square().mean().sqrt();
    const zero = tf.logicalOr(r1.equal(0), r2.equal(0));
    const q = tf.where(zero, tf.onesLike(r1), tf.minimum(r1.div(r2), 10));
    return w.sub(s.mul(q).mul(lr));
  }
}
