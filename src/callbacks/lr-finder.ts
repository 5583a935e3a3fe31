/**
 * The LR range test (fastai's `lr_find`) and its suggestion functions.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { CancelFit, CancelValid } from '../learner/cancel.js';
import type { EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { type ChartMarker, lineChartSvg } from '../plot/line-chart.js';
import { writePng } from '../plot/render.js';
import { ParamScheduler, schedExp } from './schedule.js';

/**
 * A suggestion: the learning rate and the point `[lr, loss]` to mark on the plot.
 * @example
 * ```ts
 * const { lr, point }: tsf.Suggestion = tsf.valley(lrs, losses);
 * console.log(`valley at ${lr} (loss ${point[1]})`);
 * ```
 */
export interface Suggestion {
  /** Suggested learning rate. */
  readonly lr: number;
  /** Point on the curve to mark. */
  readonly point: readonly [number, number];
}

/**
 * A suggestion function over the recorded curve (fastai's `SuggestionMethod`).
 * @example
 * ```ts
 * const halfMinimum: tsf.SuggestFunc = (lrs, losses) => {
 *   const s = tsf.minimum(lrs, losses);
 *   return { ...s, lr: s.lr / 2 };
 * };
 * ```
 */
export type SuggestFunc = (
  lrs: readonly number[],
  losses: readonly number[],
  numIt: number,
) => Suggestion;

/**
 * fastai's `valley`: the longest decreasing run of the loss (longest decreasing
 * subsequence), index `start + floor(len/3) + floor(len/6)` of it.
 * @param lrs - Learning rates.
 * @param losses - Smoothed losses.
 * @returns The suggestion.
 * @example
 * ```ts
 * tsf.valley(lrs, losses).lr;
 * ```
 */
