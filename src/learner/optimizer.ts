/**
 * The optimizer: parameter groups with public per-group hyper-parameters that schedulers
 * change every batch, a list of step functions that make each parameter's update (fastai's
 * design: Adam, SGD, RAdam... differ only in their lists), per-parameter state (allocated
 * lazily, on a parameter's first step with a gradient, so a frozen body costs no optimizer
 * memory), and state save/restore.
 */
import * as tf from '@tensorflow/tfjs';
import { invalidValue, ValueError } from '../core/errors.js';
import { expandHyper, type HyperValue } from './lr-range.js';
import type { OptimizerStep, StepContext } from './optimizer-steps.js';

/**
 * Hyper-parameters of one group, by name (`lr`, `mom`, `wd`, ...).
 * @example
 * ```ts
 * const head: tsf.Hypers = learn.opt.paramGroups.at(-1)!.hypers;
 * head.lr = 1e-3; // what a scheduler does every batch
 * ```
 */
export type Hypers = Record<string, number>;

/**
 * A set of parameters sharing hyper-parameters (e.g. a pretrained body, or the head).
 * @example
 * ```ts
 * for (const group of learn.opt.paramGroups) {
 *   const { params, hypers }: tsf.ParamGroup = group;
 *   console.log(params.length, hypers.lr);
 * }
 * ```
 */
export interface ParamGroup {
  /** The variables of the group. */
  readonly params: readonly tf.Variable[];
  /** The group's hyper-parameters: public and writable, as schedulers set them. */
  readonly hypers: Hypers;
}

/**
 * Per-parameter optimizer state: a step count and named buffers (moving averages).
 * @example
 * ```ts
 * const variable = learn.opt.paramGroups[0].params[0];
 * const state: tsf.ParamState | undefined = learn.opt.state.get(variable);
 * console.log(state?.step ?? 0); // undefined before the parameter's first step
 * ```
 */
export interface ParamState {
  /** Steps this parameter has taken. */
  step: number;
  /** Buffers, e.g. `gradAvg`, `sqrAvg`; the optimizer owns and disposes them. */
  readonly buffers: Record<string, tf.Variable>;
}

/**
 * Per-parameter flags the learner sets (fastai's `do_wd`, `force_train`).
 * @example
 * ```ts
 * const variable = learn.opt.paramGroups[0].params[0];
 * const flags: tsf.ParamFlags | undefined = learn.opt.flags.get(variable);
 * console.log(flags?.doWd, flags?.forceTrain);
 * ```
 */
export interface ParamFlags {
  /** Apply weight decay to this parameter (false for BatchNorm and bias unless `wdBnBias`). */
  doWd: boolean;
  /** Train this parameter even in a frozen group (BatchNorm when `trainBn`). */
  forceTrain: boolean;
}

/**
 * A snapshot of an optimizer: hypers, step counts and buffer values (cloned tensors).
 * @example
 * ```ts
 * const saved: tsf.OptimizerState = learn.opt.getState();
 * // ... train ...
 * learn.opt.setState(saved);
 * tf.dispose(Object.values(saved.tensors));
 * ```
 */
export interface OptimizerState {
  /** Hyper-parameters per group. */
  readonly hypers: Hypers[];
  /** Step count per parameter, in flattened group order (0: the parameter has no state). */
  readonly steps: number[];
  /**
   * Buffers named `<param index>/<buffer>`, for the parameters with state (a step count
   * above 0) only; the holder of the snapshot disposes them.
   */
  readonly tensors: tf.NamedTensorMap;
}

/**
 * Builds an optimizer over parameter groups: what `Learner`'s `optFunc` option takes.
 * @example
 * ```ts
 * const optFunc: tsf.OptimizerFactory = (groups, lr) => new tsf.SGD(groups, { lr, mom: 0.9 });
 * const learn = new tsf.Learner(dls, model, { optFunc });
 * ```
 */
export type OptimizerFactory = (
  groups: readonly (readonly tf.Variable[])[],
  lr: number,
) => Optimizer;

