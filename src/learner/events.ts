/**
 * The grammar of the training loop: every event, in the order fastai runs them, the typed
 * callback shape, and the one generic runner that dispatches an event to the callbacks.
 */
import { CallbackError } from '../core/errors.js';
import { CancelException } from './cancel.js';
import type { Learner } from './learner.js';

/**
 * Every event of the loop, in fastai's order. `afterPred`, `afterLoss` and `beforeBackward`
 * run inside the gradient tape and must be synchronous; every other hook may be async.
 * @example
 * ```ts
 * const trace: tsf.Callback = {
 *   name: 'trace',
 *   ...Object.fromEntries(tsf.EVENTS.map((e) => [e, () => console.log(e)])),
 * };
 * ```
 */
export const EVENTS = [
  'afterCreate',
  'beforeFit',
  'beforeEpoch',
  'beforeTrain',
  'beforeBatch',
  'afterPred',
  'afterLoss',
  'beforeBackward',
  'afterCancelBackward',
  'afterBackward',
  'beforeStep',
  'afterCancelStep',
  'afterStep',
  'afterCancelBatch',
  'afterBatch',
  'afterCancelTrain',
  'afterTrain',
  'beforeValidate',
  'afterCancelValidate',
  'afterValidate',
  'afterCancelEpoch',
  'afterEpoch',
  'afterCancelFit',
  'afterFit',
] as const;

/**
 * Name of one loop event.
 * @example
 * ```ts
 * const event: tsf.EventName = 'afterEpoch';
 * const log: tsf.Callback = { name: 'log', [event]: (ctx: tsf.EventContext) => console.log(ctx.epoch) };
 * ```
 */
export type EventName = (typeof EVENTS)[number];

/**
 * Events that run inside the gradient tape: their hooks must not return a promise.
 * @example
 * ```ts
 * SYNC_EVENTS.includes('afterLoss'); // true: an afterLoss hook must be synchronous
 * ```
 */
export const SYNC_EVENTS: readonly EventName[] = [
  'afterCreate',
  'afterPred',
  'afterLoss',
  'beforeBackward',
];

/**
 * What every hook receives: the learner and where the loop is (read live from the learner).
 * @example
 * ```ts
 * const cb: tsf.Callback = {
 *   name: 'logBatch',
 *   afterBatch: ({ epoch, iter, training, loss }: tsf.EventContext) => {
 *     if (training && loss !== undefined) console.log(epoch, iter, loss);
 *   },
 * };
 * ```
 */
export interface EventContext {
  /** The learner running the loop. */
  readonly learn: Learner;
  /** The event being dispatched. */
  readonly event: EventName;
  /** Current epoch, from 0. */
  readonly epoch: number;
  /** Epochs of this `fit`. */
  readonly nEpoch: number;
  /** Batch index within the current phase (train or validation). */
  readonly iter: number;
  /** Batches in the current phase. */
  readonly nIter: number;
  /** Training batches done since `beforeFit`. */
  readonly trainIter: number;
  /** Fraction of training done, in [0, 1]: what schedules are functions of. */
  readonly pctTrain: number;
  /** Whether the current phase is training. */
  readonly training: boolean;
  /**
   * Loss of the current batch as a number, from `afterLoss` on (NaN or infinite when the
   * model diverged); `undefined` before `afterLoss`, and when the batch was cancelled
   * before its loss was computed.
   */
  readonly loss: number | undefined;
}

/**
 * A hook: called with the context, may be async (except the in-tape events).
 * @example
 * ```ts
 * const logEpoch: tsf.Hook = ({ epoch }) => console.log('epoch', epoch);
 * await learn.fit(1, 1e-3, { cbs: [{ name: 'log', afterEpoch: logEpoch }] });
 * ```
 */
export type Hook = (ctx: EventContext) => void | Promise<void>;

