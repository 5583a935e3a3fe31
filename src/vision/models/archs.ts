/**
 * The architecture registry: what `visionLearner` needs to know about a network (fastai's
 * `model_meta`): how to build it, where to cut the body, how to split it into parameter
 * groups, which input statistics its pretrained weights expect, and where those weights are.
 * The built-in ResNets and MobileNets are entries like any a user registers.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import { imagenetStats, inceptionStats, type NormalizeStats } from '../../data/batch.js';
import {
  buildMobilenetV1,
  buildMobilenetV2,
  MOBILENET_V1_CUT,
  MOBILENET_V2_CUT,
} from './mobilenet.js';
import { buildResnet, type ResnetDepth, resnetCut } from './resnet.js';

/** What an architecture's `body` builder receives. */
export interface ArchBuildOptions {
  /**
   * Draw random initial weights; `false` when pretrained weights are loaded right after.
   * @defaultValue true
   */
  initialize?: boolean;
  /**
   * Seed of the initialisation. Defaults to a fork of the global generator.
   * @defaultValue undefined
   */
  seed?: number;
  /**
   * Input shape `[h, w, c]`; `null` sizes accept any size.
   * @defaultValue `[null, null, 3]`
   */
  inputShape?: readonly (number | null)[];
}

/** An architecture as `visionLearner` uses it (fastai's `model_meta` entry plus the builder). */
export interface ArchSpec {
  /** Registry name, e.g. `resnet50` or `mobilenet_v1_0.75`. */
  readonly name: string;
  /**
   * Builds the network (the whole classifier or only the body) with tfjs layers; layer names
   * must follow the naming of the pretrained files (PyTorch module paths for safetensors,
   * Keras names for tfjs folders).
   */
  readonly body: (options: ArchBuildOptions) => tf.LayersModel | Promise<tf.LayersModel>;
  /**
   * Where the body ends: a layer name, or an index into `model.layers` (negative counts from
   * the end). The body's output is that layer's output. Omitted: the whole network.
   */
  readonly cut?: string | number;
  /**
   * Splits the body into parameter groups (earliest first); the learner adds the head as the
   * last group.
   */
  readonly split: (body: tf.LayersModel) => tf.layers.Layer[][];
  /** Input statistics the pretrained weights expect (`Normalize` uses them). */
  readonly stats: NormalizeStats;
  /** Default pretrained weights: a path or URL (safetensors or tfjs folder). */
  readonly weights?: string;
}

/** A validated, registered architecture. */
export type VisionArch = ArchSpec;

const SPEC_KEYS = ['name', 'body', 'cut', 'split', 'stats', 'weights'] as const;
const registry = new Map<string, VisionArch>();

/**
 * Validates an architecture description without registering it.
 *
 * @param spec - Name, body builder, cut, split, stats and optional default weights.
 * @returns The frozen architecture.
 * @throws {@link ValueError} when a field is missing or of the wrong type.
 * @example
 * ```ts
 * const myConvNet = () =>
 *   tf.sequential({
 *     layers: [tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 8, kernelSize: 3 })],
 *   });
 * const tiny = tsf.defineArch({
 *   name: 'tiny',
 *   body: () => myConvNet(),
 *   split: (body) => [body.layers],
 *   stats: tsf.imagenetStats,
 * });
 * ```
 */
export function defineArch(spec: ArchSpec): VisionArch {
  checkOptionKeys('defineArch', spec, SPEC_KEYS);
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw invalidValue('name', 'a non-empty string', spec.name);
  }
  if (typeof spec.body !== 'function') throw invalidValue('body', 'a function', spec.body);
  if (typeof spec.split !== 'function') throw invalidValue('split', 'a function', spec.split);
  if (spec.cut !== undefined && typeof spec.cut !== 'string' && !Number.isInteger(spec.cut)) {
    throw invalidValue('cut', 'a layer name or an integer index', spec.cut);
  }
  if (
    !spec.stats ||
    spec.stats.mean?.length !== spec.stats.std?.length ||
    spec.stats.mean.length === 0
  ) {
    throw invalidValue('stats', '{ mean, std } arrays of equal length', spec.stats);
  }
  return Object.freeze({ ...spec });
}

