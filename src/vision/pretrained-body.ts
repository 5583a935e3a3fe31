/**
 * What `visionLearner` and `unetLearner` share (fastai's `create_body` and the end of
 * `vision_learner`): the architecture's body, cut and loaded with pretrained weights, and the
 * Learner assembled around a model with the body's parameter groups, frozen when pretrained.
 */
import type * as tf from '@tensorflow/tfjs';
import { invalidValue, ValueError } from '../core/errors.js';
import { type RandomGenerator, randomFor } from '../core/random.js';
import type { DataLoadersLike } from '../data/batch.js';
import type { DownloadOptions } from '../external/download.js';
import { LEARNER_OPTION_KEYS, Learner, type LearnerOptions } from '../learner/learner.js';
import { cutModel, getArch, type VisionArch } from './models/archs.js';
import { loadPretrainedWeights } from './models/load-weights.js';

/**
 * The options both learners take for their body.
 * @example
 * ```ts
 * const opts: BodyOptions = { pretrained: true, weights: 'models/mobilenet_v1_0.75_224' };
 * ```
 */
export interface BodyOptions {
  /** Use pretrained weights. @defaultValue true */
  pretrained?: boolean;
  /** Weights: a .safetensors file, a tfjs model folder or a URL. @defaultValue the architecture's */
  weights?: string;
  /** Outputs of the model. @defaultValue `dls.c` */
  nOut?: number;
  /** Normalise the data with the architecture's statistics. @defaultValue true */
  normalize?: boolean;
  /** Where to cut the body. @defaultValue the architecture's */
  cut?: string | number;
  /** Seed of the new layers' initialisation. @defaultValue the global generator */
  seed?: number;
  /** Download options for a URL. @defaultValue none */
  download?: DownloadOptions;
}

/** A body ready for a head or a decoder, and the choices made on the way. */
export interface PretrainedBody {
  /** The architecture. */
  readonly arch: VisionArch;
  /** The cut body (pretrained when asked). */
  readonly body: tf.LayersModel;
  /** Outputs of the model to build. */
  readonly nOut: number;
  /** Whether the weights are pretrained. */
  readonly pretrained: boolean;
  /** Whether the data is to be normalised with the architecture's statistics. */
  readonly normalize: boolean;
  /** The generator the new layers draw their initialisation from (the body drew first). */
  readonly rng: RandomGenerator;
}

/**
 * Checks the options, builds the architecture's body, cuts it and loads the pretrained
 * weights (the layers after the cut are freed).
 * @param fn - The caller's name, for messages (`visionLearner`, `unetLearner`).
 * @param dls - The data.
 * @param arch - An architecture or its name.
 * @param options - Body options.
 * @param inputShape - A fixed input shape `[h, w, 3]`, when the model needs one.
 * @returns The body and the choices.
 * @throws {@link ValueError} for a wrong `nOut`, missing weights or data without `normalize`.
 * @example
 * ```ts no-run (builds and loads a pretrained body)
 * const { body, rng } = await pretrainedBody('myLearner', dls, tsf.resnet34, {});
 * ```
 */
export async function pretrainedBody(
  fn: string,
  dls: DataLoadersLike,
  arch: VisionArch | string,
  options: BodyOptions,
  inputShape?: [number, number, number],
): Promise<PretrainedBody> {
  const a = typeof arch === 'string' ? getArch(arch) : arch;
  const pretrained = options.pretrained ?? true;
  const nOut = options.nOut ?? dls.c;
  if (!Number.isInteger(nOut) || nOut < 1) {
    throw invalidValue('nOut', 'a positive integer (the data has no `c`)', nOut);
  }
  const source = options.weights ?? a.weights;
  if (pretrained && source === undefined) {
    throw new ValueError(
      `${fn}: architecture "${a.name}" has no default pretrained weights; pass ` +
        '`weights` (a .safetensors file, a tfjs model folder or a URL) or `pretrained: false`',
    );
  }
  const normalize = options.normalize ?? true;
  if (pretrained && normalize && typeof dls.normalize !== 'function') {
    throw new ValueError(
      `${fn}: the data has no \`normalize\` method to set the statistics the pretrained ` +
        `weights expect (${JSON.stringify(a.stats)}); normalise the inputs yourself and pass ` +
        '`normalize: false`',
    );
  }
  const rng = randomFor(options.seed);
  const full = await a.body({
    initialize: !pretrained,
    seed: rng.tensorSeed(),
    ...(inputShape ? { inputShape } : {}),
  });
  const body = cutModel(full, options.cut ?? a.cut);
  // Layers after the cut (pooling, classifier) are not used: free their weights.
  const kept = new Set(body.layers);
  for (const layer of full.layers) {
    if (!kept.has(layer) && layer.weights.length > 0) {
      for (const w of layer.weights) w.read().dispose();
    }
  }
  if (pretrained && source !== undefined) {
    await loadPretrainedWeights(body, source, {
      allowUnexpected: true,
      ...(options.download ? { download: options.download } : {}),
    });
  }
  return { arch: a, body, nOut, pretrained, normalize, rng };
}

/**
 * The Learner around a model built on a pretrained body: the body's parameter groups then
 * `newLayers` as the last group, the Learner options passed through, the data normalised
 * with the architecture's statistics and the body frozen when pretrained.
 * @param dls - The data.
 * @param built - What {@link pretrainedBody} returned.
 * @param model - The whole model.
 * @param newLayers - The layers added to the body (head, decoder): the last group.
 * @param options - The caller's options (the Learner's are picked from them).
 * @returns The learner.
 * @example
 * ```ts no-run (needs a pretrained body)
 * const built = await pretrainedBody('myLearner', dls, tsf.resnet34, {});
 * const learn = learnerOnBody(dls, built, built.body, [], {});
 * ```
 */
export function learnerOnBody(
  dls: DataLoadersLike,
  built: PretrainedBody,
  model: tf.LayersModel,
  newLayers: readonly tf.layers.Layer[],
  options: LearnerOptions,
): Learner {
  const bodyGroups = built.arch.split(built.body);
  const learnerOptions: LearnerOptions = { splitter: () => [...bodyGroups, [...newLayers]] };
  for (const key of LEARNER_OPTION_KEYS) {
    const value = options[key];
    if (value !== undefined) Object.assign(learnerOptions, { [key]: value });
  }
  if (built.pretrained && built.normalize) dls.normalize?.(built.arch.stats);
  const learn = new Learner(dls, model, learnerOptions);
  if (built.pretrained) learn.freeze();
  return learn;
}
