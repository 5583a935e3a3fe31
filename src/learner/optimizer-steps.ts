/**
 * The step functions optimizers are composed of, as in fastai (`weight_decay`, `l2_reg`,
 * `average_grad`, `average_sqr_grad`, `momentum_step`, `adam_step`, ...): each reads the
 * hyper-parameters it names and the parameter's buffers, and changes the parameter's new value
 * (`w`) or its gradient (`g`). An optimizer runs its steps in order for every parameter, so a
 * variant (RAdam, QHAdam, LARC) is a new list, not a new class body.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamState } from './optimizer.js';

/**
 * What a step sees of one parameter's update; runs inside `tf.tidy`.
 * @typeParam K - The hyper-parameters the step reads.
 * @example
 * ```ts
 * const halve: tsf.OptimizerStep<'lr'> = {
 *   name: 'halve', hypers: ['lr'], buffers: [],
 *   apply: (ctx) => { ctx.w = ctx.w.sub(ctx.g.mul(ctx.scalar(ctx.hypers.lr / 2))); },
 * };
 * ```
 */
export interface StepContext<K extends string = string> {
  /** The parameter (its value before this update). */
  readonly param: tf.Variable;
  /** The parameter's new value so far: steps replace it. */
  w: tf.Tensor;
  /** The gradient so far: steps may replace it (L2 regularisation adds `wd * w`). */
  g: tf.Tensor;
  /** The group's hyper-parameters this step declared. */
  readonly hypers: Readonly<Record<K, number>>;
  /** The parameter's state: `step` (already counting this one) and its buffers. */
  readonly state: ParamState;
  /** Whether weight decay applies to this parameter (not to BatchNorm or biases by default). */
  readonly doWd: boolean;
  /** A scalar tensor shared by every parameter within one optimizer step. */
  scalar(value: number): tf.Scalar;
}

/**
 * One stage of an optimizer's update (fastai's optimizer callbacks).
 * @typeParam K - The hyper-parameters it reads; the optimizer refuses to build without them.
 * @example
 * ```ts
 * const opt = new tsf.Optimizer([params], { lr: 0.1, wd: 0 }, [tsf.weightDecay, tsf.sgdStep]);
 * ```
 */
export interface OptimizerStep<K extends string = string> {
  /** A name for messages, e.g. `adamStep`. */
  readonly name: string;
  /** The hyper-parameters it reads. */
  readonly hypers: readonly K[];
  /** The buffers it keeps per parameter (zeros on the parameter's first step). */
  readonly buffers: readonly string[];
  /** Updates `ctx.w` and/or `ctx.g` (and the buffers). */
  apply(ctx: StepContext<K>): void;
}

function buffer(ctx: StepContext, name: string): tf.Variable {
  return ctx.state.buffers[name] as tf.Variable;
}

/**
 * fastai's `debias`: `damp * (1 - mom^step) / (1 - mom)`.
 * @param mom - Momentum.
 * @param damp - Dampening.
 * @param step - Step count.
 * @returns The debiasing factor.
 * @example
 * ```ts
 * tsf.debias(0.9, 0.1, 1); // 0.1
 * ```
 */
export function debias(mom: number, damp: number, step: number): number {
  return (damp * (1 - mom ** step)) / (1 - mom);
}

/**
 * Decoupled weight decay (fastai's `weight_decay`): `w *= 1 - lr * wd`.
 * @example
 * ```ts
 * new tsf.Optimizer([params], { lr: 0.1, wd: 0.01 }, [tsf.weightDecay, tsf.sgdStep]);
 * ```
 */
export const weightDecay: OptimizerStep<'lr' | 'wd'> = {
  name: 'weightDecay',
  hypers: ['lr', 'wd'],
  buffers: [],
  apply(ctx) {
    const { lr, wd } = ctx.hypers;
    if (ctx.doWd && wd !== 0) ctx.w = ctx.w.mul(ctx.scalar(1 - lr * wd));
  },
};

/**
 * L2 regularisation (fastai's `l2_reg`): `g += wd * w`.
 * @example
 * ```ts
 * new tsf.Optimizer([params], { lr: 0.1, wd: 0.01 }, [tsf.l2Reg, tsf.sgdStep]);
 * ```
 */
export const l2Reg: OptimizerStep<'wd'> = {
  name: 'l2Reg',
  hypers: ['wd'],
  buffers: [],
  apply(ctx) {
    const { wd } = ctx.hypers;
    if (ctx.doWd && wd !== 0) ctx.g = ctx.g.add(ctx.param.mul(ctx.scalar(wd)));
  },
};

