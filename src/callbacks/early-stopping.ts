/**
 * EarlyStopping: stop when the monitored value stops improving.
 */
import { CancelFit } from '../learner/cancel.js';
import type { EventContext } from '../learner/events.js';
import { TrackerCallback, type TrackerOptions } from './tracker.js';

/**
 * Options of {@link EarlyStopping}.
 * @example
 * ```ts
 * const options: tsf.EarlyStoppingOptions = { monitor: 'valid_loss', patience: 2 };
 * await learn.fit(20, 1e-3, { cbs: [new tsf.EarlyStopping(options)] });
 * ```
 */
export interface EarlyStoppingOptions extends TrackerOptions {
  /**
   * Epochs without improvement before stopping.
   * @defaultValue 1
   */
  patience?: number;
}

/**
 * Stops training after `patience` epochs without improvement (fastai's
 * `EarlyStoppingCallback`).
 * @example
 * ```ts
 * await learn.fit(20, 1e-3, { cbs: [new tsf.EarlyStopping({ monitor: 'accuracy', patience: 3 })] });
 * ```
 */
export class EarlyStopping extends TrackerCallback {
  /** Name. */
  readonly name = 'earlyStopping';
  /** After SaveModel and ReduceLROnPlateau. */
  override readonly order = 63;
  /** Patience. */
  readonly patience: number;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epoch at which training was stopped, if it was. */
  stoppedEpoch: number | undefined;

  /** @param options - See {@link EarlyStoppingOptions}. */
  constructor(options: EarlyStoppingOptions = {}) {
    const { patience, ...rest } = options;
    super(rest, []);
    this.patience = patience ?? 1;
  }

  /** Resets the wait. */
  override beforeFit(ctx: EventContext): void {
    super.beforeFit(ctx);
    this.wait = 0;
    this.stoppedEpoch = undefined;
  }

  /** Stops after `patience` epochs without a new best. */
  override afterEpoch(ctx: EventContext): void {
    super.afterEpoch(ctx);
    if (this.newBest) {
      this.wait = 0;
      return;
    }
    this.wait += 1;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = ctx.epoch;
      ctx.learn.logger(`No improvement since epoch ${ctx.epoch - this.wait}: early stopping`);
      throw new CancelFit('early stopping');
    }
  }
}
