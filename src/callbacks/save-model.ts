/**
 * SaveModel: keep the best weights and reload them at the end.
 */
import type { EventContext } from '../learner/events.js';
import { TrackerCallback, type TrackerOptions } from './tracker.js';

/**
 * Options of {@link SaveModel}.
 * @example
 * ```ts
 * const cb = new tsf.SaveModel({ monitor: 'accuracy', fname: 'best', withOpt: false });
 * await learn.fit(5, 1e-3, { cbs: [cb] }); // best epoch's weights are reloaded at the end
 * ```
 */
export interface SaveModelOptions extends TrackerOptions {
  /**
   * Checkpoint name (under `learn.path/learn.modelDir`).
   * @defaultValue 'model'
   */
  fname?: string;
  /**
   * Save every epoch as `fname_<epoch>` instead of the best only.
   * @defaultValue false
   */
  everyEpoch?: boolean;
  /**
   * Save at the end of training instead of reloading the best.
   * @defaultValue false
   */
  atEnd?: boolean;
  /**
   * Save and reload the optimizer state too.
   * @defaultValue false
   */
  withOpt?: boolean;
}

/**
 * Saves the model whenever the monitored value improves and reloads the best at the end
 * (fastai's `SaveModelCallback`).
 * @example
 * ```ts
 * await learn.fit(10, 1e-3, { cbs: [new tsf.SaveModel({ monitor: 'accuracy' })] });
 * ```
 */
export class SaveModel extends TrackerCallback {
  /** Name. */
  readonly name = 'saveModel';
  /** After the Recorder, before EarlyStopping. */
  override readonly order = 61;
  /** Checkpoint name. */
  readonly fname: string;
  /** Save every epoch. */
  readonly everyEpoch: boolean;
  /** Save at the end. */
  readonly atEnd: boolean;
  /** With optimizer state. */
  readonly withOpt: boolean;
  /** Epoch of the best checkpoint. */
  bestEpoch: number | undefined;

  /** @param options - See {@link SaveModelOptions}. */
  constructor(options: SaveModelOptions = {}) {
    const { fname, everyEpoch, atEnd, withOpt, ...rest } = options;
    super(rest, []);
    this.fname = fname ?? 'model';
    this.everyEpoch = everyEpoch ?? false;
    this.atEnd = atEnd ?? false;
    this.withOpt = withOpt ?? false;
  }

  /** Saves on improvement (or every epoch). */
  override async afterEpoch(ctx: EventContext): Promise<void> {
    if (this.everyEpoch) {
      await ctx.learn.save(`${this.fname}_${ctx.epoch}`, { withOpt: this.withOpt });
      return;
    }
    super.afterEpoch(ctx);
    if (this.newBest) {
      this.bestEpoch = ctx.epoch;
      ctx.learn.logger(
        `Better model found at epoch ${ctx.epoch} with ${this.monitor} value: ${this.best}.`,
      );
      await ctx.learn.save(this.fname, { withOpt: this.withOpt });
    }
  }

  /** Reloads the best (or saves the final model). */
  async afterFit({ learn }: EventContext): Promise<void> {
    if (this.atEnd) await learn.save(this.fname, { withOpt: this.withOpt });
    else if (!this.everyEpoch && this.bestEpoch !== undefined) {
      await learn.load(this.fname, { withOpt: this.withOpt });
    }
  }
}
