/**
 * Keras-applications MobileNet v1 and v2 as tfjs layers, with Keras's layer names (`conv1`,
 * `conv_dw_1_bn`, `block_3_depthwise`, `Conv_1_bn`), so the tfjs LayersModel conversions of
 * the ImageNet weights load onto them by name, at any input size. BatchNorm and ReLU6 are
 * tsfast's {@link BatchNorm} and {@link ReLU6} layers (same weights as Keras's, a training
 * step several times cheaper on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import { randomFor } from '../../core/random.js';
import { BatchNorm } from './batch-norm.js';
import { kaimingInit } from './init.js';
import { ReLU6 } from './relu6.js';

/** Options of {@link buildMobilenetV1} and {@link buildMobilenetV2}. */
export interface MobilenetOptions {
  /**
   * Width multiplier: 0.25, 0.5, 0.75 or 1 for v1 (0.35 ... 1.4 for v2) have ImageNet weights.
   * @defaultValue 1
   */
  alpha?: number;
  /**
   * Add the ImageNet classifier (`nClasses` outputs, softmax) after the body, as Keras's
   * `include_top`.
   * @defaultValue true
   */
  includeTop?: boolean;
  /**
   * Classes of the classifier.
   * @defaultValue 1000
   */
  nClasses?: number;
  /**
   * Input shape `[height, width, channels]`; `null` sizes accept any image size.
   * @defaultValue `[null, null, 3]`
   */
  inputShape?: readonly (number | null)[];
  /**
   * Momentum of the BatchNorm running statistics (tfjs convention: the share kept). Keras
   * trained these models with 0.99 (v1) / 0.999 (v2); tsfast fine-tunes on small datasets
   * with PyTorch's (and fastai's) 0.1, i.e. 0.9 here, so the statistics follow the new data.
   * @defaultValue 0.9
   */
  bnMomentum?: number;
  /**
   * Initialise weights (kaiming normal, fan-out, as torchvision's MobileNets). Pass `false`
   * when weights are loaded right after.
   * @defaultValue true
   */
  initialize?: boolean;
  /**
   * Seed of the initialisation. Defaults to a fork of the global generator (`setSeed`).
   * @defaultValue undefined
   */
  seed?: number;
}

const OPTION_KEYS = [
  'alpha',
  'includeTop',
  'nClasses',
  'inputShape',
  'bnMomentum',
  'initialize',
  'seed',
] as const;

interface Resolved {
  alpha: number;
  includeTop: boolean;
  nClasses: number;
  inputShape: (number | null)[];
  bnMomentum: number;
  initialize: boolean;
  seed: number | undefined;
}

function resolve(where: string, options: MobilenetOptions): Resolved {
  checkOptionKeys(where, options, OPTION_KEYS);
  const alpha = options.alpha ?? 1;
  if (!(alpha > 0)) throw invalidValue('alpha', 'a positive number', alpha);
  const nClasses = options.nClasses ?? 1000;
  if (!Number.isInteger(nClasses) || nClasses < 1) {
    throw invalidValue('nClasses', 'a positive integer', nClasses);
  }
  const bnMomentum = options.bnMomentum ?? 0.9;
  if (!(bnMomentum >= 0 && bnMomentum < 1)) {
    throw invalidValue('bnMomentum', 'a number in [0, 1)', bnMomentum);
  }
  return {
    alpha,
    includeTop: options.includeTop ?? true,
    nClasses,
    inputShape: [...(options.inputShape ?? [null, null, 3])],
    bnMomentum,
    initialize: options.initialize ?? true,
    seed: options.seed,
  };
}

type T = tf.SymbolicTensor;
const ap = (layer: tf.layers.Layer, x: T | T[]) => layer.apply(x) as T;

function bn(x: T, name: string, momentum: number): T {
  return ap(new BatchNorm({ axis: -1, epsilon: 1e-3, momentum, name }), x);
}

function relu6(x: T, name: string): T {
  return ap(new ReLU6({ name }), x);
}

function conv(
  x: T,
  name: string,
  filters: number,
  kernelSize: number,
  strides = 1,
  padding: 'same' | 'valid' = 'same',
): T {
  return ap(
    tf.layers.conv2d({
      filters,
      kernelSize,
      strides,
      padding,
      useBias: false,
      kernelInitializer: 'zeros',
      name,
    }),
    x,
  );
}

function depthwise(x: T, name: string, strides: number, padding: 'same' | 'valid'): T {
  return ap(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      strides,
      padding,
      useBias: false,
      depthwiseInitializer: 'zeros',
      name,
    }),
    x,
  );
}

function finish(input: T, x: T, name: string, o: Resolved, top: (x: T) => T): tf.LayersModel {
  const out = o.includeTop ? top(x) : x;
  const model = tf.model({ inputs: input, outputs: out, name });
  if (o.initialize) kaimingInit(model.layers, randomFor(o.seed), { mode: 'fanOut' });
  return model;
}

/** The layer where a MobileNet v1 body ends (before pooling and classifier). */
export const MOBILENET_V1_CUT = 'conv_pw_13_relu';
/** The layer where a MobileNet v2 body ends. */
export const MOBILENET_V2_CUT = 'out_relu';

