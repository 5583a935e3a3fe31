/**
 * torchvision's ResNets as tfjs layers. Layer names are PyTorch module paths (`conv1`,
 * `layer1.0.bn2`, `layer2.0.downsample.0`, `fc`), so torchvision and timm state dicts map onto
 * them by name; padding is explicit wherever PyTorch's symmetric padding differs from tfjs's
 * `same` (stride 2), and the stride of a bottleneck sits on its 3x3 conv (ResNet v1.5).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import { randomFor } from '../../core/random.js';
import { BatchNorm } from './batch-norm.js';
import { kaimingInit, linearDefaultInit } from './init.js';
import { ReLUFromOutput } from './relu6.js';

/** Options of the ResNet builders ({@link buildResnet}, `resnet50.body(...)`). */
export interface ResnetOptions {
  /**
   * Number of classes of the final `fc` layer.
   * @defaultValue 1000 (ImageNet, so pretrained files load with their classifier)
   */
  nClasses?: number;
  /**
   * Input shape `[height, width, channels]`; `null` sizes accept any image size.
   * @defaultValue `[null, null, 3]`
   */
  inputShape?: readonly (number | null)[];
  /**
   * Initialise weights as torchvision does (kaiming normal, fan-out, for convs). Pass `false`
   * when weights are loaded right after, to skip drawing millions of random numbers.
   * @defaultValue true
   */
  initialize?: boolean;
  /**
   * Seed of the initialisation. Defaults to a fork of the global generator (`setSeed`).
   * @defaultValue undefined
   */
  seed?: number;
}

const RESNET_OPTION_KEYS = ['nClasses', 'inputShape', 'initialize', 'seed'] as const;

/** A depth with a torchvision configuration. */
export type ResnetDepth = 18 | 34 | 50 | 101 | 152;

/**
 * One ResNet depth's layout, as torchvision defines it.
 * @example
 * ```ts
 * const { block, layers } = tsf.RESNET_CONFIGS[50]; // 'bottleneck', [3, 4, 6, 3]
 * ```
 */
export interface ResnetConfig {
  /** Residual block: two 3x3 convs (`basic`) or 1x1-3x3-1x1 (`bottleneck`). */
  readonly block: 'basic' | 'bottleneck';
  /** Blocks in each of the four stages. */
  readonly layers: readonly [number, number, number, number];
}

/** Block type and blocks per stage of each ResNet depth, as torchvision defines them. */
export const RESNET_CONFIGS: Readonly<Record<ResnetDepth, ResnetConfig>> = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
};

// PyTorch BatchNorm2d defaults: eps 1e-5, momentum 0.1 (tfjs keeps 1 - momentum).
const BN = { epsilon: 1e-5, momentum: 0.9 } as const;

function conv(
  x: tf.SymbolicTensor,
  name: string,
  filters: number,
  kernelSize: number,
  strides: number,
  pad: number,
): tf.SymbolicTensor {
  let y = x;
  // PyTorch pads symmetrically; tfjs `same` with stride 2 pads only bottom/right, so pad
  // explicitly there. With stride 1 and an odd kernel both agree.
  const same = strides === 1 && pad === (kernelSize - 1) / 2;
  if (!same && pad > 0) {
    y = tf.layers
      .zeroPadding2d({ padding: pad, name: `${name}.pad` })
      .apply(y) as tf.SymbolicTensor;
  }
  return tf.layers
    .conv2d({
      filters,
      kernelSize,
      strides,
      padding: same ? 'same' : 'valid',
      useBias: false,
      kernelInitializer: 'zeros',
      name,
    })
    .apply(y) as tf.SymbolicTensor;
}

function bn(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return new BatchNorm({ axis: -1, ...BN, name }).apply(x) as tf.SymbolicTensor;
}

function relu(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  // Gradient from the output: the BatchNorm output before it is freed in the forward pass.
  return new ReLUFromOutput({ name }).apply(x) as tf.SymbolicTensor;
}