export function valley(lrs: readonly number[], losses: readonly number[]): Suggestion {
  const n = losses.length;
  let maxStart = 0;
  let maxEnd = 0;
  const lds = new Array<number>(n).fill(1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (
        (losses[i] as number) < (losses[j] as number) &&
        (lds[i] as number) < (lds[j] as number) + 1
      ) {
        lds[i] = (lds[j] as number) + 1;
      }
      if ((lds[maxEnd] as number) < (lds[i] as number)) {
        maxEnd = i;
        maxStart = maxEnd - (lds[maxEnd] as number);
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = maxStart + Math.trunc(sections) + Math.trunc(sections / 2);
  const at = pyIndex(idx, n);
  return { lr: lrs[at] as number, point: [lrs[at] as number, losses[at] as number] };
}

/**
 * fastai's `minimum`: a tenth of the LR at the minimum loss.
 * @param lrs - Learning rates.
 * @param losses - Smoothed losses.
 * @returns The suggestion (the point marks the minimum itself).
 * @example
 * ```ts
 * tsf.minimum(lrs, losses).lr;
 * ```
 */
export function minimum(lrs: readonly number[], losses: readonly number[]): Suggestion {
  const i = argMin(losses);
  const lr = lrs[i] as number;
  return { lr: lr / 10, point: [lr, losses[i] as number] };
}

/**
 * fastai's `steep`: the LR where the loss falls fastest against `log(lr)`.
 * @param lrs - Learning rates.
 * @param losses - Smoothed losses.
 * @returns The suggestion.
 * @example
 * ```ts
 * tsf.steep(lrs, losses).lr;
 * ```
 */
export function steep(lrs: readonly number[], losses: readonly number[]): Suggestion {
  const grads = losses
    .slice(1)
    .map(
      (l, i) =>
        (l - (losses[i] as number)) / (Math.log(lrs[i + 1] as number) - Math.log(lrs[i] as number)),
    );
  const i = argMin(grads);
  return { lr: lrs[i] as number, point: [lrs[i] as number, losses[i] as number] };
}

/**
 * fastai's `slide` (interval slide rule): walks left from the end until the loss gradient at
 * both ends of a window of `lrDiff` points differs by at most `thresh`.
 * @param lrs - Learning rates.
 * @param losses - Smoothed losses.
 * @param _numIt - Unused (same signature as the other suggestion functions).
 * @param lrDiff - Window width. Defaults to 15.
 * @param thresh - Gradient difference threshold. Defaults to 0.005.
 * @param adjustValue - Multiplier of the result. Defaults to 1.
 * @returns The suggestion.
 * @example
 * ```ts
 * tsf.slide(lrs, losses, 100).lr;
 * ```
 */
export function slide(
  lrs: readonly number[],
  losses: readonly number[],
  _numIt = 0,
  lrDiff = 15,
  thresh = 0.005,
  adjustValue = 1,
): Suggestion {
  const n = losses.length;
  if (n <= lrDiff) return { lr: Number.NaN, point: [Number.NaN, Number.NaN] };
  const grad = gradient(losses);
  let r = -1;
  let l = r - lrDiff;
  let localMin = lrs[n + l] as number;
  while (l >= -n && Math.abs((grad[n + r] as number) - (grad[n + l] as number)) > thresh) {
    localMin = lrs[n + l] as number;
    r -= 1;
    l -= 1;
  }
  const suggestion = localMin * adjustValue;
  const y = interp(Math.log10(suggestion), lrs.map(Math.log10), losses);
  return { lr: suggestion, point: [suggestion, y] };
}

/**
 * The suggestion functions by name (the names `lrFind`'s `suggestFuncs` accepts).
 * @example
 * ```ts
 * const { lr } = tsf.SUGGESTION_FUNCS.steep(lrs, losses);
 * ```
 */
export const SUGGESTION_FUNCS = {
  /** {@link valley}: inside the longest decreasing run of the loss (fastai's default). */
  valley,
  /** {@link minimum}: a tenth of the LR at the minimum loss. */
  minimum,
  /** {@link steep}: where the loss falls fastest against `log(lr)`. */
  steep,
  /** {@link slide}: the interval slide rule. */
  slide,
} as const;

/**
 * Name of a built-in suggestion function.
 * @example
 * ```ts
 * const names: tsf.SuggestionName[] = ['valley', 'steep'];
 * await learn.lrFind({ suggestFuncs: names });
 * ```
 */
export type SuggestionName = keyof typeof SUGGESTION_FUNCS;

/**
 * `lrFind`'s result: one learning rate per requested suggestion.
 * @example
 * ```ts
 * const lrs: tsf.SuggestedLRs = await learn.lrFind({ suggestFuncs: ['valley', 'minimum'] });
 * await learn.fitOneCycle(3, lrs.valley);
 * ```
 */
export type SuggestedLRs = Partial<Record<SuggestionName, number>>;

/**
 * Options of {@link lrFind}.
 * @example
 * ```ts
 * const options: tsf.LRFinderOptions = { numIt: 100, suggestFuncs: ['valley', 'slide'], file: 'lr.png' };
 * const { valley } = await learn.lrFind(options);
 * ```
 */
export interface LRFinderOptions {
  /**
   * First learning rate.
   * @defaultValue 1e-7
   */
  startLr?: number;
  /**
   * Last learning rate.
   * @defaultValue 10
   */
  endLr?: number;
  /**
   * Number of batches.
   * @defaultValue 100
   */
  numIt?: number;
  /**
   * Stop when the smoothed loss exceeds 4 times the best.
   * @defaultValue true
   */
  stopDiv?: boolean;
  /**
   * Suggestions to compute.
   * @defaultValue ['valley']
   */
  suggestFuncs?: readonly SuggestionName[];
  /**
   * Write the plot (loss against LR, suggestions marked) to this PNG.
   * @defaultValue no plot
   */
  file?: string;
}

/**
 * The callback behind {@link lrFind}: exponential LR over `numIt` batches, stops on
 * divergence, skips validation.
 * @example
 * ```ts
 * await learn.fit(1, undefined, { cbs: [new tsf.LRFinder({ numIt: 50 })] });
 * ```
 */
export class LRFinder extends ParamScheduler {
  /** Name. */
  override readonly name = 'lrFinder';
  private best = Number.POSITIVE_INFINITY;
  private readonly numIt: number;
  private readonly stopDiv: boolean;

  /** @param options - `startLr`, `endLr`, `numIt`, `stopDiv`. */
  constructor(options: Pick<LRFinderOptions, 'startLr' | 'endLr' | 'numIt' | 'stopDiv'> = {}) {
    super({ lr: schedExp(options.startLr ?? 1e-7, options.endLr ?? 10) });
    this.numIt = Math.max(6, options.numIt ?? 100);
    this.stopDiv = options.stopDiv ?? true;
  }

  /** Resets the best loss. */
  override beforeFit(): void {
    super.beforeFit();
    this.best = Number.POSITIVE_INFINITY;
  }

  /** LR for this batch. */
  override beforeBatch({ learn, trainIter }: EventContext): void {
    this.setAt(learn, trainIter / this.numIt);
  }

  /** Stops on divergence (or a non-finite loss) or after `numIt` batches. */
  override afterBatch(ctx: EventContext): void {
    super.afterBatch(ctx);
    const smooth = ctx.learn.recorder.smoothLoss;
    if (smooth < this.best) this.best = smooth;
    if (!Number.isFinite(smooth) || (this.stopDiv && smooth > 4 * this.best)) throw new CancelFit();
    if (ctx.learn.trainIter >= this.numIt) throw new CancelFit();
  }

  /** No validation during the test. */
  beforeValidate(): void {
    throw new CancelValid();
  }
}

/**
 * fastai's `lr_find`: see {@link Learner.lrFind}. Weights (BatchNorm statistics included) and
 * optimizer state are snapshotted in memory and restored bit for bit, even on error.
 * @param learn - The learner.
 * @param options - See {@link LRFinderOptions}.
 * @returns The suggestions by name.
 * @throws {@link ValueError} for unknown options or suggestion names.
 * @example
 * ```ts
 * const { valley } = await tsf.lrFind(learn);
 * ```
 */
export async function lrFind(learn: Learner, options: LRFinderOptions = {}): Promise<SuggestedLRs> {
  checkOptionKeys('lrFind', options, [
    'startLr',
    'endLr',
    'numIt',
    'stopDiv',
    'suggestFuncs',
    'file',
  ]);
  const numIt = options.numIt ?? 100;
  const names = options.suggestFuncs ?? ['valley'];
  for (const n of names) {
    if (!(n in SUGGESTION_FUNCS))
      throw invalidValue(
        'suggestFuncs',
        `names among ${Object.keys(SUGGESTION_FUNCS).join(', ')}`,
        n,
      );
  }
  const nEpoch = Math.floor(numIt / Math.max(1, learn.dls.train.numBatches)) + 1;
  const weights = learn.model.weights.map((w) => tf.clone(w.read()));
  const optState = learn.opt.getState();
  const finder = new LRFinder({ ...options, numIt });
  try {
    await learn.noLogging(() => learn.fit(nEpoch, undefined, { cbs: [finder] }));
  } finally {
    learn.model.weights.forEach((w, i) => {
      (w.read() as tf.Variable).assign(weights[i] as tf.Tensor);
    });
    learn.opt.setState(optState);
    tf.dispose(weights);
    tf.dispose(Object.values(optState.tensors));
  }
  const start = Math.floor(numIt / 10);
  let lrs = learn.recorder.lrs.slice(start, -5);
  let losses = learn.recorder.losses.slice(start, -5);
  const nan = losses.findIndex((l) => !Number.isFinite(l));
  if (nan >= 0) {
    lrs = lrs.slice(0, nan);
    losses = losses.slice(0, nan);
  }
  const result: SuggestedLRs = {};
  const markers: ChartMarker[] = [];
  if (losses.length > 1) {
    for (const n of names) {
      const s = SUGGESTION_FUNCS[n](lrs, losses, numIt);
      result[n] = s.lr;
      markers.push({ x: s.point[0], y: s.point[1], label: `${n}: ${s.lr.toExponential(2)}` });
    }
  }
  if (options.file !== undefined) await plotLrFind(learn, options.file, markers);
  return result;
}

/**
 * Plots the LR finder's curve (loss against LR, log x) with suggestion markers.
 * @param learn - The learner, right after `lrFind`.
 * @param file - PNG to write.
 * @param markers - Points to mark. Defaults to none.
 * @param skipEnd - Points dropped at the end. Defaults to 5.
 * @returns The file written.
 * @example
 * ```ts
 * await learn.lrFind();
 * await tsf.plotLrFind(learn, 'lr.png');
 * ```
 */
export async function plotLrFind(
  learn: Learner,
  file: string,
  markers: readonly ChartMarker[] = [],
  skipEnd = 5,
): Promise<string> {
  const { lrs, losses } = learn.recorder;
  const end = Math.max(1, lrs.length - skipEnd);
  const svg = lineChartSvg([{ name: 'loss', x: lrs.slice(0, end), y: losses.slice(0, end) }], {
    title: 'LR finder',
    xLabel: 'Learning Rate',
    yLabel: 'Loss',
    logX: true,
    markers,
  });
  await writePng(svg, file);
  return file;
}

function pyIndex(i: number, n: number): number {
  return i < 0 ? n + i : i;
}

function argMin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) < (values[best] as number)) best = i;
  return best;
}

function gradient(y: readonly number[]): number[] {
  const n = y.length;
  return y.map((_, i) => {
    if (i === 0) return (y[1] as number) - (y[0] as number);
    if (i === n - 1) return (y[n - 1] as number) - (y[n - 2] as number);
    return ((y[i + 1] as number) - (y[i - 1] as number)) / 2;
  });
}

function interp(x: number, xs: readonly number[], ys: readonly number[]): number {
  if (x <= (xs[0] as number)) return ys[0] as number;
  for (let i = 1; i < xs.length; i++) {
    if (x <= (xs[i] as number)) {
      const t = (x - (xs[i - 1] as number)) / ((xs[i] as number) - (xs[i - 1] as number));
      return (ys[i - 1] as number) + t * ((ys[i] as number) - (ys[i - 1] as number));
    }
  }
  return ys.at(-1) as number;
}