/**
 * An optimizer composed of step functions (fastai's `Optimizer(params, cbs, **defaults)`): for
 * each parameter with a gradient, the steps run in order over its new value and gradient. The
 * built-in optimizers ({@link Adam}, {@link SGD}, {@link RMSProp}, {@link Lamb}, {@link RAdam},
 * {@link QHAdam}, {@link Larc}) are subclasses that only choose their defaults and steps.
 *
 * @example
 * ```ts
 * // SGD with decoupled weight decay and momentum, written out
 * const opt = new tsf.Optimizer([params], { lr: 0.1, mom: 0.9, wd: 1e-4 }, [
 *   tsf.weightDecay,
 *   tsf.averageGrad(false),
 *   tsf.momentumStep,
 * ]);
 * ```
 */
export class Optimizer {
  /** Parameter groups, each with its own public hyper-parameters. */
  readonly paramGroups: ParamGroup[];
  /**
   * Per-parameter state, present only for parameters that have stepped: a parameter's
   * buffers are allocated (zeros) on its first step with a gradient, and {@link
   * Optimizer.clearState} frees them. A parameter without an entry has step 0 and zero
   * buffers.
   */
  readonly state = new Map<tf.Variable, ParamState>();
  /** Per-parameter flags (weight decay, force-train). */
  readonly flags = new Map<tf.Variable, ParamFlags>();
  /** The step functions each parameter's update runs, in order. */
  readonly steps: readonly OptimizerStep[];
  /** Names of the buffers each parameter keeps (those its steps declare). */
  readonly bufferNames: readonly string[];
  private readonly scalars = new Map<number, tf.Scalar>();
  private disposed = false;

