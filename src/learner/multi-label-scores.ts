/**
 * Precision, recall and F1 of multi-label predictions (fastai's `F1ScoreMulti`,
 * `PrecisionMulti`, `RecallMulti`): each output is thresholded on its own, as scikit-learn
 * scores a label-indicator matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import { type Metric, type ScoreKind, scoreOf } from './metrics.js';

/**
 * How the per-label scores are averaged (scikit-learn's `average` on a label-indicator
 * matrix): `'macro'` is the plain mean over every label, `'micro'` pools the counts,
 * `'weighted'` weights each label by its number of positive targets, `'samples'` averages the
 * score of each item's label set.
 */
export type MultiScoreAverage = 'macro' | 'micro' | 'weighted' | 'samples';

/** Options of {@link F1ScoreMulti}, {@link PrecisionMulti} and {@link RecallMulti}. */
export interface MultiScoreOptions {
  /**
   * A label is predicted when its (sigmoid) output exceeds this.
   * @defaultValue `0.5`
   */
  thresh?: number;
  /**
   * Apply a sigmoid first (the predictions are logits).
   * @defaultValue `true`
   */
  sigmoid?: boolean;
  /**
   * Averaging over labels.
   * @defaultValue `'macro'`
   */
  average?: MultiScoreAverage;
}

const AVERAGES: readonly MultiScoreAverage[] = ['macro', 'micro', 'weighted', 'samples'];

class MultiLabelScore implements Metric {
  readonly name: string;
  private rows: Uint8Array[] = [];
  private targs: Uint8Array[] = [];
  private readonly thresh: number;
  private readonly sigmoid: boolean;
  private readonly average: MultiScoreAverage;

  constructor(
    private readonly kind: ScoreKind,
    caller: string,
    options: MultiScoreOptions,
  ) {
    checkOptionKeys(caller, options, ['thresh', 'sigmoid', 'average']);
    this.name = kind === 'f1' ? 'f1_score' : `${kind}_score`;
    this.thresh = options.thresh ?? 0.5;
    this.sigmoid = options.sigmoid ?? true;
    this.average = options.average ?? 'macro';
    if (!AVERAGES.includes(this.average)) {
      throw invalidValue('average', `one of ${AVERAGES.join(', ')}`, this.average);
    }
  }

  reset(): void {
    this.rows = [];
    this.targs = [];
  }

  async accumulate(pred: tf.Tensor, targ: tf.Tensor): Promise<void> {
    if (pred.size !== targ.size) {
      throw new ValueError(
        `${this.name}: predictions of shape [${pred.shape}] and targets of shape [${targ.shape}] ` +
          'differ; multi-label scores need one-hot targets (MultiCategoryBlock).',
      );
    }
    const c = pred.shape[pred.rank - 1]!;
    const p = tf.tidy(() => (this.sigmoid ? tf.sigmoid(pred) : pred).greater(this.thresh));
    const t = tf.tidy(() => targ.greater(0.5));
    const [pv, tv] = await Promise.all([p.data(), t.data()]);
    p.dispose();
    t.dispose();
    for (let r = 0; r < pv.length / c; r++) {
      this.rows.push(Uint8Array.from(pv.subarray(r * c, (r + 1) * c)));
      this.targs.push(Uint8Array.from(tv.subarray(r * c, (r + 1) * c)));
    }
  }

  get value(): number {
    const n = this.rows.length;
    if (n === 0) return Number.NaN;
    const c = this.rows[0]!.length;
    if (this.average === 'samples') {
      let sum = 0;
      for (let r = 0; r < n; r++) {
        const { tp, fp, fn } = count(this.rows[r]!, this.targs[r]!, 0, 1, c);
        sum += scoreOf(this.kind, tp, fp, fn);
      }
      return sum / n;
    }
    const per = Array.from({ length: c }, (_, j) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let r = 0; r < n; r++) {
        const p = this.rows[r]![j] === 1;
        const t = this.targs[r]![j] === 1;
        if (p && t) tp++;
        else if (p) fp++;
        else if (t) fn++;
      }
      return { tp, fp, fn };
    });
    if (this.average === 'micro') {
      const sum = (k: 'tp' | 'fp' | 'fn') => per.reduce((a, x) => a + x[k], 0);
      return scoreOf(this.kind, sum('tp'), sum('fp'), sum('fn'));
    }
    const scores = per.map((x) => scoreOf(this.kind, x.tp, x.fp, x.fn));
    if (this.average === 'weighted') {
      const support = per.map((x) => x.tp + x.fn);
      const total = support.reduce((a, v) => a + v, 0);
      return total === 0 ? 0 : scores.reduce((a, v, j) => a + v * support[j]!, 0) / total;
    }
    return scores.reduce((a, v) => a + v, 0) / c;
  }
}

function count(p: Uint8Array, t: Uint8Array, from: number, step: number, len: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let k = 0, j = from; k < len; k++, j += step) {
    if (p[j] && t[j]) tp++;
    else if (p[j]) fp++;
    else if (t[j]) fn++;
  }
  return { tp, fp, fn };
}

/**
 * fastai's `F1ScoreMulti`: F1 of multi-label predictions (sigmoid, then `> thresh`),
 * macro-averaged over the labels by default.
 * @param options - Threshold, sigmoid and averaging.
 * @returns A fresh metric (metrics hold state: one per learner).
 * @throws {@link ValueError} on an unknown option or average.
 * @example
 * ```ts
 * const metrics = [tsf.accuracyMulti({ thresh: 0.5 }), tsf.F1ScoreMulti({ thresh: 0.5 })];
 * ```
 */
export function F1ScoreMulti(options: MultiScoreOptions = {}): Metric {
  return new MultiLabelScore('f1', 'F1ScoreMulti', options);
}

/**
 * fastai's `PrecisionMulti` (see {@link F1ScoreMulti}).
 * @param options - Threshold, sigmoid and averaging.
 * @returns A fresh metric.
 * @throws {@link ValueError} on an unknown option or average.
 * @example
 * ```ts
 * const metrics = [tsf.PrecisionMulti({ average: 'micro' })];
 * ```
 */
export function PrecisionMulti(options: MultiScoreOptions = {}): Metric {
  return new MultiLabelScore('precision', 'PrecisionMulti', options);
}

/**
 * fastai's `RecallMulti` (see {@link F1ScoreMulti}).
 * @param options - Threshold, sigmoid and averaging.
 * @returns A fresh metric.
 * @throws {@link ValueError} on an unknown option or average.
 * @example
 * ```ts
 * const metrics = [tsf.RecallMulti()];
 * ```
 */
export function RecallMulti(options: MultiScoreOptions = {}): Metric {
  return new MultiLabelScore('recall', 'RecallMulti', options);
}