/**
 * Builds Keras's MobileNet v1 (keras-applications layout and names; `same` padding as in the
 * Keras 2.1 models the tfjs conversions come from). Input in [-1, 1].
 *
 * @param options - Width, classifier, input shape, BN momentum, initialisation.
 * @returns A `tf.LayersModel` named `mobilenet_v1_{alpha}`: softmax `[N, nClasses]` with the
 *   top, `[N, h/32, w/32, 1024 * alpha]` features without.
 * @throws {@link ValueError} for an invalid option.
 * @example
 * ```ts
 * const body = tsf.buildMobilenetV1({ alpha: 0.75, includeTop: false });
 * ```
 */
export function buildMobilenetV1(options: MobilenetOptions = {}): tf.LayersModel {
  const o = resolve('mobilenetV1', options);
  const f = (n: number) => Math.trunc(n * o.alpha);
  const input = tf.input({ shape: o.inputShape, name: 'input_1' });
  let x = relu6(bn(conv(input, 'conv1', f(32), 3, 2), 'conv1_bn', o.bnMomentum), 'conv1_relu');
  const blocks: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  blocks.forEach(([filters, strides], i) => {
    const id = i + 1;
    x = depthwise(x, `conv_dw_${id}`, strides, 'same');
    x = relu6(bn(x, `conv_dw_${id}_bn`, o.bnMomentum), `conv_dw_${id}_relu`);
    x = conv(x, `conv_pw_${id}`, f(filters), 1);
    x = relu6(bn(x, `conv_pw_${id}_bn`, o.bnMomentum), `conv_pw_${id}_relu`);
  });
  return finish(input, x, `mobilenet_v1_${o.alpha}`, o, (y) => {
    const c = f(1024);
    let z = ap(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }), y);
    z = ap(tf.layers.reshape({ targetShape: [1, 1, c], name: 'reshape_1' }), z);
    z = ap(
      tf.layers.conv2d({
        filters: o.nClasses,
        kernelSize: 1,
        padding: 'same',
        kernelInitializer: 'zeros',
        name: 'conv_preds',
      }),
      z,
    );
    z = ap(tf.layers.activation({ activation: 'softmax', name: 'act_softmax' }), z);
    return ap(tf.layers.reshape({ targetShape: [o.nClasses], name: 'reshape_2' }), z);
  });
}

/** keras-applications `_make_divisible`: round to a multiple of 8, never below 90 %. */
function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.trunc(v + divisor / 2) - (Math.trunc(v + divisor / 2) % divisor));
  if (n < 0.9 * v) n += divisor;
  return n;
}

/**
 * Builds keras-applications' MobileNetV2 (layer names `Conv1`, `block_{i}_expand`, ...,
 * `Conv_1_bn`, `out_relu`; explicit bottom/right padding before stride-2 convs, as Keras does
 * for even input sizes). Input in [-1, 1].
 *
 * @param options - Width, classifier, input shape, BN momentum, initialisation.
 * @returns A `tf.LayersModel` named `mobilenet_v2_{alpha}`: softmax `[N, nClasses]` with the
 *   top, `[N, h/32, w/32, 1280]` features without (for alpha up to 1).
 * @throws {@link ValueError} for an invalid option.
 * @example
 * ```ts
 * const body = tsf.buildMobilenetV2({ alpha: 0.35, includeTop: false });
 * ```
 */
export function buildMobilenetV2(options: MobilenetOptions = {}): tf.LayersModel {
  const o = resolve('mobilenetV2', options);
  const m = o.bnMomentum;
  const input = tf.input({ shape: o.inputShape, name: 'input_1' });
  const pad = (y: T, name: string) =>
    ap(
      tf.layers.zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
        name,
      }),
      y,
    );
  let x = pad(input, 'Conv1_pad');
  x = conv(x, 'Conv1', makeDivisible(32 * o.alpha), 3, 2, 'valid');
  x = relu6(bn(x, 'bn_Conv1', m), 'Conv1_relu');
  let inC = makeDivisible(32 * o.alpha);
  // [expansion, channels, repeats, first stride]
  const stages: [number, number, number, number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  let id = 0;
  for (const [t, c, n, s] of stages) {
    const outC = makeDivisible(c * o.alpha);
    for (let i = 0; i < n; i++) {
      const strides = i === 0 ? s : 1;
      const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
      let y = x;
      if (id > 0) {
        y = conv(y, `${prefix}expand`, inC * t, 1);
        y = relu6(bn(y, `${prefix}expand_BN`, m), `${prefix}expand_relu`);
      }
      if (strides === 2) y = pad(y, `${prefix}pad`);
      y = depthwise(y, `${prefix}depthwise`, strides, strides === 2 ? 'valid' : 'same');
      y = relu6(bn(y, `${prefix}depthwise_BN`, m), `${prefix}depthwise_relu`);
      y = conv(y, `${prefix}project`, outC, 1);
      y = bn(y, `${prefix}project_BN`, m);
      x = inC === outC && strides === 1 ? ap(tf.layers.add({ name: `${prefix}add` }), [x, y]) : y;
      inC = outC;
      id++;
    }
  }
  const lastC = o.alpha > 1 ? makeDivisible(1280 * o.alpha) : 1280;
  x = conv(x, 'Conv_1', lastC, 1, 1, 'valid');
  x = relu6(bn(x, 'Conv_1_bn', m), 'out_relu');
  return finish(input, x, `mobilenet_v2_${o.alpha}`, o, (y) => {
    const z = ap(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }), y);
    return ap(
      tf.layers.dense({
        units: o.nClasses,
        activation: 'softmax',
        kernelInitializer: 'zeros',
        name: 'predictions',
      }),
      z,
    );
  });
}
