/**
 * SGD with momentum, fastai's form.
 */
import type * as tf from '@tensorflow/tfjs';
import { fusedOptimizerEnabled, fusedSgdStep } from '../backend/wasm-kernels/fused-optimizer.js';
import { checkOptionKeys } from '../core/errors.js';
import { type Hypers, Optimizer, type ParamState } from './optimizer.js';

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

const KEYS = ['lr', 'mom', 'wd', 'decoupleWd'];

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
  private readonly decoupleWd: boolean;

  /**
   * @param groups - Variables per parameter group.
   * @param options - Hyper-parameters.
   * @throws {@link ValueError} for unknown options or non-finite values.
   */
  constructor(groups: readonly (readonly tf.Variable[])[], options: SGDOptions = {}) {
    checkOptionKeys('SGD', options, KEYS);
    super(groups, { lr: options.lr ?? 1e-3, mom: options.mom ?? 0, wd: options.wd ?? 0 }, [
      'gradAvg',
    ]);
    this.decoupleWd = options.decoupleWd ?? true;
  }

  /**
   * The whole group in one pass on the wasm backend (same values as {@link SGD.update}, bit
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
    if (!fusedOptimizerEnabled() || this.update !== SGD.prototype.update) return false;
    const items = params.map((param, i) => {
      const state = this.state.get(param) as ParamState;
      return {
        param,
        grad: grads[i] as tf.Tensor,
        buffers: [state.buffers.gradAvg as tf.Variable],
        step: state.step,
        doWd: this.flags.get(param)?.doWd ?? true,
      };
    });
    const { lr, mom, wd } = h as { lr: number; mom: number; wd: number };
    return fusedSgdStep(items, { lr, mom, wd, decoupleWd: this.decoupleWd });
  }

  /**
   * One SGD update.
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
    const lr = h.lr as number;
    const mom = h.mom as number;
    const wd = h.wd as number;
    let w: tf.Tensor = p;
    let g = grad;
    if (doWd && wd !== 0) {
      if (this.decoupleWd) w = w.mul(1 - lr * wd);
      else g = g.add(p.mul(wd));
    }
    if (mom !== 0) {
      const gradAvg = state.buffers.gradAvg as tf.Variable;
      const m = gradAvg.mul(mom).add(g);
      gradAvg.assign(m);
      g = m;
    }
    return w.sub(g.mul(lr));
  }
}
