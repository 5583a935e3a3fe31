/**
 * Recorder: what happened during training (smoothed loss, learning rates and momentum per
 * batch, validation loss and metrics per epoch, epoch times) and the plots of it.
 */
import { checkOptionKeys, ValueError } from '../core/errors.js';
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { type LineSeries, lineChartSvg } from '../plot/line-chart.js';
import { writePng } from '../plot/render.js';

/**
 * Options of {@link Recorder.plotLoss}.
 * @example
 * ```ts
 * await learn.fit(1);
 * await learn.recorder.plotLoss({ file: 'loss.png', skipStart: 5, withValid: true });
 * ```
 */
export interface PlotLossOptions {
  /**
   * PNG file to write.
   */
  file: string;
  /**
   * Batches to skip at the start.
   * @defaultValue 5
   */
  skipStart?: number;
  /**
   * Draw the validation loss (one point per epoch).
   * @defaultValue true
   */
  withValid?: boolean;
  /**
   * Logarithmic y axis.
   * @defaultValue false
   */
  log?: boolean;
}

/**
 * Options of {@link Recorder.plotSched}.
 * @example
 * ```ts
 * await learn.fitOneCycle(1);
 * await learn.recorder.plotSched({ file: 'sched.png' });
 * ```
 */
export interface PlotSchedOptions {
  /** PNG file to write. */
  file: string;
}

/**
 * Fastai's exponential moving average of the training loss, debiased:
 * `val = beta*val + (1-beta)*loss`, reported as `val / (1 - beta^count)`.
 * @example
 * ```ts
 * const s = new tsf.SmoothLoss(0.98); s.add(1); s.value; // 1
 * ```
 */
export class SmoothLoss {
  private val = 0;
  /** Losses added since reset. */
  count = 0;

  /** @param beta - Smoothing factor. Defaults to 0.98. */
  constructor(readonly beta = 0.98) {}

  /** Clears the average. */
  reset(): void {
    this.val = 0;
    this.count = 0;
  }

  /**
   * Adds one loss.
   * @param loss - The batch loss.
   */
  add(loss: number): void {
    this.count += 1;
    this.val = this.beta * this.val + (1 - this.beta) * loss;
  }

  /** The debiased average (`NaN` before the first loss). */
  get value(): number {
    return this.count === 0 ? Number.NaN : this.val / (1 - this.beta ** this.count);
  }
}

/**
 * Options of {@link Recorder}.
 * @example
 * ```ts
 * const rec = new tsf.Recorder({ trainMetrics: true });
 * ```
 */
export interface RecorderOptions {
  /**
   * Smoothing of the training loss.
   * @defaultValue 0.98
   */
  beta?: number;
  /**
   * Also compute the metrics on the training batches (with the predictions the model made
   * while training), in columns `train_<metric>`; the validation columns are then
   * `valid_loss`, `valid_<metric>`.
   * @defaultValue false
   */
  trainMetrics?: boolean;
}

/**
 * Records the training run. Added to every learner as `learn.recorder`.
 *
 * - `losses`: smoothed training loss per batch; `lrs`, `moms`: last group's LR and momentum
 *   per batch;
 * - `values`: one row per epoch, columns `metricNames.slice(1, -1)` (`train_loss`,
 *   `valid_loss`, metrics); `iters`: batch count at each epoch end; `times`: seconds.
 * - with `trainMetrics` (fastai's `train_metrics`), the metrics are computed on the training
 *   batches too: columns `train_loss`, `train_<metric>`..., `valid_loss`, `valid_<metric>`...
 *
 * @example
 * ```ts
 * await learn.fit(3);
 * learn.recorder.metricNames; // ['epoch', 'train_loss', 'valid_loss', 'accuracy', 'time']
 * learn.recorder.values.at(-1); // [0.41, 0.38, 0.87]
 * ```
 */
export class Recorder implements Callback {
  /** Name. */
  readonly name = 'recorder';
  /** After TrainEval, before schedulers and trackers. */
  readonly order = 50;
  /** Smoothed training loss per training batch. */
  losses: number[] = [];
  /** Raw training loss per training batch. */
  rawLosses: number[] = [];
  /** Learning rate of the last group per training batch. */
  lrs: number[] = [];
  /** Momentum of the last group per training batch (`NaN` if the optimizer has none). */
  moms: number[] = [];
  /** Number of training batches seen at each epoch end. */
  iters: number[] = [];
  /** One row per epoch: train loss, valid loss, metrics. */
  values: number[][] = [];
  /** Seconds per epoch. */
  times: number[] = [];
  /** Column names: `epoch`, `train_loss`, `valid_loss`, metric names, `time`. */
  metricNames: string[] = [];
  /** The row being built for the current epoch (epoch first). */
  log: number[] = [];
  /** Compute the metrics on the training batches too (read at the start of each fit). */
  trainMetrics: boolean;
  private readonly smooth: SmoothLoss;
  private validTotal = 0;
  private validCount = 0;
  private epochStart = 0;
  private cancelTrain = false;
  private cancelValid = false;
  private batchCancelled = false;