/**
 * The weight-decay step an optimizer's `decoupleWd` option chooses.
 * @param decoupleWd - `true`: {@link weightDecay}; `false`: {@link l2Reg}.
 * @returns The step.
 * @example
 * ```ts
 * const steps = [tsf.decayStep(true), tsf.sgdStep];
 * ```
 */
export function decayStep(decoupleWd: boolean): OptimizerStep<'lr' | 'wd'> | OptimizerStep<'wd'> {
  return decoupleWd ? weightDecay : l2Reg;
}

/**
 * Moving average of the gradient in buffer `gradAvg` (fastai's `average_grad`):
 * `gradAvg = mom * gradAvg + (dampening ? 1 - mom : 1) * g`.
 * @param dampening - Scale the new gradient by `1 - mom` (Adam) or not (SGD momentum).
 * @returns The step.
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(false), tsf.momentumStep];
 * ```
 */
export function averageGrad(dampening: boolean): OptimizerStep<'mom'> {
  return {
    name: dampening ? 'averageGrad(dampening)' : 'averageGrad',
    hypers: ['mom'],
    buffers: ['gradAvg'],
    apply(ctx) {
      const { mom } = ctx.hypers;
      const avg = buffer(ctx, 'gradAvg');
      const g = dampening ? ctx.g.mul(ctx.scalar(1 - mom)) : ctx.g;
      avg.assign(avg.mul(ctx.scalar(mom)).add(g));
    },
  };
}

/**
 * Moving average of the squared gradient in buffer `sqrAvg` (fastai's `average_sqr_grad`):
 * `sqrAvg = sqrMom * sqrAvg + (dampening ? 1 - sqrMom : 1) * g^2`.
 * @param dampening - Scale the new squared gradient by `1 - sqrMom`.
 * @returns The step.
 * @example
 * ```ts
 * const steps = [tsf.averageGrad(true), tsf.averageSqrGrad(true), tsf.adamStep];
 * ```
 */
export function averageSqrGrad(dampening: boolean): OptimizerStep<'sqrMom'> {
  return {
    name: dampening ? 'averageSqrGrad(dampening)' : 'averageSqrGrad',
    hypers: ['sqrMom'],
    buffers: ['sqrAvg'],
    apply(ctx) {
      const { sqrMom } = ctx.hypers;
      const avg = buffer(ctx, 'sqrAvg');
      const g2 = dampening ? ctx.g.square().mul(ctx.scalar(1 - sqrMom)) : ctx.g.square();
      avg.assign(avg.mul(ctx.scalar(sqrMom)).add(g2));
    },
  };
}

/**
 * Plain gradient step (fastai's `sgd_step`): `w -= lr * g`.
 * @example
 * ```ts
 * new tsf.Optimizer([params], { lr: 0.1, wd: 0 }, [tsf.weightDecay, tsf.sgdStep]);
 * ```
 */
export const sgdStep: OptimizerStep<'lr'> = {
  name: 'sgdStep',
  hypers: ['lr'],
  buffers: [],
  apply(ctx) {
    ctx.w = ctx.w.sub(ctx.g.mul(ctx.scalar(ctx.hypers.lr)));
  },
};

/**
 * fastai's `momentum_step`: `w -= lr * gradAvg`, after {@link averageGrad} without dampening
 * (so `gradAvg = mom * gradAvg + g`, PyTorch's SGD momentum; with `mom` 0, which a scheduler
 * may set at any batch, `gradAvg` is `g` and this is the plain step).
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(false), tsf.momentumStep];
 * new tsf.Optimizer([params], { lr: 0.1, mom: 0.9, wd: 0 }, steps);
 * ```
 */
export const momentumStep: OptimizerStep<'lr'> = {
  name: 'momentumStep',
  hypers: ['lr'],
  buffers: ['gradAvg'],
  apply(ctx) {
    ctx.w = ctx.w.sub(buffer(ctx, 'gradAvg').mul(ctx.scalar(ctx.hypers.lr)));
  },
};

/**
 * fastai's `adam_step`: `w -= lr / debias1 * gradAvg / (sqrt(sqrAvg / debias2) + eps)`, after
 * {@link averageGrad} and {@link averageSqrGrad} with dampening.
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(true), tsf.averageSqrGrad(true), tsf.adamStep];
 * ```
 */
