/**
 * Lookahead (wrapping any step-composed optimizer) and fastai's `ranger` (Lookahead over RAdam).
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, ValueError } from '../core/errors.js';
import { Optimizer, type ParamGroup } from './optimizer.js';
import type { OptimizerStep } from './optimizer-steps.js';
import { RAdam, type RAdamOptions } from './radam.js';

/**
 * Options of {@link Lookahead}.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) =>
 *   new tsf.Lookahead(new tsf.Adam(groups, { lr }), { k: 6, alpha: 0.5 });
 * ```
 */
export interface LookaheadOptions {
  /**
   * Steps of the inner optimizer between two synchronisations.
   * @defaultValue 6
   */
  k?: number;
  /**
   * How far the slow weights move towards the fast ones at a synchronisation.
   * @defaultValue 0.5
   */
  alpha?: number;
}

const KEYS = ['k', 'alpha'] as const;

/** Keeps the slow weights: the parameter's value before its first step. */
const lookaheadStart: OptimizerStep = {
  name: 'lookaheadStart',
  hypers: [],
  buffers: ['slowWeights'],
  apply(ctx) {
    if (ctx.state.step === 1) (ctx.state.buffers.slowWeights as tf.Variable).assign(ctx.param);
  },
};

/** Every `k` steps: `slow += alpha * (fast - slow)`, then the fast weights restart from `slow`. */
const lookaheadSync: OptimizerStep<'k' | 'alpha'> = {
  name: 'lookaheadSync',
  hypers: ['k', 'alpha'],
  buffers: ['slowWeights'],
  apply(ctx) {
    const { k, alpha } = ctx.hypers;
    if (ctx.state.step % k !== 0) return;
    const slow = ctx.state.buffers.slowWeights as tf.Variable;
    slow.assign(slow.add(ctx.w.sub(slow).mul(ctx.scalar(alpha))));
    ctx.w = slow.clone();
  },
};

/**
 * Lookahead as fastai has it (Zhang et al. 2019): the inner optimizer moves the "fast" weights;
 * every `k` of its steps, slow weights move `alpha` of the way towards them and the fast
 * weights restart from there. Built from the inner optimizer's own steps, groups, hypers and
 * flags (the inner optimizer is disposed), so it schedules, saves and loads like any optimizer;
 * `k` and `alpha` are hyper-parameters of every group. Steps are counted per parameter (the
 * same as fastai's count for every parameter that has a gradient at each step).
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   optFunc: (groups, lr) => new tsf.Lookahead(new tsf.SGD(groups, { lr, mom: 0.9 })),
 * });
 * ```
 */
export class Lookahead extends Optimizer {
  /** Registry name. */
  static readonly className = 'Lookahead';

  /**
   * @param inner - The optimizer to wrap (one composed of steps); disposed here.
   * @param options - `k` and `alpha`.
   * @throws {@link ValueError} for unknown options, an inner optimizer without steps (one that
   *   overrides `update`), or one that has already stepped.
   */
  constructor(inner: Optimizer, options: LookaheadOptions = {}) {
    checkOptionKeys('Lookahead', options, KEYS);
    if (inner.steps.length === 0 || inner.state.size > 0) {
      throw new ValueError(
        `Lookahead wraps a fresh optimizer composed of steps; ${inner.constructor.name} ${inner.steps.length === 0 ? 'has no steps (it overrides update())' : 'has already stepped'}. Wrap it where optFunc creates it.`,
      );
    }
    const k = options.k ?? 6;
    const alpha = options.alpha ?? 0.5;
    if (!Number.isInteger(k) || k < 1) {
      throw new ValueError(`Lookahead: \`k\` must be an integer >= 1. Received: k=${k}`);
    }
    const groups = inner.paramGroups.map((g) => g.params);
    const first = inner.paramGroups[0] as ParamGroup;
    super(groups, { ...first.hypers, k, alpha }, [lookaheadStart, ...inner.steps, lookaheadSync]);
    inner.paramGroups.forEach((g, i) => {
      Object.assign((this.paramGroups[i] as ParamGroup).hypers, g.hypers);
    });
    for (const [p, flags] of inner.flags) this.flags.set(p, { ...flags });
    inner.dispose();
  }
}

/**
 * Options of {@link ranger}: RAdam's and Lookahead's, with fastai's `ranger` defaults.
 * @example
 * ```ts
 * const opts: tsf.RangerOptions = { lr: 1e-3, k: 6 };
 * ```
 */
export type RangerOptions = RAdamOptions & LookaheadOptions;

/**
 * fastai's `ranger`: {@link Lookahead} over {@link RAdam}, with its defaults (`mom` 0.95,
 * `sqrMom` 0.99, `eps` 1e-6, `wd` 0.01, `k` 6, `alpha` 0.5).
 * @param groups - Variables per parameter group.
 * @param options - Hyper-parameters.
 * @returns The optimizer.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { optFunc: (groups, lr) => tsf.ranger(groups, { lr }) });
 * ```
 */
export function ranger(
  groups: readonly (readonly tf.Variable[])[],
  options: RangerOptions = {},
): Lookahead {
  const { k = 6, alpha = 0.5, ...radam } = options;
  const inner = new RAdam(groups, { mom: 0.95, sqrMom: 0.99, eps: 1e-6, wd: 0.01, ...radam });
  return new Lookahead(inner, { k, alpha });
}
