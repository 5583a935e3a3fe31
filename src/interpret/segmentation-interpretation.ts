/**
 * fastai's `SegmentationInterpretation`: per-image losses on a dataset and the images the model
 * gets most wrong, drawn with their target and predicted masks.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import type { Learner } from '../learner/learner.js';
import { denormalize, inputStats, showMasks } from '../vision/segmentation/index.js';

/** Options of {@link SegmentationInterpretation.fromLearner}. */
export interface SegmentationInterpretationOptions {
  /**
   * Dataset: 0 training, 1 validation.
   * @defaultValue 1
   */
  dsIdx?: 0 | 1;
}

/** Options of {@link SegmentationInterpretation.plotTopLosses}. */
export interface PlotSegmentationTopLossesOptions {
  /** PNG file to write. */
  file: string;
  /**
   * Tile edge in pixels.
   * @defaultValue 192
   */
  tileSize?: number;
}

/** One row of {@link SegmentationInterpretation.topLosses}. */
export interface SegmentationTopLoss {
  /** Index of the image in the dataset interpreted. */
  readonly index: number;
  /** Its loss (the loss function's per-image value: the mean over its pixels for cross-entropy). */
  readonly loss: number;
  /** Its pixel accuracy. */
  readonly pixelAccuracy: number;
}

/**
 * The per-image losses, targets and predictions of a segmentation learner on one dataset,
 * held as plain arrays (nothing to dispose).
 *
 * @example
 * ```ts no-run (needs a trained segmentation learner)
 * const interp = await tsf.SegmentationInterpretation.fromLearner(learn);
 * console.table(interp.topLosses(5));
 * await interp.plotTopLosses(4, { file: 'worst.png' });
 * ```
 */
export class SegmentationInterpretation {
  /**
   * @param images - Images `[N, H, W, 3]` in [0, 1], flattened.
   * @param targets - Target masks `[N, H, W]`, flattened.
   * @param decoded - Predicted masks `[N, H, W]`, flattened.
   * @param losses - Per-image losses.
   * @param shape - `[N, H, W]`.
   * @param codes - Class names.
   */
  constructor(
    readonly images: Float32Array,
    readonly targets: Int32Array,
    readonly decoded: Int32Array,
    readonly losses: Float32Array,
    readonly shape: readonly [number, number, number],
    readonly codes: readonly string[],
  ) {}

  /**
   * Predicts on a dataset (`getPreds` with losses and inputs) and keeps what interpretation needs.
   * @param learn - A segmentation learner.
   * @param options - Dataset.
   * @returns The interpretation.
   * @throws {@link ValueError} for an unknown option.
   * @example
   * ```ts no-run (needs a trained segmentation learner)
   * const interp = await tsf.SegmentationInterpretation.fromLearner(learn, { dsIdx: 1 });
   * ```
   */
  static async fromLearner(
    learn: Learner,
    options: SegmentationInterpretationOptions = {},
  ): Promise<SegmentationInterpretation> {
    checkOptionKeys('SegmentationInterpretation.fromLearner', options, ['dsIdx']);
    const res = await learn.getPreds({
      dsIdx: options.dsIdx ?? 1,
      withLoss: true,
      withInput: true,
      withDecoded: true,
    });
    // present: withLoss throws on a stream without targets
    const targs = res.targs as tf.Tensor;
    try {
      const made = tf.tidy(() => [
        denormalize(res.inputs!, inputStats(learn.dls)),
        targs.toInt(),
        res.decoded!.toInt(),
      ]);
      const [img, targ, dec, loss] = await Promise.all([
        made[0]!.data() as Promise<Float32Array>,
        made[1]!.data() as Promise<Int32Array>,
        made[2]!.data() as Promise<Int32Array>,
        res.losses!.data() as Promise<Float32Array>,
      ]);
      tf.dispose(made);
      const [n, h, w] = targs.shape as [number, number, number];
      return new SegmentationInterpretation(img, targ, dec, loss, [n, h, w], learn.dls.vocab ?? []);
    } finally {
      tf.dispose([res.preds, targs, res.decoded!, res.losses!, res.inputs!]);
    }
  }

  /**
   * The `k` images with the highest loss, worst first.
   * @param k - How many. Defaults to all.
   * @returns Index, loss and pixel accuracy of each.
   * @example
   * ```ts
   * interp.topLosses(3)[0].loss;
   * ```
   */
  topLosses(k: number = this.losses.length): SegmentationTopLoss[] {
    const [, h, w] = this.shape;
    const per = h * w;
    return [...this.losses.keys()]
      .sort((a, b) => this.losses[b]! - this.losses[a]!)
      .slice(0, k)
      .map((index) => {
        let hit = 0;
        for (let p = index * per; p < (index + 1) * per; p++) {
          if (this.targets[p] === this.decoded[p]) hit++;
        }
        return { index, loss: this.losses[index]!, pixelAccuracy: hit / per };
      });
  }

  /**
   * Draws the `k` worst images, each with its target and predicted mask overlaid.
   * @param k - How many.
   * @param options - File and tile size.
   * @returns Resolves when the file is written.
   * @throws {@link ValueError} for a bad `k` or an unknown option.
   * @example
   * ```ts no-run (needs a segmentation interpretation of image files)
   * await interp.plotTopLosses(4, { file: 'worst.png' });
   * ```
   */
  async plotTopLosses(k: number, options: PlotSegmentationTopLossesOptions): Promise<void> {
    checkOptionKeys('plotTopLosses', options, ['file', 'tileSize']);
    if (!(Number.isInteger(k) && k > 0)) throw invalidValue('k', 'a positive integer', k);
    const top = this.topLosses(k);
    const [, h, w] = this.shape;
    const per = h * w;
    const pick = <T extends Float32Array | Int32Array>(src: T, size: number): T => {
      const out = new (src.constructor as new (n: number) => T)(top.length * size);
      top.forEach((t, i) => {
        out.set(src.subarray(t.index * size, (t.index + 1) * size), i * size);
      });
      return out;
    };
    const [xs, ys, ps] = tf.tidy(() => [
      tf.tensor4d(pick(this.images, per * 3), [top.length, h, w, 3]),
      tf.tensor3d(pick(this.targets, per), [top.length, h, w], 'int32'),
      tf.tensor3d(pick(this.decoded, per), [top.length, h, w], 'int32'),
    ]);
    try {
      await showMasks(
        xs,
        [
          { masks: ys, label: 'target' },
          { masks: ps, label: 'prediction' },
        ],
        this.codes,
        {
          ncols: 2,
          file: options.file,
          ...(options.tileSize === undefined ? {} : { tileSize: options.tileSize }),
        },
      );
    } finally {
      tf.dispose([xs, ys, ps]);
    }
  }
}
