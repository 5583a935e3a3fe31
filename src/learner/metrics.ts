/**
 * Metrics: functions of (predictions, targets) averaged over samples, and accumulated
 * metrics (F1, precision, recall) computed over the whole validation set.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';

/**
 * A metric function: the mean over the batch of a per-sample value.
 * @example
 * ```ts
 * const meanAbsError: tsf.MetricFunc = (pred, targ) => pred.sub(targ).abs().mean() as tf.Scalar;
 * const learn = new tsf.Learner(dls, model, { metrics: [meanAbsError] });
 * ```
 */
export type MetricFunc = (pred: tf.Tensor, targ: tf.Tensor) => tf.Scalar;

/**
 * A metric as the Recorder uses it: reset before validation, fed every batch, read after.
 * @example
 * ```ts
 * const metrics: tsf.Metric[] = [tsf.Precision(), tsf.Recall()];
 * const learn = new tsf.Learner(dls, model, { metrics });
 * ```
 */
export interface Metric {
  /** Column name in the results table (snake_case, as fastai). */
  readonly name: string;
  /** Clears accumulated values. */
  reset(): void;
  /**
   * Adds one batch (the metric reads what it needs; the caller keeps the tensors).
   * @param pred - Model outputs (logits) for the batch.
   * @param targ - Targets.
   */
  accumulate(pred: tf.Tensor, targ: tf.Tensor): Promise<void>;
  /** The value over everything accumulated since `reset`. */
  readonly value: number;
}

function snake(name: string): string {
  // The second rule splits a one-letter word before the next one: topKAccuracy -> top_k_accuracy.
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Wraps a {@link MetricFunc} as a {@link Metric} averaged over samples (each batch weighted
 * by its size), fastai's `AvgMetric`.
 * @example
 * ```ts
 * const m = new tsf.AvgMetric(tsf.accuracy); // name "accuracy"
 * ```
 */
export class AvgMetric implements Metric {
  /** Column name. */
  readonly name: string;
  private total = 0;
  private count = 0;

  /**
   * @param func - The per-batch mean.
   * @param name - Column name. Defaults to the function's name in snake_case.
   */
  constructor(
    readonly func: MetricFunc,
    name?: string,
  ) {
    this.name = name ?? snake(func.name || 'metric');
  }

  /** Clears the running sums. */
  reset(): void {
    this.total = 0;
    this.count = 0;
  }

  /**
   * Adds one batch.
   * @param pred - Logits.
   * @param targ - Targets.
   */
  async accumulate(pred: tf.Tensor, targ: tf.Tensor): Promise<void> {
    const bs = targ.shape[0] ?? 1;
    const v = tf.tidy(() => this.func(pred, targ));
    const [value] = await v.data();
    v.dispose();
    this.total += (value as number) * bs;
    this.count += bs;
  }

  /** Sample-weighted mean. */
  get value(): number {
    return this.count === 0 ? Number.NaN : this.total / this.count;
  }
}

/**
 * Accuracy for single-label classification: `argmax(pred) == targ`, averaged. As fastai's
 * `accuracy`, both sides are flattened first, so predictions `[N, ..., C]` with targets
 * `[N, ...]` (e.g. per pixel) work.
 * @param pred - Logits or probabilities `[N, ..., C]`.
 * @param targ - Class indices `[N, ...]`.
 * @returns A scalar the caller disposes.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { metrics: [tsf.accuracy] });
 * ```
 */
export function accuracy(pred: tf.Tensor, targ: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const [p, t] = flattenCheck(pred.argMax(-1), targ, 'accuracy');
    return p.equal(t.toInt()).toFloat().mean() as tf.Scalar;
  });
}

/**
 * fastai's `flatten_check`: both tensors flattened to one dimension, which must then have the
 * same length (so `[N, H, W]` predictions meet `[N, H, W]` targets element by element).
 * @param inp - Predictions.
 * @param targ - Targets.
 * @param caller - Name used in the error.
 * @returns Both flattened (the caller disposes them).
 * @throws {@link ValueError} naming both shapes when the element counts differ.
 * @example
 * ```ts
 * const preds = tf.tensor2d([[0.1, 0.9], [0.8, 0.2]]);
 * const targs = tf.tensor2d([[1], [0]], [2, 1], 'int32');
 * const [p, t] = tsf.flattenCheck(preds.argMax(-1), targs); // both [2]
 * ```
 */
export function flattenCheck(
  inp: tf.Tensor,
  targ: tf.Tensor,
  caller = 'flattenCheck',
): [tf.Tensor1D, tf.Tensor1D] {
  if (inp.size !== targ.size) {
    throw new ValueError(
      `${caller}: predictions of shape [${inp.shape}] (${inp.size} values) do not match ` +
        `targets of shape [${targ.shape}] (${targ.size} values) once flattened.`,
    );
  }
  return [inp.reshape([-1]) as tf.Tensor1D, targ.reshape([-1]) as tf.Tensor1D];
}

