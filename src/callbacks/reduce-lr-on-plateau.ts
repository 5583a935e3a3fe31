/**
 * ReduceLROnPlateau: divide the learning rate when the monitored value stalls.
 */
import type { EventContext } from '../learner/events.js';
import { TrackerCallback, type TrackerOptions } from './tracker.js';

/**
 * Options of {@link ReduceLROnPlateau}.
 * @example
 * ```ts
 * const cb = new tsf.ReduceLROnPlateau({ monitor: 'valid_loss', patience: 1, factor: 10, minLr: 1e-6 });
 * await learn.fit(10, 1e-3, { cbs: [cb] });
 * ```
 */
export interface ReduceLROnPlateauOptions extends TrackerOptions {
  /**
   * Epochs without improvement before reducing.
   * @defaultValue 1
   */
  patience?: number;
  /**
   * The learning rate is divided by this.
   * @defaultValue 10
   */
  factor?: number;
  /**
   * Lower bound of the learning rate.
   * @defaultValue 0
   */
  minLr?: number;
}

/**
 * Divides every group's learning rate by `factor` after `patience` epochs without
 * improvement (fastai's `ReduceLROnPlateau`).
 * @example
 * ```ts
 * await learn.fit(10, 1e-3, { cbs: [new tsf.ReduceLROnPlateau({ patience: 2 })] });
 * ```
 */
export class ReduceLROnPlateau extends TrackerCallback {
  /** Name. */
  readonly name = 'reduceLROnPlateau';
  /** Between SaveModel and EarlyStopping. */
  override readonly order = 62;
  /** Patience. */
  readonly patience: number;
  /** Division factor. */
  readonly factor: number;
  /** Lower bound. */
  readonly minLr: number;
  /** Epochs since the last improvement. */
  wait = 0;

  /** @param options - See {@link ReduceLROnPlateauOptions}. */
  constructor(options: ReduceLROnPlateauOptions = {}) {
    const { patience, factor, minLr, ...rest } = options;
    super(rest, []);
    this.patience = patience ?? 1;
    this.factor = factor ?? 10;
    this.minLr = minLr ?? 0;
  }

  /** Resets the wait. */
  override beforeFit(ctx: EventContext): void {
    super.beforeFit(ctx);
    this.wait = 0;
  }

  /** Reduces the learning rate after `patience` epochs without a new best. */
  override afterEpoch(ctx: EventContext): void {
    super.afterEpoch(ctx);
    if (this.newBest) {
      this.wait = 0;
      return;
    }
    this.wait += 1;
    if (this.wait < this.patience) return;
    const opt = ctx.learn.opt;
    const old = opt.getHyper('lr');
    opt.setHyper(
      'lr',
      old.map((lr) => Math.max(lr / this.factor, this.minLr)),
    );
    this.wait = 0;
    const now = opt.getHyper('lr').at(-1) as number;
    if (now < (old.at(-1) as number)) ctx.learn.logger(`Epoch ${ctx.epoch}: reducing lr to ${now}`);
  }
}
