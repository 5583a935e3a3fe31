/**
 * Metrics: functions of (predictions, targets) averaged over samples, and accumulated
 * metrics (F1, precision, recall) computed over the whole validation set.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../core/errors.js';

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
 * Accuracy for single-label classification: `argmax(pred) == targ`, averaged.
 * @param pred - Logits or probabilities `[N, C]`.
 * @param targ - Class indices `[N]`.
 * @returns A scalar the caller disposes.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { metrics: [tsf.accuracy] });
 * ```
 */
export function accuracy(pred: tf.Tensor, targ: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      pred
        .argMax(-1)
        .equal(targ.reshape([-1]).toInt())
        .toFloat()
        .mean() as tf.Scalar,
  );
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
type ScoreKind = 'precision' | 'recall' | 'f1';

/**
 * Macro-averaged precision, recall or F1 over the whole set (like scikit-learn with
 * `average='macro'`: over every class present in targets or predictions, 0 when undefined).
 */
class ClassScore implements Metric {
  readonly name: string;
  private preds: number[] = [];
  private targs: number[] = [];

  constructor(private readonly kind: ScoreKind) {
    this.name = kind === 'f1' ? 'f1_score' : `${kind}_score`;
  }

  reset(): void {
    this.preds = [];
    this.targs = [];
  }

  async accumulate(pred: tf.Tensor, targ: tf.Tensor): Promise<void> {
    const p = tf.tidy(() => pred.argMax(-1));
    const t = tf.tidy(() => targ.reshape([-1]).toInt());
    const [pv, tv] = await Promise.all([p.data(), t.data()]);
    p.dispose();
    t.dispose();
    for (const v of pv) this.preds.push(v);
    for (const v of tv) this.targs.push(v);
  }

  get value(): number {
    const labels = [...new Set([...this.preds, ...this.targs])];
    if (labels.length === 0) return Number.NaN;
    let sum = 0;
    for (const c of labels) {
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
      const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
      const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
      if (this.kind === 'precision') sum += precision;
      else if (this.kind === 'recall') sum += recall;
      else sum += precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    }
    return sum / labels.length;
  }
}

/**
 * Macro F1 score over the validation set (fastai's `F1Score(average='macro')`).
 * @returns A fresh metric (metrics hold state: one per learner).
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, { metrics: [tsf.F1Score()] });
 * ```
 */
export function F1Score(): Metric {
  return new ClassScore('f1');
}

/**
 * Macro precision over the validation set.
 * @returns A fresh metric.
 * @example
 * ```ts
 * const metrics = [tsf.Precision()];
 * ```
 */
export function Precision(): Metric {
  return new ClassScore('precision');
}

/**
 * Macro recall over the validation set.
 * @returns A fresh metric.
 * @example
 * ```ts
 * const metrics = [tsf.Recall()];
 * ```
 */
export function Recall(): Metric {
  return new ClassScore('recall');
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