/**
 * `1 - accuracy`.
 * @param pred - Logits or probabilities `[N, C]`.
 * @param targ - Class indices `[N]`.
 * @returns A scalar the caller disposes.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { metrics: [tsf.errorRate] });
 * ```
 */
export function errorRate(pred: tf.Tensor, targ: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.scalar(1).sub(accuracy(pred, targ)) as tf.Scalar);
}

/**
 * Top-k accuracy: the target is among the `k` highest predictions.
 * @param k - How many top predictions count. Defaults to 5.
 * @returns A metric function named `top_k_accuracy`.
 * @example
 * ```ts
 * const metrics = [tsf.topKAccuracy(3)];
 * ```
 */
export function topKAccuracy(k = 5): MetricFunc {
  const topKAccuracy: MetricFunc = (pred, targ) =>
    tf.tidy(() => {
      const kk = Math.min(k, pred.shape[pred.rank - 1] as number);
      const { indices } = tf.topk(pred, kk);
      const t = targ.reshape([-1, 1]).toInt();
      return indices.equal(t).any(-1).toFloat().mean() as tf.Scalar;
    });
  return topKAccuracy;
}

/**
 * Options of {@link accuracyMulti}.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   lossFunc: new tsf.BCEWithLogitsLossFlat(),
 *   metrics: [tsf.accuracyMulti({ thresh: 0.5, sigmoid: true })],
 * });
 * ```
 */
export interface AccuracyMultiOptions {
  /**
   * Threshold on the (sigmoid of the) predictions.
   * @defaultValue 0.5
   */
  thresh?: number;
  /**
   * Apply a sigmoid first (predictions are logits).
   * @defaultValue true
   */
  sigmoid?: boolean;
}

/**
 * Multi-label accuracy: `(sigmoid(pred) > thresh) == targ`, averaged over every element.
 * @param options - Threshold and sigmoid.
 * @returns A metric function named `accuracy_multi`.
 * @example
 * ```ts
 * const metrics = [tsf.accuracyMulti({ thresh: 0.3 })];
 * ```
 */
export function accuracyMulti(options: AccuracyMultiOptions = {}): MetricFunc {
  checkOptionKeys('accuracyMulti', options, ['thresh', 'sigmoid']);
  const thresh = options.thresh ?? 0.5;
  const sig = options.sigmoid ?? true;
  const accuracyMulti: MetricFunc = (pred, targ) =>
    tf.tidy(() => {
      const p = sig ? tf.sigmoid(pred) : pred;
      return p.greater(thresh).equal(targ.toBool()).toFloat().mean() as tf.Scalar;
    });
  return accuracyMulti;
}

/** Which per-class score a {@link ClassScore} computes. */
export type ScoreKind = 'precision' | 'recall' | 'f1';

/**
 * How per-class scores are averaged (scikit-learn's `average`, which fastai passes through):
 * `'binary'` scores only `posLabel` (two classes), `'macro'` is the plain mean over the classes
 * present in targets or predictions, `'micro'` pools the counts of every class, `'weighted'`
 * weights each class by its number of targets.
 */
export type ScoreAverage = 'binary' | 'macro' | 'micro' | 'weighted';

/** Options of {@link F1Score}, {@link Precision} and {@link Recall}. */
export interface ClassScoreOptions {
  /**
   * Averaging over classes.
   * @defaultValue `'binary'` (fastai's and scikit-learn's default)
   */
  average?: ScoreAverage;
  /**
   * The positive class index of `'binary'`.
   * @defaultValue `1`
   */
  posLabel?: number;
}

/**
 * Precision, recall or F1 of counts, 0 where undefined (scikit-learn's `zero_division`).
 * @param kind - Which score.
 * @param tp - True positives.
 * @param fp - False positives.
 * @param fn - False negatives.
 * @returns The score.
 * @example
 * ```ts
 * scoreOf('f1', 2, 0, 1); // 0.8
 * ```
 */
