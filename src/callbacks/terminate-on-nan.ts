/**
 * TerminateOnNaN: end training quietly when the loss is NaN or infinite.
 */
import { CancelFit } from '../learner/cancel.js';
import type { Callback, EventContext } from '../learner/events.js';

/**
 * Cancels the fit (instead of the learner's `NAN_LOSS` error) when a training loss is NaN or
 * infinite, and says so through the logger (fastai's `TerminateOnNaNCallback`). A batch a
 * callback cancelled before its loss was computed has no loss and is not checked. A
 * non-finite validation loss is reported by the Learner itself, through its logger.
 * @example
 * ```ts
 * await learn.fit(5, 1e-1, { cbs: [new tsf.TerminateOnNaN()] });
 * ```
 */
export class TerminateOnNaN implements Callback {
  /** Name. */
  readonly name = 'terminateOnNaN';
  /** Early, right after TrainEval. */
  readonly order = -9;
  /** Training batches only. */
  readonly runOn = 'train';
  /** Whether the last fit was terminated. */
  terminated = false;

  /** Resets the flag. */
  beforeFit(): void {
    this.terminated = false;
  }

  /** Cancels the fit on a non-finite loss. */
  afterBatch({ learn, loss, epoch, iter }: EventContext): void {
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.terminated = true;
      learn.logger(`Loss is ${loss} at epoch ${epoch}, batch ${iter}: terminating training.`);
      throw new CancelFit('non-finite loss');
    }
  }
}
