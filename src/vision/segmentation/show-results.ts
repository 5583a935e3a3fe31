/**
 * Segmentation results (fastai's `show_results` for masks): validation images with the target
 * mask and the predicted mask overlaid side by side.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import type { BatchStream, DataLoadersLike, NormalizeStats } from '../../data/batch.js';
import type { Learner } from '../../learner/learner.js';
import { showMasks } from './show-masks.js';

/** Options of {@link showSegmentationResults}. */
export interface ShowSegmentationResultsOptions {
  /** PNG file to write. */
  file: string;
  /**
   * Images shown (one row each: target, then prediction).
   * @defaultValue 6
   */
  maxN?: number;
  /**
   * Dataset: 0 training (augmented), 1 validation.
   * @defaultValue 1
   */
  dsIdx?: 0 | 1;
  /**
   * Tile edge in pixels.
   * @defaultValue 192
   */
  tileSize?: number;
}

/**
 * The statistics of the data's `Normalize`, to show inputs as images again (identity when the
 * data has none).
 * @param dls - The data.
 * @returns Mean and std per channel.
 * @internal
 */
export function inputStats(dls: DataLoadersLike): NormalizeStats {
  const n = (dls as { normalizer?: { stats: NormalizeStats } }).normalizer;
  return n?.stats ?? { mean: [0, 0, 0], std: [1, 1, 1] };
}

/**
 * Undoes `Normalize` on a batch of images: `x * std + mean` per channel.
 * @param xs - Normalised images `[N, H, W, 3]` (not disposed).
 * @param stats - The statistics.
 * @returns A new tensor in [0, 1] (up to augmentation overshoot).
 * @internal
 */
export function denormalize(xs: tf.Tensor, stats: NormalizeStats): tf.Tensor {
  return tf.tidy(() => xs.mul([...stats.std]).add([...stats.mean]));
}

/**
 * Takes the first `n` items of a stream as one batch.
 * @internal
 */
export async function firstItems(
  stream: BatchStream,
  n: number,
): Promise<{ xs: tf.Tensor; ys: tf.Tensor }> {
  const xs: tf.Tensor[] = [];
  const ys: tf.Tensor[] = [];
  let have = 0;
  try {
    for await (const batch of stream) {
      const take = Math.min(n - have, batch.xs.shape[0] as number);
      xs.push(batch.xs.slice(0, take));
      ys.push(batch.ys.slice(0, take));
      tf.dispose([batch.xs, batch.ys]);
      have += take;
      if (have >= n) break;
    }
    if (have === 0) throw new ValueError('showSegmentationResults: the dataset has no items.');
    return { xs: tf.concat(xs, 0), ys: tf.concat(ys, 0) };
  } finally {
    tf.dispose([...xs, ...ys]);
  }
}

/**
 * Writes a PNG with, for each of the first `maxN` validation images, the target mask and the
 * predicted mask (arg-max of the model's output) overlaid on the image, captioned `target`
 * and `prediction` (fastai's `show_results` for a `MaskBlock`).
 *
 * @param learn - A segmentation learner (outputs `[N, H, W, C]`).
 * @param options - File, number of images, dataset, tile size.
 * @returns Resolves when the file is written.
 * @throws {@link ValueError} for an unknown option or an empty dataset.
 * @example
 * ```ts no-run (needs a trained segmentation learner)
 * await tsf.showSegmentationResults(learn, { file: 'results.png', maxN: 4 });
 * ```
 */
export async function showSegmentationResults(
  learn: Learner,
  options: ShowSegmentationResultsOptions,
): Promise<void> {
  checkOptionKeys('showSegmentationResults', options, ['file', 'maxN', 'dsIdx', 'tileSize']);
  const maxN = options.maxN ?? 6;
  if (!(Number.isInteger(maxN) && maxN > 0)) throw invalidValue('maxN', 'a positive integer', maxN);
  const stream = (options.dsIdx ?? 1) === 0 ? learn.dls.train : learn.dls.valid;
  const { xs, ys } = await firstItems(stream, maxN);
  const [images, preds] = tf.tidy(() => {
    const out = learn.model.apply(xs, { training: false }) as tf.Tensor;
    return [denormalize(xs, inputStats(learn.dls)), out.argMax(-1)];
  });
  try {
    const codes = learn.dls.vocab ?? [];
    await showMasks(
      images,
      [
        { masks: ys, label: 'target' },
        { masks: preds, label: 'prediction' },
      ],
      codes,
      {
        ncols: 2,
        file: options.file,
        ...(options.tileSize === undefined ? {} : { tileSize: options.tileSize }),
      },
    );
  } finally {
    tf.dispose([xs, ys, images, preds]);
  }
}