  /**
   * @param groups - Variables per group.
   * @param defaults - Hyper-parameters every group starts with: every name a step reads.
   * @param steps - The update, in order.
   * @throws {@link ValueError} for no group, a non-finite default, or a step that reads a
   *   hyper-parameter missing from `defaults`.
   */
  constructor(
    groups: readonly (readonly tf.Variable[])[],
    defaults: Hypers,
    steps: readonly OptimizerStep[],
  ) {
    if (groups.length === 0) throw invalidValue('groups', 'at least one parameter group', groups);
    for (const [name, v] of Object.entries(defaults)) {
      if (!Number.isFinite(v)) throw invalidValue(name, 'a finite number', v);
    }
    for (const step of steps) {
      const missing = step.hypers.filter((name) => !(name in defaults));
      if (missing.length > 0) {
        throw new ValueError(
          `${this.constructor.name}: step \`${step.name}\` reads ${missing.map((m) => `\`${m}\``).join(', ')}, missing from the defaults (${Object.keys(defaults).join(', ')}). Add ${missing.length > 1 ? 'them' : 'it'} to the defaults.`,
        );
      }
    }
    this.steps = [...steps];
    this.bufferNames = [...new Set(steps.flatMap((step) => step.buffers))];
    this.paramGroups = groups.map((params) => ({ params: [...params], hypers: { ...defaults } }));
    for (const group of this.paramGroups) {
      for (const p of group.params) this.flags.set(p, { doWd: true, forceTrain: false });
    }
  }

  /** Names of the hyper-parameters this optimizer understands. */
  get hyperNames(): string[] {
    return Object.keys(this.paramGroups[0]?.hypers ?? {});
  }

  /**
   * Sets a hyper-parameter on every group: one value, one per group, or an `lrRange`.
   * @param name - e.g. `lr`, `mom`, `wd`.
   * @param value - The value(s).
   * @throws {@link ValueError} for an unknown name or a wrong number of values.
   * @example
   * ```ts
   * learn.opt.setHyper('lr', tsf.lrRange(1e-5, 1e-3));
   * ```
   */
  setHyper(name: string, value: HyperValue): void {
    if (!this.hyperNames.includes(name)) {
      throw new ValueError(
        `${this.constructor.name} has no hyper-parameter \`${name}\`. Valid: ${this.hyperNames.join(', ')}`,
      );
    }
    const values = expandHyper(value, this.paramGroups.length);
    this.paramGroups.forEach((g, i) => {
      g.hypers[name] = values[i] as number;
    });
  }

  /**
   * The value of a hyper-parameter in each group.
   * @param name - e.g. `lr`.
   * @returns One value per group.
   * @example
   * ```ts
   * learn.opt.getHyper('lr'); // [0.001]
   * ```
   */
  getHyper(name: string): number[] {
    return this.paramGroups.map((g) => g.hypers[name] as number);
  }

  /** Every parameter, in group order. */
  get allParams(): tf.Variable[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * Applies one update to every parameter that has a gradient in `grads` (others keep their
   * values and state; a parameter's state is allocated on its first update).
   * @param grads - Gradient per variable; the caller keeps ownership.
   * @throws {@link ValueError} if the optimizer was disposed.
   * @example
   * ```ts
   * const [w] = params; // a parameter of opt
   * const gradW = tf.onesLike(w);
   * opt.step(new Map([[w, gradW]]));
   * gradW.dispose();
   * ```
   */
  step(grads: ReadonlyMap<tf.Variable, tf.Tensor>): void {
    if (this.disposed) {
      throw new ValueError(
        `${this.constructor.name}.step: this optimizer was disposed (the learner replaces it on createOpt); step learn.opt instead.`,
      );
    }
    for (const group of this.paramGroups) {
      for (const p of group.params) if (grads.has(p)) this.stateOf(p);
    }
    this.scalars.clear();
    try {
      this.stepGroups(grads);
    } finally {
      tf.dispose([...this.scalars.values()]);
      this.scalars.clear();
    }
  }

  private stepGroups(grads: ReadonlyMap<tf.Variable, tf.Tensor>): void {
    tf.tidy(() => {
      for (const group of this.paramGroups) {
        const params: tf.Variable[] = [];
        const groupGrads: tf.Tensor[] = [];
        for (const p of group.params) {
          const g = grads.get(p);
          if (g === undefined) continue;
          (this.state.get(p) as ParamState).step += 1;
          params.push(p);
          groupGrads.push(g);
        }
        // One scope per parameter: its temporaries (about ten of its size) are freed before
        // the next parameter's, instead of all of them living until the step ends (for
        // ResNet-34 that held ~900 MB at once, more than the activations of a batch of 16).
        params.forEach((p, i) => {
          tf.tidy(() => {
            const state = this.state.get(p) as ParamState;
            const flags = this.flags.get(p) as ParamFlags;
            p.assign(this.update(p, groupGrads[i] as tf.Tensor, group.hypers, state, flags.doWd));
          });
        });
      }
    });
  }

  /**
   * A scalar tensor for `value`, shared by every parameter within one `step` (one upload per
   * distinct value and step instead of one per parameter and op); freed when the step ends.
   * Only valid inside {@link Optimizer.update} (steps reach it as `ctx.scalar`).
   * @param value - The number.
   * @returns A scalar tensor.
   */
  scalar(value: number): tf.Scalar {
    let t = this.scalars.get(value);
    if (t === undefined) {
      // Kept across the per-parameter scopes of `step`, which frees it at the end.
      t = tf.keep(tf.scalar(value));
      this.scalars.set(value, t);
    }
    return t;
  }

  /**
   * One parameter's new value: runs the steps in order (inside `tf.tidy`; the steps assign
   * buffers in place). Subclasses may override it for an update that steps cannot express.
   * @param p - Current value.
   * @param g - Gradient.
   * @param hypers - The group's hyper-parameters.
   * @param state - The parameter's state (`step` already incremented).
   * @param doWd - Whether weight decay applies to this parameter.
   * @returns The new value.
   * @throws {@link ValueError} when the optimizer has no steps.
   */
  update(
    p: tf.Variable,
    g: tf.Tensor,
    hypers: Hypers,
    state: ParamState,
    doWd: boolean,
  ): tf.Tensor {
    if (this.steps.length === 0) {
      throw new ValueError(
        `${this.constructor.name} has no steps: pass them to the Optimizer constructor (e.g. [tsf.weightDecay, tsf.sgdStep]) or override update().`,
      );
    }
    const ctx: StepContext = {
      param: p,
      w: p,
      g,
      hypers,
      state,
      doWd,
      scalar: (value) => this.scalar(value),
    };
    for (const step of this.steps) step.apply(ctx);
    return ctx.w;
  }

  /**
   * Resets every parameter to step 0 with zero buffers, by freeing its state (allocated
   * again on its next step).
   * @example
   * ```ts
   * learn.opt.clearState();
   * ```
   */
  clearState(): void {
    for (const p of [...this.state.keys()]) this.dropState(p);
  }

  /**
   * A snapshot of hypers, steps and buffers (cloned): the caller disposes `tensors`.
   * @returns The snapshot.
   * @example
   * ```ts
   * const saved = opt.getState(); opt.setState(saved); tf.dispose(saved.tensors);
   * ```
   */
  getState(): OptimizerState {
    const tensors: tf.NamedTensorMap = {};
    const steps: number[] = [];
    this.allParams.forEach((p, i) => {
      const state = this.state.get(p);
      steps.push(state?.step ?? 0);
      for (const [name, buf] of Object.entries(state?.buffers ?? {})) {
        tensors[`${i}/${name}`] = tf.clone(buf);
      }
    });
    return { hypers: this.paramGroups.map((g) => ({ ...g.hypers })), steps, tensors };
  }

  /**
   * Restores a snapshot from {@link Optimizer.getState} (values are copied; the caller keeps
   * ownership of `state.tensors`). Parameters at step 0 in the snapshot are left without
   * state (their buffers freed); the others get theirs, allocated if needed. The snapshot is
   * checked whole before anything changes.
   * @param state - The snapshot.
   * @throws {@link ValueError} if it does not match this optimizer's parameters (counts, a
   *   missing buffer or a buffer of the wrong shape).
   * @example
   * ```ts
   * const saved = opt.getState();
   * opt.setState(saved);
   * tf.dispose(Object.values(saved.tensors));
   * ```
   */
  setState(state: OptimizerState): void {
    const params = this.allParams;
    if (state.steps.length !== params.length || state.hypers.length !== this.paramGroups.length) {
      throw new ValueError(
        `Optimizer state has ${state.steps.length} parameters in ${state.hypers.length} groups; ` +
          `this optimizer has ${params.length} in ${this.paramGroups.length}. Save and load with the same model and splitter.`,
      );
    }
    params.forEach((p, i) => {
      const step = state.steps[i];
      if (!Number.isInteger(step) || (step as number) < 0) {
        throw new ValueError(
          `Optimizer state step of parameter ${i} is ${JSON.stringify(step)}; expected an integer >= 0.`,
        );
      }
      if (step === 0) return;
      for (const name of this.bufferNames) {
        const saved = state.tensors[`${i}/${name}`];
        if (saved === undefined || !tf.util.arraysEqual(saved.shape, p.shape)) {
          throw new ValueError(
            `Optimizer state buffer "${i}/${name}" is missing or has shape ${JSON.stringify(saved?.shape)}; expected ${JSON.stringify(p.shape)}.`,
          );
        }
      }
    });
    params.forEach((p, i) => {
      const step = state.steps[i] as number;
      if (step === 0) {
        this.dropState(p);
        return;
      }
      const own = this.stateOf(p);
      own.step = step;
      for (const [name, buf] of Object.entries(own.buffers)) {
        buf.assign(state.tensors[`${i}/${name}`] as tf.Tensor);
      }
    });
    state.hypers.forEach((h, i) => {
      Object.assign((this.paramGroups[i] as ParamGroup).hypers, h);
    });
  }

  /**
   * Frees every buffer. The optimizer cannot step afterwards.
   * @example
   * ```ts
   * learn.opt.dispose();
   * ```
   */
  dispose(): void {
    this.clearState();
    this.disposed = true;
  }

  /** A parameter's state, allocated (step 0, zero buffers) if it has none. */
  private stateOf(p: tf.Variable): ParamState {
    let state = this.state.get(p);
    if (state === undefined) {
      const buffers: Record<string, tf.Variable> = {};
      for (const name of this.bufferNames) {
        buffers[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      }
      state = { step: 0, buffers };
      this.state.set(p, state);
    }
    return state;
  }

  /** Frees a parameter's state (back to step 0, zero buffers). */
  private dropState(p: tf.Variable): void {
    const state = this.state.get(p);
    if (state === undefined) return;
    for (const buf of Object.values(state.buffers)) buf.dispose();
    this.state.delete(p);
  }
}