  private withTrainMetrics = false;

  /**
   * @param options - `beta` and `trainMetrics`, or the smoothing `beta` alone. Defaults to
   *   `{ beta: 0.98, trainMetrics: false }`.
   */
  constructor(options: RecorderOptions | number = {}) {
    const o = typeof options === 'number' ? { beta: options } : options;
    checkOptionKeys('Recorder', o, ['beta', 'trainMetrics']);
    this.smooth = new SmoothLoss(o.beta ?? 0.98);
    this.trainMetrics = o.trainMetrics ?? false;
  }

  /** The current smoothed training loss. */
  get smoothLoss(): number {
    return this.smooth.value;
  }

  /** Resets the records. */
  beforeFit({ learn }: EventContext): void {
    this.losses = [];
    this.rawLosses = [];
    this.lrs = [];
    this.moms = [];
    this.iters = [];
    this.values = [];
    this.times = [];
    this.withTrainMetrics = this.trainMetrics;
    const names = learn.metrics.map((m) => m.name);
    this.metricNames = this.withTrainMetrics
      ? [
          'epoch',
          ...['loss', ...names].map((n) => `train_${n}`),
          ...['loss', ...names].map((n) => `valid_${n}`),
          'time',
        ]
      : ['epoch', 'train_loss', 'valid_loss', ...names, 'time'];
    this.smooth.reset();
  }

  /** Starts the epoch's row and clock. */
  beforeEpoch({ epoch }: EventContext): void {
    this.epochStart = performance.now();
    this.log = [epoch];
    this.cancelTrain = false;
    this.cancelValid = false;
  }

  /** Resets the metrics when they are computed on the training batches. */
  beforeTrain({ learn }: EventContext): void {
    if (this.withTrainMetrics) for (const m of learn.metrics) m.reset();
  }

  /** Resets the validation accumulators. */
  beforeValidate({ learn }: EventContext): void {
    this.validTotal = 0;
    this.validCount = 0;
    for (const m of learn.metrics) m.reset();
  }

  /** Records a batch. */
  async afterBatch({ learn, training, loss }: EventContext): Promise<void> {
    const cancelled = this.batchCancelled;
    this.batchCancelled = false;
    if (loss === undefined || learn.lossTensor === undefined) return;
    // A batch a NaN guard cancelled: its loss would poison the smoothed loss and the epoch's.
    if (cancelled && !Number.isFinite(loss)) return;
    if (training) {
      this.smooth.add(loss);
      this.rawLosses.push(loss);
      this.losses.push(this.smooth.value);
      const last = learn.opt.paramGroups.at(-1)?.hypers;
      this.lrs.push(last?.lr ?? Number.NaN);
      this.moms.push(last?.mom ?? Number.NaN);
      if (this.withTrainMetrics) {
        for (const m of learn.metrics) await m.accumulate(learn.pred, learn.yb);
      }
      return;
    }
    const bs = learn.yb.shape[0] ?? 1;
    this.validTotal += loss * bs;
    this.validCount += bs;
    for (const m of learn.metrics) await m.accumulate(learn.pred, learn.yb);
  }

  /** Notes that the current batch was cancelled (see `afterBatch`). */
  afterCancelBatch(): void {
    this.batchCancelled = true;
  }

  /** Marks training as cancelled for this epoch. */
  afterCancelTrain(): void {
    this.cancelTrain = true;
  }

  /** Marks validation as cancelled for this epoch. */
  afterCancelValidate(): void {
    this.cancelValid = true;
  }

  /** Adds the training loss (and training metrics) to the row. */
  afterTrain({ learn }: EventContext): void {
    const vals = [this.smooth.value];
    if (this.withTrainMetrics) vals.push(...learn.metrics.map((m) => m.value));
    vals.forEach((v, i) => {
      this.log[1 + i] = this.cancelTrain ? Number.NaN : v;
    });
  }

  /** Adds validation loss and metrics to the row. */
  afterValidate({ learn }: EventContext): void {
    const start = this.withTrainMetrics ? 2 + learn.metrics.length : 2;
    const vals = this.validValues(learn);
    vals.forEach((v, i) => {
      this.log[start + i] = this.cancelValid ? Number.NaN : v;
    });
  }