/**
 * Registers an architecture under its name, so `getArch(name)` and command lines
 * (`--arch name`) find it.
 *
 * @param spec - As {@link defineArch}.
 * @returns The registered architecture.
 * @throws {@link ValueError} when invalid or when the name is taken.
 * @example
 * ```ts
 * const myConvNet = () =>
 *   tf.sequential({
 *     layers: [tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 8, kernelSize: 3 })],
 *   });
 * const spec = { body: () => myConvNet(), split: (b: tf.LayersModel) => [b.layers] };
 * tsf.registerArch({ name: 'tiny-example', ...spec, stats: tsf.imagenetStats });
 * tsf.getArch('tiny-example');
 * ```
 */
export function registerArch(spec: ArchSpec): VisionArch {
  const arch = defineArch(spec);
  if (registry.has(arch.name)) {
    throw new ValueError(
      `registerArch: an architecture named "${arch.name}" is already registered`,
    );
  }
  registry.set(arch.name, arch);
  return arch;
}

/**
 * A registered architecture by name.
 *
 * @param name - e.g. `resnet50`, `mobilenet_v1_0.75`.
 * @returns The architecture.
 * @throws {@link ValueError} listing the registered names when unknown.
 * @example
 * ```ts
 * const arch = tsf.getArch('mobilenet_v1_0.75');
 * ```
 */
export function getArch(name: string): VisionArch {
  const arch = registry.get(name);
  if (arch === undefined) {
    throw new ValueError(
      `Unknown architecture "${name}". Registered: ${archNames().join(', ')}; register your own with registerArch`,
    );
  }
  return arch;
}

/**
 * Names of the registered architectures, sorted.
 * @returns The names.
 * @example
 * ```ts
 * tsf.archNames(); // ['mobilenet_v1_0.25', ..., 'resnet50', ...]
 * ```
 */
export function archNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * The body of a network: from its inputs to the output of the `cut` layer.
 *
 * @param model - The whole network.
 * @param cut - A layer name, or an index into `model.layers` (negative from the end);
 *   `undefined` keeps the whole model.
 * @returns A model sharing the layers (and weights) of `model`.
 * @throws {@link ValueError} naming the layer when it does not exist.
 * @example
 * ```ts
 * const net = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'features' }),
 *     tf.layers.flatten(),
 *     tf.layers.dense({ units: 2 }),
 *   ],
 * });
 * const body = tsf.cutModel(net, 'features'); // ends at the conv layer's output
 * ```
 */
export function cutModel(model: tf.LayersModel, cut: string | number | undefined): tf.LayersModel {
  if (cut === undefined) return model;
  let layer: tf.layers.Layer | undefined;
  if (typeof cut === 'number') {
    layer = model.layers[cut < 0 ? model.layers.length + cut : cut];
  } else {
    layer = model.layers.find((l) => l.name === cut);
  }
  if (layer === undefined) {
    throw new ValueError(
      `cut: model "${model.name}" has no layer ${typeof cut === 'number' ? `at index ${cut}` : `"${cut}"`} ` +
        `(${model.layers.length} layers; last: "${model.layers.at(-1)?.name}")`,
    );
  }
  if (layer === model.layers.at(-1)) return model;
  // A model built on the same graph shares the layers and their variables.
  return tf.model({
    inputs: model.inputs,
    outputs: layer.output as tf.SymbolicTensor,
    name: `${model.name}_body`,
  });
}

const byPrefix =
  (test: (name: string) => boolean) =>
  (body: tf.LayersModel): tf.layers.Layer[][] => [
    body.layers.filter((l) => !test(l.name)),
    body.layers.filter((l) => test(l.name)),
  ];

/** fastai's ResNet split: stem + layer1 + layer2 | layer3 + layer4 (| head). */
const resnetSplit = byPrefix((n) => n.startsWith('layer3') || n.startsWith('layer4'));

function resnetArch(depth: ResnetDepth): VisionArch {
  return registerArch({
    name: `resnet${depth}`,
    body: (o) => buildResnet(depth, o),
    cut: resnetCut(depth),
    split: resnetSplit,
    stats: imagenetStats,
    weights: `https://huggingface.co/timm/resnet${depth}.tv_in1k/resolve/main/model.safetensors`,
  });
}

/**
 * torchvision's ResNet-18 (basic blocks), ImageNet statistics, default weights
 * `timm/resnet18.tv_in1k` (torchvision's weights as safetensors). Split in 3 groups: stem +
 * layer1-2, layer3-4, head.
 */