function block(
  x: tf.SymbolicTensor,
  prefix: string,
  kind: 'basic' | 'bottleneck',
  planes: number,
  strides: number,
  downsample: boolean,
): tf.SymbolicTensor {
  let y: tf.SymbolicTensor;
  let outC: number;
  if (kind === 'basic') {
    outC = planes;
    y = relu(
      bn(conv(x, `${prefix}.conv1`, planes, 3, strides, 1), `${prefix}.bn1`),
      `${prefix}.relu1`,
    );
    y = bn(conv(y, `${prefix}.conv2`, planes, 3, 1, 1), `${prefix}.bn2`);
  } else {
    outC = planes * 4;
    y = relu(bn(conv(x, `${prefix}.conv1`, planes, 1, 1, 0), `${prefix}.bn1`), `${prefix}.relu1`);
    y = relu(
      bn(conv(y, `${prefix}.conv2`, planes, 3, strides, 1), `${prefix}.bn2`),
      `${prefix}.relu2`,
    );
    y = bn(conv(y, `${prefix}.conv3`, outC, 1, 1, 0), `${prefix}.bn3`);
  }
  const identity = downsample
    ? bn(conv(x, `${prefix}.downsample.0`, outC, 1, strides, 0), `${prefix}.downsample.1`)
    : x;
  const sum = tf.layers.add({ name: `${prefix}.add` }).apply([y, identity]) as tf.SymbolicTensor;
  return relu(sum, `${prefix}.relu`);
}

/**
 * The name of the layer whose output is a ResNet's body (the last block's final ReLU), where
 * `visionLearner` cuts before the pooling and `fc` layers.
 *
 * @param depth - 18, 34, 50, 101 or 152.
 * @returns e.g. `"layer4.2.relu"` for ResNet-50.
 * @example
 * ```ts
 * tsf.resnetCut(50); // 'layer4.2.relu'
 * ```
 */
export function resnetCut(depth: ResnetDepth): string {
  const n = RESNET_CONFIGS[depth].layers[3];
  return `layer4.${n - 1}.relu`;
}

/**
 * Builds torchvision's `resnet{depth}` as a tfjs functional model: input NHWC, output the
 * `fc` logits. Weight layouts follow tfjs (`[kh, kw, in, out]`); `loadTorchWeights` converts
 * PyTorch tensors onto it.
 *
 * @param depth - 18, 34, 50, 101 or 152.
 * @param options - Classes, input shape, initialisation.
 * @returns A new `tf.LayersModel` named `resnet{depth}`.
 * @throws {@link ValueError} for an unknown depth or option.
 * @example
 * ```ts
 * const model = tsf.buildResnet(50, { nClasses: 10 });
 * model.predict(tf.zeros([1, 224, 224, 3])); // [1, 10] logits
 * ```
 */
export function buildResnet(depth: ResnetDepth, options: ResnetOptions = {}): tf.LayersModel {
  checkOptionKeys(`resnet${depth}`, options, RESNET_OPTION_KEYS);
  const config = RESNET_CONFIGS[depth];
  if (config === undefined) {
    throw invalidValue('depth', `one of ${Object.keys(RESNET_CONFIGS).join(', ')}`, depth);
  }
  const nClasses = options.nClasses ?? 1000;
  if (!Number.isInteger(nClasses) || nClasses < 1) {
    throw invalidValue('nClasses', 'a positive integer', nClasses);
  }
  const inputShape = [...(options.inputShape ?? [null, null, 3])];
  const input = tf.input({ shape: inputShape, name: 'input' });
  let x = relu(bn(conv(input, 'conv1', 64, 7, 2, 3), 'bn1'), 'relu');
  // Max pooling pads with -inf in PyTorch; after a ReLU zero padding gives the same maxima.
  x = tf.layers.zeroPadding2d({ padding: 1, name: 'maxpool.pad' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' })
    .apply(x) as tf.SymbolicTensor;
  const expansion = config.block === 'basic' ? 1 : 4;
  let inplanes = 64;
  config.layers.forEach((nBlocks, stage) => {
    const planes = 64 * 2 ** stage;
    for (let i = 0; i < nBlocks; i++) {
      const strides = i === 0 && stage > 0 ? 2 : 1;
      const downsample = i === 0 && (strides !== 1 || inplanes !== planes * expansion);
      x = block(x, `layer${stage + 1}.${i}`, config.block, planes, strides, downsample);
      inplanes = planes * expansion;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: nClasses, name: 'fc', kernelInitializer: 'zeros' })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: `resnet${depth}` });
  if (options.initialize ?? true) {
    const rng = randomFor(options.seed);
    const fc = model.getLayer('fc');
    kaimingInit(
      model.layers.filter((l) => l !== fc),
      rng,
      { mode: 'fanOut' },
    );
    linearDefaultInit(fc, rng);
  }
  return model;
}