  /** Closes the row. */
  afterEpoch(): void {
    const width = this.metricNames.length - 2;
    const row = Array.from({ length: width }, (_, i) => this.log[i + 1] ?? Number.NaN);
    this.values.push(row);
    this.times.push((performance.now() - this.epochStart) / 1000);
    this.iters.push(this.smooth.count);
  }

  /**
   * Validation loss and metrics accumulated since the last `beforeValidate`.
   * @param learn - The learner (for its metrics).
   * @returns `[validLoss, ...metrics]`.
   * @example
   * ```ts
   * const [validLoss, acc] = learn.recorder.validValues(learn);
   * ```
   */
  validValues(learn: Learner): number[] {
    const loss = this.validCount === 0 ? Number.NaN : this.validTotal / this.validCount;
    return [loss, ...learn.metrics.map((m) => m.value)];
  }

  /**
   * Plots the smoothed training loss per batch and the validation loss per epoch to a PNG.
   * With fewer than two training steps left after `skipStart`, the chart's title says so.
   * @param options - File and what to draw.
   * @returns The file written.
   * @throws {@link ValueError} when no point is left to draw (e.g. `skipStart` is at least the
   *   number of steps recorded and no epoch ended after it).
   * @example
   * ```ts
   * await learn.fit(1);
   * await learn.recorder.plotLoss({ file: 'loss.png' });
   * ```
   */
  async plotLoss(options: PlotLossOptions): Promise<string> {
    checkOptionKeys('plotLoss', options, ['file', 'skipStart', 'withValid', 'log']);
    const svg = lossChartSvg(this, options);
    await writePng(svg, options.file);
    return options.file;
  }

  /**
   * Plots the learning rate and momentum schedules recorded per batch.
   * @param options - File.
   * @returns The file written.
   * @example
   * ```ts
   * await learn.fitOneCycle(1);
   * await learn.recorder.plotSched({ file: 'sched.png' });
   * ```
   */
  async plotSched(options: PlotSchedOptions): Promise<string> {
    checkOptionKeys('plotSched', options, ['file']);
    const x = this.lrs.map((_, i) => i);
    const maxLr = Math.max(...this.lrs);
    const series: LineSeries[] = [{ name: 'lr / max lr', x, y: this.lrs.map((v) => v / maxLr) }];
    if (this.moms.some(Number.isFinite))
      series.push({ name: 'mom', x, y: this.moms, dashed: true });
    const svg = lineChartSvg(series, {
      title: `schedules (max lr ${maxLr.toPrecision(3)})`,
      xLabel: 'iteration',
    });
    await writePng(svg, options.file);
    return options.file;
  }
}

/**
 * The SVG of {@link Recorder.plotLoss}: smoothed training loss per step after `skipStart`, and
 * the validation loss at the end of each epoch.
 * @param rec - The recorder whose values are drawn.
 * @param options - What to draw (`file` is not used).
 * @returns The SVG text.
 * @throws {@link ValueError} when no point is left to draw.
 * @example
 * ```ts
 * await learn.fit(1);
 * const svg = lossChartSvg(learn.recorder, { file: '', skipStart: 0 });
 * ```
 */
export function lossChartSvg(
  rec: Pick<Recorder, 'losses' | 'iters' | 'values' | 'metricNames'>,
  options: PlotLossOptions,
): string {
  const skip = options.skipStart ?? 5;
  const series: LineSeries[] = [
    {
      name: 'train',
      x: rec.losses.map((_, i) => i).slice(skip),
      y: rec.losses.slice(skip),
    },
  ];
  if (options.withValid ?? true) {
    const col = rec.metricNames.indexOf('valid_loss') - 1;
    const pts = rec.iters
      .map((x, i) => [x, rec.values[i]?.[col] ?? Number.NaN] as const)
      .filter(([x]) => x >= skip);
    series.push({ name: 'valid', x: pts.map((p) => p[0]), y: pts.map((p) => p[1]) });
  }
  const nTrain = series[0]!.y.length;
  const nValid = series[1]?.y.filter(Number.isFinite).length ?? 0;
  if (nTrain + nValid === 0) {
    throw new ValueError(
      `plotLoss: ${rec.losses.length} training step(s) recorded and skipStart is ${skip}, so ` +
        'no point is left to draw: pass a smaller skipStart or train for more steps',
    );
  }
  // A line needs two points: say so on the chart rather than show a lone dot with no word.
  const title =
    nTrain < 2
      ? `learning curve: ${nTrain} step(s) after skipStart ${skip}, too few for a line`
      : 'learning curve';
  return lineChartSvg(series, {
    title,
    xLabel: 'steps',
    yLabel: 'loss',
    logY: options.log ?? false,
  });
}
