/**
 * Which parameter groups train: freezing (fastai's `freeze_to`), the optimizer flags that
 * let BatchNorm train in frozen groups and spare it weight decay, and BatchNorm forced into
 * inference mode (BnFreeze).
 */
import type * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../core/errors.js';
import type { Optimizer, OptimizerFactory } from './optimizer.js';
import { forceInferenceMode, type ParamInfo } from './param-groups.js';

/**
 * How the optimizer treats BatchNorm and bias parameters (the Learner's `wdBnBias` and
 * `trainBn`).
 * @example
 * ```ts
 * const flags: BnBiasFlags = { wdBnBias: false, trainBn: true };
 * ```
 */
export interface BnBiasFlags {
  /** Apply weight decay to BatchNorm and bias parameters too. */
  readonly wdBnBias: boolean;
  /** BatchNorm parameters train even in frozen groups. */
  readonly trainBn: boolean;
}

/**
 * Builds an optimizer over the groups and sets each parameter's flags from `flags`.
 * @param optFunc - The optimizer factory.
 * @param groups - The parameter groups.
 * @param lr - The learning rate given to the factory.
 * @param paramInfo - Which variables are BatchNorm or bias.
 * @param flags - The Learner's `wdBnBias` and `trainBn`.
 * @returns The new optimizer; the caller disposes the one it replaces.
 * @example
 * ```ts
 * const groups = learn.opt.paramGroups.map((g) => [...g.params]);
 * const optFunc: tsf.OptimizerFactory = (g, lr) => new tsf.Adam(g, { lr });
 * const opt = buildOptimizer(optFunc, groups, 1e-3, learn.paramInfo, { wdBnBias: false, trainBn: true });
 * // no weight decay on biases: opt.flags.get(bias).doWd is false
 * ```
 */
export function buildOptimizer(
  optFunc: OptimizerFactory,
  groups: tf.Variable[][],
  lr: number,
  paramInfo: ReadonlyMap<tf.Variable, ParamInfo>,
  flags: BnBiasFlags,
): Optimizer {
  const opt = optFunc(groups, lr);
  for (const [v, info] of paramInfo) {
    const f = opt.flags.get(v);
    if (f === undefined) continue;
    if (!flags.wdBnBias && (info.isBn || info.isBias)) f.doWd = false;
    if (flags.trainBn && info.isBn) f.forceTrain = true;
  }
  return opt;
}

/**
 * The frozen/trainable split of a Learner's parameter groups, and the BatchNorm layers held
 * in inference mode. The Learner's `freezeTo`, `trainableVariables` and `setBnEval` are
 * this class.
 * @example
 * ```ts
 * const groups = [[params[0]], [params[1]]];
 * const opt = new tsf.Adam(groups, { lr: 1e-3 });
 * const freezer = new GroupFreezer(groups);
 * freezer.freezeTo(-1, opt);
 * freezer.trainable; // the last group, plus force-trained BatchNorm
 * ```
 */
export class GroupFreezer {
  /** The variables of each group, body first. */
  readonly groups: tf.Variable[][];
  private frozenIdx = 0;
  private trainVars: tf.Variable[] = [];
  // The gradient tape names its results by variable name: the loop maps them back here.
  private trainVarsByName = new Map<string, tf.Variable>();
  private readonly bnEval = new Map<tf.layers.Layer, () => void>();

  /**
   * @param groups - The variables of each group, body first.
   */
  constructor(groups: tf.Variable[][]) {
    this.groups = groups;
  }

  /** Index of the first trainable group (0 = unfrozen). */
  get frozenIndex(): number {
    return this.frozenIdx;
  }

  /** The variables that receive gradients now. */
  get trainable(): readonly tf.Variable[] {
    return this.trainVars;
  }

  /** {@link GroupFreezer.trainable} by variable name. */
  get trainableByName(): ReadonlyMap<string, tf.Variable> {
    return this.trainVarsByName;
  }

  /** The BatchNorm layers {@link GroupFreezer.setBnEval} holds in inference mode now. */
  get inferenceBn(): readonly tf.layers.Layer[] {
    return [...this.bnEval.keys()];
  }

  /**
   * Trains the groups from `n` on (negative counts from the end), plus the parameters `opt`
   * flags `forceTrain`; clears the optimizer state, as fastai does.
   * @param n - First trainable group.
   * @param opt - The optimizer (its flags; its state is cleared).
   * @throws {@link ValueError} if `n` is not an integer.
   * @example
   * ```ts
   * const freezer = new GroupFreezer(learn.opt.paramGroups.map((g) => [...g.params]));
   * freezer.freezeTo(-2, learn.opt);
   * ```
   */
  freezeTo(n: number, opt: Optimizer): void {
    if (!Number.isInteger(n)) throw invalidValue('n', 'an integer', n);
    const idx = n >= 0 ? n : this.groups.length + n;
    this.frozenIdx = Math.max(0, Math.min(idx, this.groups.length));
    const vars: tf.Variable[] = [];
    this.groups.forEach((group, i) => {
      for (const v of group) {
        if (i >= this.frozenIdx || opt.flags.get(v)?.forceTrain) vars.push(v);
      }
    });
    this.trainVars = vars;
    this.trainVarsByName = new Map(vars.map((v) => [v.name, v]));
    opt.clearState();
  }

  /**
   * Forces BatchNorm layers into inference mode, or restores them; a layer already in the
   * asked state is left alone, so calls need not pair up.
   * @param layers - BatchNorm layers.
   * @param on - `true` to force inference mode, `false` to restore.
   * @example
   * ```ts
   * const freezer = new GroupFreezer(learn.opt.paramGroups.map((g) => [...g.params]));
   * const bnLayers = learn.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
   * freezer.setBnEval(bnLayers, true);
   * ```
   */
  setBnEval(layers: readonly tf.layers.Layer[], on: boolean): void {
    for (const layer of layers) {
      const restore = this.bnEval.get(layer);
      if (on && restore === undefined) this.bnEval.set(layer, forceInferenceMode(layer));
      if (!on && restore !== undefined) {
        restore();
        this.bnEval.delete(layer);
      }
    }
  }
}