/**
 * One optional hook per event, each documented with when it runs. The compile-time check
 * below keeps this list equal to {@link EVENTS}, so a misspelt hook name fails to compile.
 * @example
 * ```ts
 * const hooks: tsf.Hooks = { beforeFit: () => console.log('start'), afterFit: () => console.log('done') };
 * await learn.fit(1, 1e-3, { cbs: [{ name: 'log', ...hooks }] });
 * ```
 */
export interface Hooks {
  /** Once, when the callback is added to a learner (synchronous). */
  afterCreate?: Hook;
  /** Before the first epoch of a `fit`. */
  beforeFit?: Hook;
  /** Before each epoch. */
  beforeEpoch?: Hook;
  /** Before the training phase of an epoch (the model in training mode). */
  beforeTrain?: Hook;
  /** Before each batch, after it is loaded: `learn.xb`/`learn.yb` hold it and may be replaced. */
  beforeBatch?: Hook;
  /** After the forward pass, inside the gradient tape (synchronous): `learn.pred` holds the output. */
  afterPred?: Hook;
  /**
   * After the loss is computed, inside the tape (synchronous): `learn.lossTensor` holds it and
   * `ctx.loss` its value; throw `CancelBatch` here to skip the step (a NaN guard).
   */
  afterLoss?: Hook;
  /** Before gradients are taken, inside the tape (synchronous). */
  beforeBackward?: Hook;
  /** After a hook threw `CancelBackward`. */
  afterCancelBackward?: Hook;
  /** After gradients are computed: `learn.grads` holds them and may be replaced. */
  afterBackward?: Hook;
  /** Before the optimizer step. */
  beforeStep?: Hook;
  /** After a hook threw `CancelStep`: the step was skipped. */
  afterCancelStep?: Hook;
  /** After the optimizer step. */
  afterStep?: Hook;
  /** After a hook threw `CancelBatch`: the rest of the batch was skipped. */
  afterCancelBatch?: Hook;
  /** After each batch; `ctx.loss` holds its loss as a number (`undefined` if cancelled first). */
  afterBatch?: Hook;
  /** After a hook threw `CancelTrain`: the rest of the training phase was skipped. */
  afterCancelTrain?: Hook;
  /** After the training phase of an epoch. */
  afterTrain?: Hook;
  /** Before the validation phase (the model in inference mode). */
  beforeValidate?: Hook;
  /** After a hook threw `CancelValid`. */
  afterCancelValidate?: Hook;
  /** After the validation phase; metrics for the epoch are computed. */
  afterValidate?: Hook;
  /** After a hook threw `CancelEpoch`. */
  afterCancelEpoch?: Hook;
  /** After each epoch: the Recorder has the epoch's losses and metrics. */
  afterEpoch?: Hook;
  /** After a hook threw `CancelFit`: training stopped early. */
  afterCancelFit?: Hook;
  /** After the last epoch (also after a cancelled fit). */
  afterFit?: Hook;
}

// Fails to compile if Hooks and EVENTS ever disagree.
type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : never;
const hooksMatchEvents: SameKeys<keyof Hooks, EventName> = true;
void hooksMatchEvents;

/**
 * A callback: a name, optional order and phase filter, and hooks for the events it needs.
 * A plain object works; classes implement it.
 *
 * @example
 * ```ts
 * const printer: tsf.Callback = {
 *   name: 'printer',
 *   afterEpoch: ({ epoch, learn }) => console.log(epoch, learn.recorder.values.at(-1)),
 * };
 * await learn.fit(1, 1e-3, { cbs: [printer] });
 * ```
 */
export interface Callback extends Hooks {
  /** Name shown by `showTrainingLoop` and in errors; `learn.cbs.get(name)` finds it. */
  readonly name: string;
  /**
   * Callbacks run in increasing `order` (ties keep insertion order): TrainEval -10,
   * Recorder 50, ParamScheduler and Progress 60.
   * @defaultValue 0
   */
  readonly order?: number;
  /**
   * Phases during which the batch-level hooks (`beforeBatch` ... `afterBatch`) run; fit-,
   * epoch- and phase-level hooks always run.
   * @defaultValue 'both'
   */
  readonly runOn?: 'train' | 'valid' | 'both';
}