export const resnet18: VisionArch = resnetArch(18);
/** torchvision's ResNet-34; see {@link resnet18}. */
export const resnet34: VisionArch = resnetArch(34);
/** torchvision's ResNet-50 (bottlenecks, stride on the 3x3 conv); see {@link resnet18}. */
export const resnet50: VisionArch = resnetArch(50);
/** torchvision's ResNet-101; see {@link resnet18}. */
export const resnet101: VisionArch = resnetArch(101);
/** torchvision's ResNet-152; see {@link resnet18}. */
export const resnet152: VisionArch = resnetArch(152);

/** Options of {@link mobilenetV1} and {@link mobilenetV2}. */
export interface MobilenetArchOptions {
  /**
   * Width multiplier.
   * @defaultValue 1
   */
  alpha?: number;
}

const alphaName = (alpha: number) => (Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha));

/** MobileNet v1 split: conv1 and blocks 1-5 (down to 28x28) | blocks 6-13 (| head). */
const mobilenetV1Split = byPrefix((n) => {
  const m = /^conv_(?:dw|pw)_(\d+)/.exec(n);
  return m !== null && Number(m[1]) >= 6;
});

/** MobileNet v2 split: stem and blocks 0-5 (down to 28x28) | blocks 6-16 and Conv_1 (| head). */
const mobilenetV2Split = byPrefix((n) => {
  const m = /^block_(\d+)_/.exec(n);
  return (m !== null && Number(m[1]) >= 6) || n.startsWith('Conv_1') || n === 'out_relu';
});

/**
 * Keras's MobileNet v1 as an architecture (`mobilenet_v1_{alpha}`): body up to
 * `conv_pw_13_relu`, inputs scaled to [-1, 1] (`inceptionStats`), default weights the
 * TensorFlow.js team's conversion for alpha 0.25, 0.5, 0.75 and 1. Split in 3 groups: conv1
 * and blocks 1-5 (down to 28x28), blocks 6-13, head.
 *
 * @param options - `alpha`.
 * @returns The registered architecture for that width (the same object on every call).
 * @throws {@link ValueError} for a bad option.
 * @example
 * ```ts
 * const learn = await tsf.visionLearner(dls, tsf.mobilenetV1({ alpha: 0.75 }));
 * ```
 */
export function mobilenetV1(options: MobilenetArchOptions = {}): VisionArch {
  checkOptionKeys('mobilenetV1', options, ['alpha']);
  const alpha = options.alpha ?? 1;
  const name = `mobilenet_v1_${alpha}`;
  const known = registry.get(name);
  if (known) return known;
  const hosted = [0.25, 0.5, 0.75, 1].includes(alpha);
  const a = alpha === 0.5 ? '0.50' : alphaName(alpha);
  return registerArch({
    name,
    body: (o) => buildMobilenetV1({ ...o, alpha, includeTop: false }),
    cut: MOBILENET_V1_CUT,
    split: mobilenetV1Split,
    stats: inceptionStats,
    ...(hosted
      ? {
          weights: `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${a}_224/model.json`,
        }
      : {}),
  });
}

/**
 * keras-applications' MobileNetV2 as an architecture (`mobilenet_v2_{alpha}`): body up to
 * `out_relu`, inputs in [-1, 1]. No default weights URL (Google hosts none as a LayersModel):
 * pass `weights` (a tfjs LayersModel folder with keras-applications names). Split in 3
 * groups: stem and blocks 0-5, blocks 6-16 and `Conv_1`, head.
 *
 * @param options - `alpha`.
 * @returns The registered architecture for that width.
 * @throws {@link ValueError} for a bad option.
 * @example
 * ```ts
 * const learn = await tsf.visionLearner(dls, tsf.mobilenetV2({ alpha: 0.35 }), {
 *   weights: '../shared/models/mobilenet_v2_0.35_224_notop',
 * });
 * ```
 */
export function mobilenetV2(options: MobilenetArchOptions = {}): VisionArch {
  checkOptionKeys('mobilenetV2', options, ['alpha']);
  const alpha = options.alpha ?? 1;
  const name = `mobilenet_v2_${alpha}`;
  const known = registry.get(name);
  if (known) return known;
  return registerArch({
    name,
    body: (o) => buildMobilenetV2({ ...o, alpha, includeTop: false }),
    cut: MOBILENET_V2_CUT,
    split: mobilenetV2Split,
    stats: inceptionStats,
  });
}

for (const alpha of [0.25, 0.5, 0.75, 1]) mobilenetV1({ alpha });
for (const alpha of [0.35, 0.5, 0.75, 1, 1.3, 1.4]) mobilenetV2({ alpha });
