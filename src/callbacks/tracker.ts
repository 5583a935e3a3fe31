/**
 * The base of the trackers: watch one column of the Recorder's table and say whether the
 * epoch improved it.
 */
import { checkOptionKeys, ValueError } from '../core/errors.js';
import type { Callback, EventContext } from '../learner/events.js';

/**
 * Options shared by the trackers.
 * @example
 * ```ts
 * const options: tsf.TrackerOptions = { monitor: 'accuracy', mode: 'max', minDelta: 1e-3 };
 * const saver = new tsf.SaveModel({ ...options, fname: 'best-accuracy' });
 * ```
 */
export interface TrackerOptions {
  /**
   * Column of the Recorder's table to watch.
   * @defaultValue 'valid_loss'
   */
  monitor?: string;
  /**
   * Whether lower or higher is better.
   * @defaultValue 'min' when the name contains "loss" or "error", else 'max'
   */
  mode?: 'min' | 'max';
  /**
   * Minimum change that counts as an improvement.
   * @defaultValue 0
   */
  minDelta?: number;
  /**
   * Forget the best value at the start of each fit.
   * @defaultValue true
   */
  resetOnFit?: boolean;
}

/**
 * Option keys of {@link TrackerOptions}, for subclasses that check their own options.
 * @example
 * ```ts
 * const options: tsf.TrackerOptions & { patience?: number } = { patience: 3 };
 * tsf.checkOptionKeys('MyTracker', options, [...TRACKER_KEYS, 'patience']);
 * ```
 */
export const TRACKER_KEYS = ['monitor', 'mode', 'minDelta', 'resetOnFit'] as const;

/**
 * Tracks the best value of a monitored column (fastai's `TrackerCallback`).
 * @example
 * ```ts
 * class Announce extends tsf.TrackerCallback {
 *   readonly name = 'announce';
 *   override afterEpoch(ctx: tsf.EventContext) { super.afterEpoch(ctx); if (this.newBest) console.log('best!'); }
 * }
 * ```
 */
export abstract class TrackerCallback implements Callback {
  /** Name. */
  abstract readonly name: string;
  /** After the Recorder. */
  readonly order: number = 60;
  /** Column watched. */
  readonly monitor: string;
  /** Lower or higher is better. */
  readonly mode: 'min' | 'max';
  /** Minimum improvement. */
  readonly minDelta: number;
  /** Reset the best on each fit. */
  readonly resetOnFit: boolean;
  /** Best value so far. */
  best: number | undefined;
  /** Whether the last epoch set a new best. */
  newBest = false;
  private idx = -1;

  /** @param options - See {@link TrackerOptions}. */
  constructor(options: TrackerOptions = {}, extraKeys: readonly string[] = []) {
    checkOptionKeys(new.target.name, options, [...TRACKER_KEYS, ...extraKeys]);
    this.monitor = options.monitor ?? 'valid_loss';
    this.mode = options.mode ?? (/loss|error/.test(this.monitor) ? 'min' : 'max');
    this.minDelta = options.minDelta ?? 0;
    this.resetOnFit = options.resetOnFit ?? true;
  }

  /** Finds the column; resets the best. */
  beforeFit({ learn }: EventContext): void {
    if (this.resetOnFit || this.best === undefined) {
      this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    }
    const names = learn.recorder.metricNames.slice(1, -1);
    this.idx = names.indexOf(this.monitor);
    if (this.idx < 0) {
      throw new ValueError(
        `${this.constructor.name}: cannot monitor "${this.monitor}". Available: ${names.join(', ')}.`,
      );
    }
  }

  /** Compares the epoch's value with the best. */
  afterEpoch({ learn }: EventContext): void {
    const val = learn.recorder.values.at(-1)?.[this.idx] ?? Number.NaN;
    const best = this.best as number;
    const better = this.mode === 'min' ? val + this.minDelta < best : val - this.minDelta > best;
    this.newBest = Number.isFinite(val) && better;
    if (this.newBest) this.best = val;
  }
}