/**
 * Dispatches `event` to `cbs` (already sorted by order) and awaits each hook in turn; missing
 * hooks are skipped, callbacks filtered out by `runOn` are skipped.
 *
 * @param cbs - Callbacks in run order.
 * @param event - The event.
 * @param ctx - The context passed to each hook.
 * @returns Nothing once every hook has run.
 * @throws The {@link CancelException} a hook throws, unchanged; any other failure as a
 *   {@link CallbackError} naming the callback and the event.
 * @example
 * ```ts
 * const inner: tsf.Callback[] = [{ name: 'hello', beforeFit: () => console.log('fit starts') }];
 * const relay: tsf.Callback = { name: 'relay', beforeFit: (ctx) => runEvent(inner, 'beforeFit', ctx) };
 * await learn.fit(1, 1e-3, { cbs: [relay] });
 * ```
 */
export async function runEvent(
  cbs: readonly Callback[],
  event: EventName,
  ctx: EventContext,
): Promise<void> {
  for (const cb of cbs) {
    const hook = cb[event];
    if (hook === undefined || !runsNow(cb, ctx.training, event)) continue;
    try {
      await hook.call(cb, ctx);
    } catch (err) {
      throw wrapError(cb, event, err);
    }
  }
}

/**
 * Synchronous dispatch for the events that run inside the gradient tape (`afterPred`,
 * `afterLoss`, `beforeBackward`) and for `afterCreate`.
 *
 * @param cbs - Callbacks in run order.
 * @param event - The event.
 * @param ctx - The context passed to each hook.
 * @throws {@link CallbackError} if a hook returns a promise (it cannot be awaited inside the
 *   tape), or wraps its failure; {@link CancelException}s pass through.
 * @example
 * ```ts
 * const inner: tsf.Callback[] = [{ name: 'hello', afterPred: () => console.log('a prediction') }];
 * const relay: tsf.Callback = { name: 'relay', afterPred: (ctx) => runEventSync(inner, 'afterPred', ctx) };
 * await learn.fit(1, 1e-3, { cbs: [relay] });
 * ```
 */
export function runEventSync(cbs: readonly Callback[], event: EventName, ctx: EventContext): void {
  for (const cb of cbs) {
    const hook = cb[event];
    if (hook === undefined || !runsNow(cb, ctx.training, event)) continue;
    let result: unknown;
    try {
      result = hook.call(cb, ctx);
    } catch (err) {
      throw wrapError(cb, event, err);
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      throw new CallbackError(
        `Callback "${cb.name}" returned a promise from "${event}", which runs inside the ` +
          'gradient tape and must be synchronous; move the async work to "beforeBatch" or "afterBatch".',
      );
    }
  }
}

// fastai's `_inner_loop`: only batch-level events are filtered by `runOn`.
const INNER_LOOP: ReadonlySet<EventName> = new Set<EventName>([
  'beforeBatch',
  'afterPred',
  'afterLoss',
  'beforeBackward',
  'afterCancelBackward',
  'afterBackward',
  'beforeStep',
  'afterCancelStep',
  'afterStep',
  'afterCancelBatch',
  'afterBatch',
]);

function runsNow(cb: Callback, training: boolean, event: EventName): boolean {
  const runOn = cb.runOn ?? 'both';
  if (runOn === 'both' || !INNER_LOOP.has(event)) return true;
  return runOn === 'train' ? training : !training;
}

function wrapError(cb: Callback, event: EventName, err: unknown): Error {
  if (err instanceof CancelException) return err;
  if (err instanceof CallbackError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CallbackError(`Callback "${cb.name}" failed in "${event}": ${message}`, {
    cause: err,
  });
}