export const adamStep: OptimizerStep<'lr' | 'mom' | 'sqrMom' | 'eps'> = {
  name: 'adamStep',
  hypers: ['lr', 'mom', 'sqrMom', 'eps'],
  buffers: ['gradAvg', 'sqrAvg'],
  apply(ctx) {
    const { lr, mom, sqrMom, eps } = ctx.hypers;
    const { step } = ctx.state;
    // (m / d1) / (sqrt(v / d2) + eps) written as m * (lr sqrt(d2) / d1) / (sqrt(v) + eps sqrt(d2)):
    // the same value with one op less per parameter.
    const sd2 = Math.sqrt(debias(sqrMom, 1 - sqrMom, step));
    const d1 = debias(mom, 1 - mom, step);
    const m = buffer(ctx, 'gradAvg');
    const v = buffer(ctx, 'sqrAvg');
    ctx.w = ctx.w.sub(m.mul(ctx.scalar((lr * sd2) / d1)).div(v.sqrt().add(ctx.scalar(eps * sd2))));
  },
};

/**
 * fastai's `rms_prop_step`: `w -= lr * gradAvg / (sqrt(sqrAvg) + eps)`, after
 * {@link averageGrad} without dampening (`gradAvg` is `g` when `mom` is 0) and
 * {@link averageSqrGrad} with dampening: PyTorch's `RMSprop`, `alpha` = `sqrMom`.
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(false), tsf.averageSqrGrad(true), tsf.rmsPropStep];
 * ```
 */
export const rmsPropStep: OptimizerStep<'lr' | 'eps'> = {
  name: 'rmsPropStep',
  hypers: ['lr', 'eps'],
  buffers: ['gradAvg', 'sqrAvg'],
  apply(ctx) {
    const { lr, eps } = ctx.hypers;
    const den = buffer(ctx, 'sqrAvg').sqrt().add(ctx.scalar(eps));
    ctx.w = ctx.w.sub(buffer(ctx, 'gradAvg').div(den).mul(ctx.scalar(lr)));
  },
};

/** The debiased Adam direction `(gradAvg / debias1) / (sqrt(sqrAvg / debias2) + eps)`. */
function adamDirection(ctx: StepContext<'mom' | 'sqrMom' | 'eps'>): tf.Tensor {
  const { mom, sqrMom, eps } = ctx.hypers;
  const { step } = ctx.state;
  const d1 = debias(mom, 1 - mom, step);
  const d2 = debias(sqrMom, 1 - sqrMom, step);
  return buffer(ctx, 'gradAvg')
    .div(ctx.scalar(d1))
    .div(buffer(ctx, 'sqrAvg').div(ctx.scalar(d2)).sqrt().add(ctx.scalar(eps)));
}

/**
 * fastai's `lamb_step`: the Adam direction `s` scaled by the trust ratio
 * `q = min(rms(w) / rms(s), 10)` (1 when either is 0): `w -= lr * q * s`.
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(true), tsf.averageSqrGrad(true), tsf.lambStep];
 * ```
 */
export const lambStep: OptimizerStep<'lr' | 'mom' | 'sqrMom' | 'eps'> = {
  name: 'lambStep',
  hypers: ['lr', 'mom', 'sqrMom', 'eps'],
  buffers: ['gradAvg', 'sqrAvg'],
  apply(ctx) {
    const s = adamDirection(ctx);
    const r1 = ctx.w.square().mean().sqrt();
    const r2 = s.square().mean().sqrt();
    const zero = tf.logicalOr(r1.equal(0), r2.equal(0));
    const q = tf.where(zero, tf.onesLike(r1), tf.minimum(r1.div(r2), 10));
    ctx.w = ctx.w.sub(s.mul(q).mul(ctx.scalar(ctx.hypers.lr)));
  },
};

/**
 * fastai's `radam_step` (rectified Adam): while the variance of the adaptive rate is not
 * tractable (`r <= 5`, the first few steps) a momentum step `w -= lr / debias1 * gradAvg`;
 * after, the Adam step scaled by the rectification `v`. `beta` > 0 passes the denominator
 * through `softplus(beta)` (fastai's option).
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(true), tsf.averageSqrGrad(true), tsf.radamStep];
 * ```
 */
