/**
 * Adam with decoupled weight decay (AdamW), fastai's defaults.
 */
import type * as tf from '@tensorflow/tfjs';
import { fusedAdamStep, fusedOptimizerEnabled } from '../backend/wasm-kernels/fused-optimizer.js';
import { checkOptionKeys } from '../core/errors.js';
import { debias, type Hypers, Optimizer, type ParamState } from './optimizer.js';

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

const KEYS = ['lr', 'mom', 'sqrMom', 'eps', 'wd', 'decoupleWd'];

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
 * const opt = new tsf.Adam([[w1, b1], [w2, b2]], { lr: 3e-3 });
 * opt.setHyper('lr', [1e-4, 1e-3]);
 * ```
 */
export class Adam extends Optimizer {
  /** Registry name. */
  static readonly className = 'Adam';
  private readonly decoupleWd: boolean;

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
      ['gradAvg', 'sqrAvg'],
    );
    this.decoupleWd = options.decoupleWd ?? true;
  }

  /**
   * The whole group in one pass on the wasm backend (same values as {@link Adam.update}, bit
   * for bit); elsewhere, or when a subclass overrides `update`, `false`.
   * @param params - Parameters with a gradient.
   * @param grads - Their gradients.
   * @param h - Group hypers.
   * @returns Whether the group was updated.
   */
  protected override updateGroup(
    params: readonly tf.Variable[],
    grads: readonly tf.Tensor[],
    h: Hypers,
  ): boolean {
    if (!fusedOptimizerEnabled() || this.update !== Adam.prototype.update) return false;
    const { lr, mom, sqrMom, eps, wd } = h as Required<AdamHypers>;
    const items = params.map((param, i) => {
      const state = this.state.get(param) as ParamState;
      const { gradAvg, sqrAvg } = state.buffers as { gradAvg: tf.Variable; sqrAvg: tf.Variable };
      return {
        param,
        grad: grads[i] as tf.Tensor,
        buffers: [gradAvg, sqrAvg],
        step: state.step,
        doWd: this.flags.get(param)?.doWd ?? true,
      };
    });
    return fusedAdamStep(items, { lr, mom, sqrMom, eps, wd, decoupleWd: this.decoupleWd });
  }

  /**
   * One Adam update.
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
    const { lr, mom, sqrMom, eps, wd } = h as Required<AdamHypers>;
    const c = (v: number) => this.scalar(v);
    let w: tf.Tensor = p;
    let g = grad;
    if (doWd && wd !== 0) {
      if (this.decoupleWd) w = w.mul(c(1 - lr * wd));
      else g = g.add(p.mul(c(wd)));
    }
    const { gradAvg, sqrAvg } = state.buffers as { gradAvg: tf.Variable; sqrAvg: tf.Variable };
    const m = gradAvg.mul(c(mom)).add(g.mul(c(1 - mom)));
    const v = sqrAvg.mul(c(sqrMom)).add(g.square().mul(c(1 - sqrMom)));
    gradAvg.assign(m);
    sqrAvg.assign(v);
    // (m / d1) / (sqrt(v / d2) + eps) written as m * (lr sqrt(d2) / d1) / (sqrt(v) + eps sqrt(d2)):
    // the same value with one op less per parameter.
    const sd2 = Math.sqrt(debias(sqrMom, 1 - sqrMom, state.step));
    const d1 = debias(mom, 1 - mom, state.step);
    return w.sub(m.mul(c((lr * sd2) / d1)).div(v.sqrt().add(c(eps * sd2))));
  }
}

interface AdamHypers {
  lr: number;
  mom: number;
  sqrMom: number;
  eps: number;
  wd: number;
}
