/**
 * Flip test-time augmentation for dense (per-pixel) predictions: the model sees each image and
 * its mirror, and the mirror's prediction is mirrored back before the two are averaged, so
 * every averaged probability belongs to the same pixel.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../backend/index.js';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import type { BatchStream } from '../../data/batch.js';
import type { Learner } from '../../learner/learner.js';

/** A mirror of an NHWC image: `horizontal` reverses the width axis, `vertical` the height. */
export type FlipAxis = 'horizontal' | 'vertical';

/**
 * Options of {@link flipTta}.
 * @example
 * ```ts no-run (needs a trained U-Net learner)
 * const options: tsf.FlipTtaOptions = { flips: ['horizontal'], dsIdx: 1 };
 * const { preds, targs } = await tsf.flipTta(learn, options);
 * ```
 */
export interface FlipTtaOptions {
  /**
   * Mirrors averaged with the plain prediction, each one a pass of the model. Pets, streets
   * and most photos are left/right symmetric but not upside-down symmetric, hence the default.
   * @defaultValue ['horizontal']
   */
  flips?: readonly FlipAxis[];
  /**
   * Dataset: 0 = training stream, 1 = validation.
   * @defaultValue 1
   */
  dsIdx?: 0 | 1;
  /**
   * Another stream to predict on (overrides `dsIdx`), e.g. `dls.testDl(files)`.
   * @defaultValue undefined
   */
  dl?: BatchStream;
}

/**
 * What {@link flipTta} returns; the caller disposes both tensors.
 * @example
 * ```ts no-run (needs a trained U-Net learner)
 * const res: tsf.FlipTtaResult = await tsf.flipTta(learn);
 * tf.dispose([res.preds, res.targs!]);
 * ```
 */
export interface FlipTtaResult {
  /** Probabilities `[N, H, W, C]`, the mean over the plain pass and the mirrored passes. */
  preds: tf.Tensor;
  /** Targets `[N, H, W]`; absent when the stream has no targets. */
  targs?: tf.Tensor;
}

const FLIP_AXES: Record<FlipAxis, number> = { horizontal: 2, vertical: 1 };

/**
 * Test-time augmentation for segmentation: the mean of the model's probabilities over each
 * image and its mirrors, each mirror's prediction flipped back first, in inference mode.
 *
 * @remarks Differs from fastai: fastai's `learn.tta` averages passes over randomly augmented
 * batches, which suits a class per image but not masks, since the augmentation moves pixels
 * and the averaged probabilities would belong to different pixels. A flip is undone exactly.
 * @param learn - A learner whose model maps images `[N, H, W, 3]` to per-pixel outputs
 *   `[N, H, W, C]` (a U-Net).
 * @param options - See {@link FlipTtaOptions}.
 * @returns Averaged probabilities and the targets; the caller disposes them.
 * @throws {@link ValueError} for unknown options, an unknown or repeated flip, a `dsIdx` other
 *   than 0 or 1, inputs that are not image batches, outputs that are not per-pixel, or an empty stream.
 * @example
 * ```ts no-run (needs a trained U-Net learner)
 * const { preds, targs } = await tsf.flipTta(learn);
 * const acc = tsf.pixelAccuracy(preds, targs!);
 * console.log('pixel accuracy with flip TTA', (await acc.data())[0]);
 * tf.dispose([preds, targs!, acc]);
 * ```
 */
export async function flipTta(
  learn: Learner,
  options: FlipTtaOptions = {},
): Promise<FlipTtaResult> {
  checkOptionKeys('flipTta', options, ['flips', 'dsIdx', 'dl']);
  const flips = options.flips ?? ['horizontal'];
  if (!Array.isArray(flips) || flips.some((f) => !Object.hasOwn(FLIP_AXES, f))) {
    throw invalidValue('flips', "a list of 'horizontal' and 'vertical'", flips);
  }
  if (new Set(flips).size !== flips.length) {
    throw invalidValue('flips', 'a list without repeats', flips);
  }
  if (options.dsIdx !== undefined && options.dsIdx !== 0 && options.dsIdx !== 1) {
    throw invalidValue('dsIdx', '0 (training) or 1 (validation)', options.dsIdx);
  }
  await ready();
  const dl = options.dl ?? ((options.dsIdx ?? 1) === 0 ? learn.dls.train : learn.dls.valid);
  const hasTargets = dl.hasTargets ?? true;
  const preds: tf.Tensor[] = [];
  const targs: tf.Tensor[] = [];
  try {
    let b = 0;
    for await (const { xs, ys } of dl) {
      try {
        checkImages(xs, b);
        preds.push(tf.tidy(() => averagedProbs(learn, xs, flips)));
        if (hasTargets) targs.push(ys.clone());
      } finally {
        tf.dispose([xs, ys]);
      }
      b++;
    }
    if (preds.length === 0) {
      throw new ValueError('flipTta: the stream yielded no batches; nothing to predict.');
    }
    const result: FlipTtaResult = { preds: tf.concat(preds, 0) };
    if (hasTargets) result.targs = tf.concat(targs, 0);
    return result;
  } finally {
    tf.dispose([...preds, ...targs]);
  }
}

function checkImages(xs: tf.Tensor, batch: number): void {
  if (xs.rank !== 4) {
    throw new ValueError(
      `flipTta mirrors images, but batch ${batch} has inputs of shape ` +
        `${JSON.stringify(xs.shape)}, not [N, H, W, C]; use learn.tta() for other data.`,
    );
  }
}

function averagedProbs(learn: Learner, xs: tf.Tensor, flips: readonly FlipAxis[]): tf.Tensor {
  const probs = (x: tf.Tensor): tf.Tensor => {
    const out = learn.model.apply(x, { training: false }) as tf.Tensor;
    if (out.rank !== 4 || out.shape[1] !== xs.shape[1] || out.shape[2] !== xs.shape[2]) {
      throw new ValueError(
        `flipTta averages per-pixel predictions, but the model maps images of shape ` +
          `${JSON.stringify(xs.shape)} to ${JSON.stringify(out.shape)}, not ` +
          `[N, ${xs.shape[1]}, ${xs.shape[2]}, C]; use learn.tta() for a classifier.`,
      );
    }
    return learn.lossFunc.activation(out);
  };
  let sum = probs(xs);
  for (const flip of flips) {
    const axis = FLIP_AXES[flip];
    sum = sum.add(tf.reverse(probs(tf.reverse(xs, axis)), axis));
  }
  return sum.div(flips.length + 1);
}
