/**
 * fastai's segmentation metrics: foreground accuracy, and Dice and Jaccard coefficients
 * accumulated over the whole validation set (binary and per class). Predictions are logits
 * `[N, H, W, C]` (class axis last, tsfast's NHWC), targets class indices `[N, H, W]`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import type { Metric, MetricFunc } from './metrics.js';

/** Options of {@link ForegroundAcc}. */
export interface ForegroundAccOptions {
  /**
   * Class index of the background, left out of the accuracy.
   * @defaultValue 0
   */
  bkgIdx?: number;
}

/**
 * fastai's `foreground_acc` with a chosen background class: pixel accuracy over the pixels
 * whose target is not `bkgIdx` (NaN for a batch with none).
 * @param options - Background class.
 * @returns A metric function named `foreground_acc`.
 * @throws {@link ValueError} for an unknown option or a negative `bkgIdx`.
 * @example
 * ```ts
 * // Oxford pets trimaps as codes ['pet', 'background', 'border']:
 * const metrics = [tsf.ForegroundAcc({ bkgIdx: 1 })];
 * ```
 */
export function ForegroundAcc(options: ForegroundAccOptions = {}): MetricFunc {
  checkOptionKeys('ForegroundAcc', options, ['bkgIdx']);
  const bkg = options.bkgIdx ?? 0;
  if (!(Number.isInteger(bkg) && bkg >= 0)) throw invalidValue('bkgIdx', 'an integer >= 0', bkg);
  const metric = (pred: tf.Tensor, targ: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const t = targ.toInt().reshape([-1]);
      const mask = t.notEqual(tf.scalar(bkg, 'int32')).toFloat();
      const hit = pred.argMax(-1).reshape([-1]).equal(t).toFloat();
      return hit.mul(mask).sum().div(mask.sum()) as tf.Scalar;
    });
  // AvgMetric names its column after the function: foreground_acc, as fastai's.
  Object.defineProperty(metric, 'name', { value: 'foregroundAcc' });
  return metric;
}

/**
 * fastai's `foreground_acc`: pixel accuracy over the pixels whose target is not class 0.
 * @param pred - Logits `[N, H, W, C]`.
 * @param targ - Class indices `[N, H, W]`.
 * @returns A scalar the caller disposes.
 * @example
 * ```ts
 * const learn = await tsf.unetLearner(dls, tsf.resnet34, { metrics: [tsf.foregroundAcc] });
 * ```
 */
export const foregroundAcc: MetricFunc = ForegroundAcc();

/**
 * Pixel accuracy over all pixels (`argmax(pred) == targ`), what segmentation benchmarks call
 * pixel accuracy.
 * @param pred - Logits `[N, H, W, C]`.
 * @param targ - Class indices `[N, H, W]`.
 * @returns A scalar the caller disposes.
 * @example
 * ```ts
 * const metrics = [tsf.pixelAccuracy];
 * ```
 */
export function pixelAccuracy(pred: tf.Tensor, targ: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      pred
        .argMax(-1)
        .reshape([-1])
        .equal(targ.toInt().reshape([-1]))
        .toFloat()
        .mean() as tf.Scalar,
  );
}

/** Sums of intersection and union per class, accumulated batch by batch. */
class OverlapMetric implements Metric {
  private inter: number[] = [];
  private union: number[] = [];

  constructor(
    readonly name: string,
    private readonly multi: boolean,
    private readonly score: (inter: number, union: number) => number,
  ) {}

  reset(): void {
    this.inter = [];
    this.union = [];
  }

  async accumulate(pred: tf.Tensor, targ: tf.Tensor): Promise<void> {
    const c = pred.shape[pred.rank - 1] as number;
    const classes = this.multi ? c : 1;
    const sums = tf.tidy(() => {
      const p = pred.argMax(-1).reshape([-1]);
      const t = targ.toInt().reshape([-1]);
      if (!this.multi) {
        // fastai's binary Dice: the argmax (0 or 1) and the target as numbers.
        const pf = p.toFloat();
        const tf_ = t.toFloat();
        return tf.stack([pf.mul(tf_).sum(), pf.add(tf_).sum()]);
      }
      const po = tf.oneHot(p, c).toFloat();
      const to = tf.oneHot(t, c).toFloat();
      return tf.stack([po.mul(to).sum(0), po.add(to).sum(0)]);
    });
    const v = await sums.data();
    sums.dispose();
    for (let k = 0; k < classes; k++) {
      this.inter[k] = (this.inter[k] ?? 0) + v[k]!;
      this.union[k] = (this.union[k] ?? 0) + v[classes + k]!;
    }
  }

  get value(): number {
    const scores = this.inter
      .map((inter, k) => (this.union[k]! > 0 ? this.score(inter, this.union[k]!) : Number.NaN))
      .filter((s) => !Number.isNaN(s));
    if (scores.length === 0) return Number.NaN;
    return scores.reduce((a, b) => a + b, 0) / scores.length;
  }
}

const dice = (inter: number, union: number) => (2 * inter) / union;
const jaccard = (inter: number, union: number) => inter / (union - inter);

/**
 * fastai's `Dice` for binary segmentation: `2 |P n T| / (|P| + |T|)` over the whole validation
 * set, with `P` the pixels predicted 1 and `T` the pixels labelled 1.
 * @returns A fresh metric named `dice`.
 * @example
 * ```ts
 * const metrics = [tsf.Dice()];
 * ```
 */
export function Dice(): Metric {
  return new OverlapMetric('dice', false, dice);
}

/**
 * fastai's `JaccardCoeff` for binary segmentation: `|P n T| / |P u T|` over the validation set.
 * @returns A fresh metric named `jaccard_coeff`.
 * @example
 * ```ts
 * const metrics = [tsf.JaccardCoeff()];
 * ```
 */
export function JaccardCoeff(): Metric {
  return new OverlapMetric('jaccard_coeff', false, jaccard);
}

/**
 * fastai's `DiceMulti`: the Dice coefficient of each class over the validation set, averaged
 * over the classes that occur in the predictions or the targets.
 * @returns A fresh metric named `dice_multi`.
 * @example
 * ```ts
 * const metrics = [tsf.DiceMulti()];
 * ```
 */
export function DiceMulti(): Metric {
  return new OverlapMetric('dice_multi', true, dice);
}

/**
 * fastai's `JaccardCoeffMulti`: per-class intersection over union over the validation set,
 * averaged over the classes present (the mean IoU of segmentation benchmarks).
 * @returns A fresh metric named `jaccard_coeff_multi`.
 * @example
 * ```ts
 * const metrics = [tsf.JaccardCoeffMulti()];
 * ```
 */
export function JaccardCoeffMulti(): Metric {
  return new OverlapMetric('jaccard_coeff_multi', true, jaccard);
}
