/**
 * fastai's classifier head for a convolutional body: concat(max pool, avg pool) -> BN ->
 * dropout -> linear 512 -> ReLU -> BN -> dropout -> linear nOut, kaiming-initialised.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import { randomFor } from '../../core/random.js';
import { BatchNorm } from './batch-norm.js';
import { kaimingInit } from './init.js';
import { SeededDropout } from './seeded-dropout.js';

/** Options of {@link createHead}. */
export interface HeadOptions {
  /**
   * Sizes of the hidden linear layers.
   * @defaultValue `[512]`
   */
  linFtrs?: readonly number[];
  /**
   * Dropout probabilities: one number `p` gives `p / 2` before every hidden layer and `p`
   * before the last, or one value per linear layer.
   * @defaultValue 0.5
   */
  ps?: number | readonly number[];
  /**
   * Pool with concat(max, average) (doubling the features), else average only.
   * @defaultValue true
   */
  concatPool?: boolean;
  /**
   * BatchNorm before the first dropout.
   * @defaultValue true
   */
  firstBn?: boolean;
  /**
   * Seed of the initialisation and dropout masks. Defaults to a fork of the global generator.
   * @defaultValue undefined
   */
  seed?: number;
}

const OPTION_KEYS = ['linFtrs', 'ps', 'concatPool', 'firstBn', 'seed'] as const;

/** A head applied onto a body's output. */
export interface Head {
  /** The head's output (logits). */
  readonly output: tf.SymbolicTensor;
  /** The head's layers, in order (one parameter group for the learner). */
  readonly layers: readonly tf.layers.Layer[];
}

/**
 * Applies fastai's `create_head` onto a feature map `[N, h, w, nf]`. Linear layers after a
 * BatchNorm have no bias (as fastai's `LinBnDrop`); BatchNorm follows PyTorch (eps 1e-5,
 * momentum 0.1) with fastai's shift of 1e-3; linear kernels are kaiming normal (fan-in).
 *
 * @param features - The body's output, `[N, h, w, nf]`.
 * @param nOut - Number of outputs (classes).
 * @param options - Hidden sizes, dropout, pooling, seed.
 * @returns The output tensor and the head's layers.
 * @throws {@link ValueError} for a bad `nOut` or option.
 * @example
 * ```ts no-run (builds a ResNet-34)
 * const body = tsf.cutModel(await tsf.resnet34.body({}), tsf.resnet34.cut);
 * const head = tsf.createHead(body.outputs[0]!, 37);
 * const model = tf.model({ inputs: body.inputs, outputs: head.output });
 * ```
 */
export function createHead(
  features: tf.SymbolicTensor,
  nOut: number,
  options: HeadOptions = {},
): Head {
  checkOptionKeys('createHead', options, OPTION_KEYS);
  if (!Number.isInteger(nOut) || nOut < 1) throw invalidValue('nOut', 'a positive integer', nOut);
  if (features.shape.length !== 4) {
    throw invalidValue('features', 'a [N, h, w, channels] feature map', features.shape);
  }
  const linFtrs = [...(options.linFtrs ?? [512])];
  const nLinear = linFtrs.length + 1;
  const psIn = options.ps ?? 0.5;
  const ps = typeof psIn === 'number' ? [...Array(nLinear - 1).fill(psIn / 2), psIn] : [...psIn];
  if (ps.length !== nLinear || ps.some((p) => !(p >= 0 && p < 1))) {
    throw invalidValue('ps', `a number or ${nLinear} numbers in [0, 1)`, psIn);
  }
  const concatPool = options.concatPool ?? true;
  const firstBn = options.firstBn ?? true;
  const rng = randomFor(options.seed);
  const layers: tf.layers.Layer[] = [];
  const ap = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => {
    layers.push(layer);
    return layer.apply(x) as tf.SymbolicTensor;
  };
  let x: tf.SymbolicTensor;
  if (concatPool) {
    // fastai's AdaptiveConcatPool2d: max first, then average.
    const mx = ap(tf.layers.globalMaxPooling2d({ name: 'head.maxpool' }), features);
    const av = ap(tf.layers.globalAveragePooling2d({ name: 'head.avgpool' }), features);
    x = ap(tf.layers.concatenate({ axis: -1, name: 'head.concat' }), [mx, av]);
  } else {
    x = ap(tf.layers.globalAveragePooling2d({ name: 'head.avgpool' }), features);
  }
  const sizes = [...linFtrs, nOut];
  sizes.forEach((units, i) => {
    const bn = i > 0 || firstBn;
    if (bn) {
      x = ap(new BatchNorm({ epsilon: 1e-5, momentum: 0.9, name: `head.bn${i}` }), x);
    }
    const p = ps[i] as number;
    if (p > 0)
      x = ap(new SeededDropout({ rate: p, seed: rng.tensorSeed(), name: `head.drop${i}` }), x);
    x = ap(
      tf.layers.dense({ units, useBias: !bn, kernelInitializer: 'zeros', name: `head.linear${i}` }),
      x,
    );
    if (i < sizes.length - 1) x = ap(tf.layers.reLU({ name: `head.relu${i}` }), x);
  });
  kaimingInit(layers, rng, { mode: 'fanIn', bnBias: 1e-3 });
  return { output: x, layers };
}