export function scoreOf(kind: ScoreKind, tp: number, fp: number, fn: number): number {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  if (kind === 'precision') return precision;
  if (kind === 'recall') return recall;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

const SCORE_AVERAGES: readonly ScoreAverage[] = ['binary', 'macro', 'micro', 'weighted'];

/**
 * Precision, recall or F1 over the whole set of single-label predictions (argmax), averaged
 * as scikit-learn does.
 */
class ClassScore implements Metric {
  readonly name: string;
  private preds: number[] = [];
  private targs: number[] = [];
  private readonly average: ScoreAverage;
  private readonly posLabel: number;

  constructor(
    private readonly kind: ScoreKind,
    caller: string,
    options: ClassScoreOptions,
  ) {
    checkOptionKeys(caller, options, ['average', 'posLabel']);
    this.name = kind === 'f1' ? 'f1_score' : `${kind}_score`;
    this.average = options.average ?? 'binary';
    this.posLabel = options.posLabel ?? 1;
    if (!SCORE_AVERAGES.includes(this.average)) {
      throw invalidValue('average', `one of ${SCORE_AVERAGES.join(', ')}`, this.average);
    }
  }

  reset(): void {
    this.preds = [];
    this.targs = [];
  }

  async accumulate(pred: tf.Tensor, targ: tf.Tensor): Promise<void> {
    const classes = pred.shape[pred.rank - 1]!;
    if (this.average === 'binary' && classes > 2) {
      throw new ValueError(
        `${this.name}: average 'binary' needs two classes but predictions have ${classes} ` +
          "(as scikit-learn); pass { average: 'macro' } (or 'micro', 'weighted').",
      );
    }
    const p = tf.tidy(() => pred.argMax(-1));
    const t = tf.tidy(() => targ.reshape([-1]).toInt());
    const [pv, tv] = await Promise.all([p.data(), t.data()]);
    p.dispose();
    t.dispose();
    for (const v of pv) this.preds.push(v);
    for (const v of tv) this.targs.push(v);
  }

  private counts(c: number): { tp: number; fp: number; fn: number; support: number } {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < this.preds.length; i++) {
      const p = this.preds[i] === c;
      const t = this.targs[i] === c;
      if (p && t) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    return { tp, fp, fn, support: tp + fn };
  }

  get value(): number {
    if (this.preds.length === 0) return Number.NaN;
    if (this.average === 'binary') {
      const { tp, fp, fn } = this.counts(this.posLabel);
      return scoreOf(this.kind, tp, fp, fn);
    }
    const labels = [...new Set([...this.preds, ...this.targs])];
    const all = labels.map((c) => this.counts(c));
    if (this.average === 'micro') {
      const sum = (k: 'tp' | 'fp' | 'fn') => all.reduce((a, x) => a + x[k], 0);
      return scoreOf(this.kind, sum('tp'), sum('fp'), sum('fn'));
    }
    const scores = all.map((x) => scoreOf(this.kind, x.tp, x.fp, x.fn));
    if (this.average === 'weighted') {
      const total = all.reduce((a, x) => a + x.support, 0);
      return total === 0 ? 0 : scores.reduce((a, v, i) => a + v * all[i]!.support, 0) / total;
    }
    return scores.reduce((a, v) => a + v, 0) / labels.length;
  }
}

/**
 * fastai's `F1Score` over the validation set: binary (class 1 positive) by default, as fastai
 * and scikit-learn; pass `average` for more than two classes.
 * @param options - Averaging and positive class.
 * @returns A fresh metric (metrics hold state: one per learner).
 * @throws {@link ValueError} on an unknown option, and when fed more than two classes with
 *   `average: 'binary'`.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { metrics: [tsf.F1Score()] });        // 2 classes
 * const pets = [tsf.F1Score({ average: 'macro' })];                               // 37 classes
 * ```
 */
export function F1Score(options: ClassScoreOptions = {}): Metric {
  return new ClassScore('f1', 'F1Score', options);
}

/**
 * fastai's `Precision` over the validation set (binary by default, as {@link F1Score}).
 * @param options - Averaging and positive class.
 * @returns A fresh metric.
 * @throws {@link ValueError} as {@link F1Score}.
 * @example
 * ```ts
 * const metrics = [tsf.Precision({ average: 'macro' })];
 * ```
 */
export function Precision(options: ClassScoreOptions = {}): Metric {
  return new ClassScore('precision', 'Precision', options);
}

/**
 * fastai's `Recall` over the validation set (binary by default, as {@link F1Score}).
 * @param options - Averaging and positive class.
 * @returns A fresh metric.
 * @throws {@link ValueError} as {@link F1Score}.
 * @example
 * ```ts
 * const metrics = [tsf.Recall({ average: 'macro' })];
 * ```
 */
export function Recall(options: ClassScoreOptions = {}): Metric {
  return new ClassScore('recall', 'Recall', options);
}

/**
 * Normalises a metric function or metric object into a {@link Metric}.
 * @param m - A function (wrapped in {@link AvgMetric}) or a metric.
 * @returns The metric.
 * @example
 * ```ts
 * const metrics = [tsf.accuracy, tsf.F1Score()].map(tsf.toMetric);
 * ```
 */
export function toMetric(m: MetricFunc | Metric): Metric {
  return typeof m === 'function' ? new AvgMetric(m) : m;
}