export const radamStep: OptimizerStep<'lr' | 'mom' | 'sqrMom' | 'eps' | 'beta'> = {
  name: 'radamStep',
  hypers: ['lr', 'mom', 'sqrMom', 'eps', 'beta'],
  buffers: ['gradAvg', 'sqrAvg'],
  apply(ctx) {
    const { lr, mom, sqrMom, eps, beta } = ctx.hypers;
    const { step } = ctx.state;
    const d1 = debias(mom, 1 - mom, step);
    const d2 = debias(sqrMom, 1 - sqrMom, step);
    const rInf = 2 / (1 - sqrMom) - 1;
    const r = rInf - (2 * step * sqrMom ** step) / (1 - sqrMom ** step);
    const m = buffer(ctx, 'gradAvg');
    if (r <= 5) {
      ctx.w = ctx.w.sub(m.mul(ctx.scalar(lr / d1)));
      return;
    }
    const v = Math.sqrt(((r - 4) * (r - 2) * rInf) / ((rInf - 4) * (rInf - 2) * r));
    let denom = buffer(ctx, 'sqrAvg').div(ctx.scalar(d2)).sqrt();
    if (eps !== 0) denom = denom.add(ctx.scalar(eps));
    if (beta !== 0) denom = denom.mul(ctx.scalar(beta)).softplus().div(ctx.scalar(beta));
    ctx.w = ctx.w.sub(m.div(denom).mul(ctx.scalar((lr * v) / d1)));
  },
};

/**
 * fastai's `qhadam_step` (quasi-hyperbolic Adam): the numerator mixes the gradient and its
 * debiased average by `nu1`, the denominator the squared gradient and its debiased average by
 * `nu2`: `w -= lr * ((1-nu1) g + nu1 gradAvg/debias1) / (sqrt((1-nu2) g^2 + nu2 sqrAvg/debias2) + eps)`.
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(true), tsf.averageSqrGrad(true), tsf.qhadamStep];
 * ```
 */
export const qhadamStep: OptimizerStep<'lr' | 'mom' | 'sqrMom' | 'eps' | 'nu1' | 'nu2'> = {
  name: 'qhadamStep',
  hypers: ['lr', 'mom', 'sqrMom', 'eps', 'nu1', 'nu2'],
  buffers: ['gradAvg', 'sqrAvg'],
  apply(ctx) {
    const { lr, mom, sqrMom, eps, nu1, nu2 } = ctx.hypers;
    const { step } = ctx.state;
    const c = (v: number) => ctx.scalar(v);
    const d1 = debias(mom, 1 - mom, step);
    const d2 = debias(sqrMom, 1 - sqrMom, step);
    const num = ctx.g.mul(c(1 - nu1)).add(buffer(ctx, 'gradAvg').mul(c(nu1 / d1)));
    const den = ctx.g
      .square()
      .mul(c(1 - nu2))
      .add(buffer(ctx, 'sqrAvg').mul(c(nu2 / d2)))
      .sqrt()
      .add(c(eps));
    ctx.w = ctx.w.sub(num.div(den).mul(c(lr)));
  },
};

/**
 * fastai's `larc_layer_lr` + `larc_step` (layer-wise adaptive rate control): each parameter's
 * own rate `localLr = lr * trustCoeff * |w| / (|g| + |w| * wd + eps)`, capped at `lr` when
 * `clip`; then `w -= localLr * gradAvg`, after {@link averageGrad} without dampening
 * (`gradAvg` is `g` when `mom` is 0).
 * @param clip - Cap the local rate at `lr` (LARC) rather than use it as is (LARS).
 * @returns The step.
 * @example
 * ```ts
 * const steps = [tsf.weightDecay, tsf.averageGrad(false), tsf.larcStep(true)];
 * ```
 */
export function larcStep(clip: boolean): OptimizerStep<'lr' | 'wd' | 'eps' | 'trustCoeff'> {
  return {
    name: clip ? 'larcStep(clip)' : 'larcStep',
    hypers: ['lr', 'wd', 'eps', 'trustCoeff'],
    buffers: ['gradAvg'],
    apply(ctx) {
      const { lr, wd, eps, trustCoeff } = ctx.hypers;
      const pNorm = ctx.w.norm();
      const gNorm = ctx.g.norm();
      let localLr: tf.Tensor = pNorm
        .mul(ctx.scalar(lr * trustCoeff))
        .div(gNorm.add(pNorm.mul(ctx.scalar(wd))).add(ctx.scalar(eps)));
      if (clip) localLr = tf.minimum(localLr, ctx.scalar(lr));
      ctx.w = ctx.w.sub(buffer(ctx, 'gradAvg').mul(localLr));
    },
  };
}
