/**
 * The Learner seen from its callbacks: the live context each hook receives, callbacks and
 * output changed for the length of one call, and the plan of who runs at which event.
 */
import { Progress } from '../callbacks/progress.js';
import type { CallbackList } from './callback-list.js';
import { type Callback, EVENTS, type EventContext, type EventName } from './events.js';
import type { Learner } from './learner.js';

/**
 * The context of one event: its fields read the learner's live state, so a hook sees what
 * earlier hooks of the same event changed (e.g. TrainEval's `trainIter`).
 * @param learn - The learner.
 * @param event - The event.
 * @returns The context passed to every hook of `event`.
 * @example
 * ```ts
 * const ctx = eventContext(learn, 'beforeFit');
 * ctx.event; // 'beforeFit'
 * ```
 */
export function eventContext(learn: Learner, event: EventName): EventContext {
  return {
    learn,
    event,
    get epoch() {
      return learn.epoch;
    },
    get nEpoch() {
      return learn.nEpoch;
    },
    get iter() {
      return learn.iter;
    },
    get nIter() {
      return learn.nIter;
    },
    get trainIter() {
      return learn.trainIter;
    },
    get pctTrain() {
      return learn.pctTrain;
    },
    get training() {
      return learn.training;
    },
    get loss() {
      return learn.loss;
    },
  };
}

/**
 * Runs `fn` with extra callbacks, then removes those it added (fastai's `added_cbs`); one
 * already on the learner stays after.
 * @param learn - The learner.
 * @param cbs - Callbacks to add.
 * @param fn - The work.
 * @returns What `fn` returns.
 * @example
 * ```ts
 * await withCallbacks(learn, [new tsf.GradientClip()], () => learn.fit(1));
 * ```
 */
export async function withCallbacks<T>(
  learn: Learner,
  cbs: readonly Callback[],
  fn: () => Promise<T>,
): Promise<T> {
  const added = cbs.filter((cb) => !learn.cbs.list.includes(cb));
  learn.addCbs(added);
  try {
    return await fn();
  } finally {
    learn.removeCbs(added);
  }
}

/**
 * Runs `fn` with the logger silenced and `quiet` set, then restores both (fastai's
 * `no_logging`).
 * @param learn - The learner.
 * @param fn - The work.
 * @returns What `fn` returns.
 * @example
 * ```ts
 * await withoutLogging(learn, () => learn.fit(1));
 * ```
 */
export async function withoutLogging<T>(learn: Learner, fn: () => Promise<T>): Promise<T> {
  const [logger, quiet] = [learn.logger, learn.quiet];
  learn.logger = () => {};
  learn.quiet = true;
  try {
    return await fn();
  } finally {
    learn.logger = logger;
    learn.quiet = quiet;
  }
}

/**
 * Runs `fn` with the Progress bar hidden (the table is still written), then restores it.
 * @param learn - The learner.
 * @param fn - The work.
 * @returns What `fn` returns.
 * @example
 * ```ts
 * await withoutBar(learn, () => learn.fit(1));
 * ```
 */
export async function withoutBar<T>(learn: Learner, fn: () => Promise<T>): Promise<T> {
  const progress = learn.cbs.get(Progress);
  if (progress === undefined) return fn();
  const show = progress.showBar;
  progress.showBar = false;
  try {
    return await fn();
  } finally {
    progress.showBar = show;
  }
}

/**
 * The plan of the loop: each event indented by its stage, with the callbacks that run
 * there, in order.
 * @param cbs - The learner's callbacks.
 * @returns One line per event.
 * @example
 * ```ts
 * console.log(trainingLoopPlan(learn.cbs));
 * ```
 */
export function trainingLoopPlan(cbs: CallbackList): string {
  const indent: Record<string, number> = { Fit: 0, Epoch: 1, Train: 2, Validate: 2, Batch: 3 };
  // afterCreate runs once, outside fit; the backward/step cancellations sit inside a batch.
  const outsidePlan: readonly EventName[] = [
    'afterCreate',
    'afterCancelBackward',
    'afterCancelStep',
  ];
  const lines: string[] = [];
  for (const event of EVENTS.filter((e) => !outsidePlan.includes(e))) {
    const stage = event.replace(/^(before|afterCancel|after)/, '');
    const depth = indent[stage] ?? 4;
    const names = cbs.list.filter((cb) => cb[event] !== undefined).map((cb) => cb.name);
    lines.push(`${'  '.repeat(depth)}${event}: ${names.length ? names.join(', ') : '-'}`);
  }
  return lines.join('\n');
}
