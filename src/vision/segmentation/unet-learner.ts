/**
 * `unetLearner` (fastai's `unet_learner`): a `DynamicUnet` on a pretrained body from the
 * architecture registry, parameter groups and freezing as `visionLearner`.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../backend/index.js';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import type { DataLoadersLike } from '../../data/batch.js';
import type { DownloadOptions } from '../../external/download.js';
import { LEARNER_OPTION_KEYS, type Learner, type LearnerOptions } from '../../learner/learner.js';
import type { VisionArch } from '../models/archs.js';
import { learnerOnBody, pretrainedBody } from '../pretrained-body.js';
import { dynamicUnet } from './dynamic-unet.js';

/** Options of {@link unetLearner}: the model's, then every {@link LearnerOptions} key. */
export interface UnetLearnerOptions extends LearnerOptions {
  /**
   * Start from pretrained body weights (and frozen: only the decoder trains until `unfreeze()`).
   * @defaultValue true
   */
  pretrained?: boolean;
  /**
   * Pretrained weights: a `.safetensors` file, a tfjs LayersModel folder / `model.json`, or a URL.
   * @defaultValue the architecture's `weights`
   */
  weights?: string;
  /**
   * Where the body ends (layer name or index). A MobileNetV2 U-Net is far cheaper cut at
   * `'block_16_project_BN'` (112 channels at alpha 0.35) than at `out_relu` (1280).
   * @defaultValue the architecture's `cut`
   */
  cut?: string | number;
  /**
   * Classes per pixel.
   * @defaultValue `dls.c`
   */
  nOut?: number;
  /**
   * Input `[height, width]` the U-Net is built for (fastai's `img_size`).
   * @defaultValue the size of the first training batch
   */
  imgSize?: number | readonly [number, number];
  /**
   * Self-attention in the third decoder block from the end.
   * @defaultValue false
   */
  selfAttention?: boolean;
  /**
   * Concatenate the input before the last residual block.
   * @defaultValue true
   */
  lastCross?: boolean;
  /**
   * Halve the channels of that residual block.
   * @defaultValue false
   */
  bottle?: boolean;
  /**
   * Set the data's `Normalize` to the statistics the pretrained weights expect.
   * @defaultValue true
   */
  normalize?: boolean;
  /**
   * Seed of the body (when not pretrained) and decoder initialisation.
   * @defaultValue undefined (a fork of the global generator)
   */
  seed?: number;
  /**
   * Download cache options for weight URLs.
   * @defaultValue the tsfast cache
   */
  download?: DownloadOptions;
}

const UNET_KEYS = [
  'pretrained',
  'weights',
  'cut',
  'nOut',
  'imgSize',
  'selfAttention',
  'lastCross',
  'bottle',
  'normalize',
  'seed',
  'download',
] as const;

async function firstBatchSize(dls: DataLoadersLike): Promise<[number, number]> {
  for await (const { xs, ys } of dls.train) {
    const size: [number, number] = [xs.shape[1] as number, xs.shape[2] as number];
    tf.dispose([xs, ys]);
    return size;
  }
  throw new ValueError(
    'unetLearner: the training data has no batch to size the U-Net; pass `imgSize`.',
  );
}

/**
 * Builds a Learner for segmentation (fastai's `unet_learner`): the architecture's body cut and
 * built for the data's image size, pretrained weights, a {@link dynamicUnet} decoder for
 * `dls.c` classes, the body's parameter groups plus the decoder as the last group, frozen when
 * pretrained (only the decoder trains, BatchNorm layers included with `trainBn`), and
 * `dls.normalize(arch.stats)`. The default loss is `CrossEntropyLossFlat` over pixels (the
 * data's `MaskBlock` has a vocab).
 *
 * @param dls - Segmentation data (`MaskBlock` targets).
 * @param arch - An architecture or its registered name.
 * @param options - Model options and any Learner option (`metrics`, `lossFunc`, `wd`, ...).
 * @returns The learner.
 * @throws {@link ValueError} for an unknown option or architecture, missing weights, or data
 *   without `normalize`; {@link DataError} when the weights do not fit the body.
 * @example
 * ```ts
 * const learn = await tsf.unetLearner(dls, tsf.mobilenetV2({ alpha: 0.35 }), {
 *   weights: '../shared/models/mobilenet_v2_0.35_224_notop',
 *   cut: 'block_16_project_BN',
 *   metrics: [tsf.foregroundAcc, tsf.DiceMulti()],
 * });
 * await learn.fineTune(8);
 * ```
 * @remarks Differs from fastai: the U-Net is built for one input size (`imgSize`), as tfjs
 *   functional models have static shapes here.
 */
export async function unetLearner(
  dls: DataLoadersLike,
  arch: VisionArch | string,
  options: UnetLearnerOptions = {},
): Promise<Learner> {
  checkOptionKeys('unetLearner', options, [...UNET_KEYS, ...LEARNER_OPTION_KEYS]);
  await ready();
  const size = options.imgSize ?? (await firstBatchSize(dls));
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (![h, w].every((v) => Number.isInteger(v) && (v as number) > 0)) {
    throw invalidValue('imgSize', 'a positive integer or [height, width]', size);
  }
  const built = await pretrainedBody('unetLearner', dls, arch, options, [
    h as number,
    w as number,
    3,
  ]);
  const { body, nOut, rng } = built;
  const unet = dynamicUnet(body, nOut, {
    ...(options.selfAttention !== undefined ? { selfAttention: options.selfAttention } : {}),
    ...(options.lastCross !== undefined ? { lastCross: options.lastCross } : {}),
    ...(options.bottle !== undefined ? { bottle: options.bottle } : {}),
    seed: rng.tensorSeed(),
  });
  return learnerOnBody(dls, built, unet.model, unet.decoderLayers, options);
}
