/**
 * `visionLearner` (fastai's `vision_learner`, formerly `cnn_learner`): a pretrained body cut
 * at the right layer, fastai's head, parameter groups per architecture, frozen to start,
 * and the input normalisation the pretrained weights expect.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { checkOptionKeys } from '../core/errors.js';
import type { DataLoadersLike } from '../data/batch.js';
import type { DownloadOptions } from '../external/download.js';
import { LEARNER_OPTION_KEYS, type Learner, type LearnerOptions } from '../learner/learner.js';
import type { VisionArch } from './models/archs.js';
import { createHead } from './models/head.js';
import { withSigmoidRange } from './models/sigmoid-range.js';
import { learnerOnBody, pretrainedBody } from './pretrained-body.js';

/** Options of {@link visionLearner}: the model's, then every {@link LearnerOptions} key. */
export interface VisionLearnerOptions extends LearnerOptions {
  /**
   * Start from pretrained weights (and frozen: only the head trains until `unfreeze()`).
   * @defaultValue true
   */
  pretrained?: boolean;
  /**
   * Pretrained weights: a `.safetensors` file, a tfjs LayersModel folder / `model.json`, or a
   * URL of either (downloaded once into the tsfast cache).
   * @defaultValue the architecture's `weights`
   */
  weights?: string;
  /**
   * Where the body ends (layer name or index).
   * @defaultValue the architecture's `cut`
   */
  cut?: string | number;
  /**
   * Outputs of the head.
   * @defaultValue `dls.c`
   */
  nOut?: number;
  /**
   * Dropout of the head: `p / 2` before the hidden layer, `p` before the last.
   * @defaultValue 0.5
   */
  ps?: number | readonly number[];
  /**
   * Pool with concat(max, average).
   * @defaultValue true
   */
  concatPool?: boolean;
  /**
   * Hidden sizes of the head.
   * @defaultValue `[512]`
   */
  linFtrs?: readonly number[];
  /**
   * With pretrained weights, set the data's `Normalize` to the statistics they expect
   * (ImageNet statistics for the ResNets, [-1, 1] for the MobileNets).
   * @defaultValue true
   */
  normalize?: boolean;
  /**
   * Seed of the body (when not pretrained) and head initialisation and dropout. Defaults to
   * a fork of the global generator (`setSeed`).
   * @defaultValue undefined
   */
  seed?: number;
  /**
   * Download cache options for weight URLs.
   * @defaultValue the tsfast cache
   */
  download?: DownloadOptions;
  /**
   * fastai's `y_range`: the head ends in a {@link SigmoidRange} into `[low, high]` (regression
   * targets in a known range); `null` for none.
   * @defaultValue the data's `yRange` (`[-1, 1]` for a {@link PointBlock}), else none
   */
  yRange?: readonly [number, number] | null;
}

const VISION_KEYS = [
  'pretrained',
  'weights',
  'cut',
  'nOut',
  'yRange',
  'ps',
  'concatPool',
  'linFtrs',
  'normalize',
  'seed',
  'download',
] as const;
/**
 * Builds a Learner for image classification from an architecture: body (pretrained weights
 * loaded through a checked name map), fastai's head for `dls.c` classes, one parameter group
 * per stage of the body plus one for the head (ResNets and MobileNets: 3), frozen when
 * pretrained, and `dls.normalize(arch.stats)`.
 *
 * @param dls - The data (`dls.c` gives the number of outputs; `dls.normalize` gets the stats).
 * @param arch - An architecture (`tsf.resnet50`, `tsf.mobilenetV1({ alpha: 0.75 })`) or its
 *   registered name.
 * @param options - Model options (`pretrained`, `weights`, `cut`, `nOut`, `ps`,
 *   `concatPool`, `linFtrs`, `normalize`, `seed`) and any Learner option (`metrics`, `lr`,
 *   `lossFunc`, `wd`, `trainBn`, `cbs`, ...).
 * @returns The learner; its model is `body -> head` as one tfjs functional model.
 * @throws {@link ValueError} for an unknown option or architecture, a missing `weights` when
 *   the architecture has no default, or data without `normalize`; {@link DataError} when the
 *   weights do not fit the body (each missing or mis-shaped tensor named);
 *   {@link DownloadError} when a URL cannot be fetched.
 * @example
 * ```ts
 * const learn = await tsf.visionLearner(dls, tsf.mobilenetV1({ alpha: 0.75 }), {
 *   weights: '../shared/models/mobilenet_v1_0.75_224',
 *   metrics: [tsf.errorRate],
 * });
 * await learn.fineTune(3);
 * ```
 * @remarks Differs from fastai: the model is one flat functional model (tfjs has no nested
 *   `Sequential(body, head)` with per-layer training flags), and the default splitters are
 *   registered with the architecture rather than chosen by `model_meta` lookup of a function.
 */
export async function visionLearner(
  dls: DataLoadersLike,
  arch: VisionArch | string,
  options: VisionLearnerOptions = {},
): Promise<Learner> {
  checkOptionKeys('visionLearner', options, [...VISION_KEYS, ...LEARNER_OPTION_KEYS]);
  await ready();
  const built = await pretrainedBody('visionLearner', dls, arch, options);
  const { body, nOut, rng } = built;
  const features = body.outputs[0] as tf.SymbolicTensor;
  const head = createHead(features, nOut, {
    ...(options.ps !== undefined ? { ps: options.ps } : {}),
    ...(options.concatPool !== undefined ? { concatPool: options.concatPool } : {}),
    ...(options.linFtrs !== undefined ? { linFtrs: options.linFtrs } : {}),
    seed: rng.tensorSeed(),
  });
  const yRange = options.yRange === undefined ? dls.yRange : (options.yRange ?? undefined);
  const ranged = yRange ? withSigmoidRange(head, yRange) : head;
  const model = tf.model({ inputs: body.inputs, outputs: ranged.output, name: built.arch.name });
  return learnerOnBody(dls, built, model, ranged.layers, options);
}

/**
 * fastai's former name of {@link visionLearner}.
 *
 * @param dls - The data.
 * @param arch - An architecture or its name.
 * @param options - As {@link visionLearner}.
 * @returns The learner.
 * @throws As {@link visionLearner}.
 * @example
 * ```ts
 * const learn = await tsf.cnnLearner(dls, tsf.resnet34, { metrics: [tsf.errorRate] });
 * ```
 */
export const cnnLearner: typeof visionLearner = visionLearner;
