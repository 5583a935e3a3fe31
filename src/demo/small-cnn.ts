/**
 * A small CNN for the demo: a convolutional body (reusable across tasks) and a linear head.
 */
import * as tf from '@tensorflow/tfjs';
import { RandomGenerator } from '../core/random.js';
import { BatchNorm } from '../vision/models/index.js';

/**
 * Options of {@link smallCnn}.
 * @example
 * ```ts
 * const model = smallCnn(4, { size: 48, seed: 1, channels: [8, 16, 32, 48] });
 * ```
 */
export interface SmallCnnOptions {
  /**
   * Side of the square RGB input.
   * @defaultValue 32
   */
  size?: number;
  /**
   * Seed of the weight initialisation.
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Channels of the four convolution stages.
   * @defaultValue [16, 32, 64, 96]
   */
  channels?: readonly number[];
}

/**
 * Name prefix of the head's layers (everything else is the body).
 * @example
 * ```ts
 * const head = smallCnn(4).layers.filter((l) => l.name.startsWith(HEAD_PREFIX)); // [head_dense]
 * ```
 */
export const HEAD_PREFIX = 'head_';

/**
 * Builds conv(3x3)-BatchNorm-ReLU stages, each but the last followed by 2x2 max-pooling,
 * then global average pooling (the body) and one dense layer to `nClasses` logits (the
 * head, layers named `head_*`). Weights come from `seed`.
 *
 * @param nClasses - Outputs of the head.
 * @param options - Input size, seed, channels.
 * @returns An uncompiled LayersModel: input `[N, size, size, 3]`, output logits `[N, nClasses]`.
 * @example
 * ```ts
 * const model = smallCnn(4, { size: 32, seed: 1 });
 * model.predict(tf.zeros([2, 32, 32, 3])); // logits [2, 4]
 * ```
 */
export function smallCnn(nClasses: number, options: SmallCnnOptions = {}): tf.LayersModel {
  const size = options.size ?? 32;
  const rng = new RandomGenerator(options.seed ?? 0);
  const channels = options.channels ?? [16, 32, 64, 96];
  const input = tf.input({ shape: [size, size, 3] });
  let x: tf.SymbolicTensor = input;
  channels.forEach((c, i) => {
    x = tf.layers
      .conv2d({
        filters: c,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: rng.tensorSeed() }),
        name: `conv${i}`,
      })
      .apply(x) as tf.SymbolicTensor;
    x = new BatchNorm({ momentum: 0.9, name: `bn${i}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `relu${i}` }).apply(x) as tf.SymbolicTensor;
    if (i < channels.length - 1) {
      x = tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i}` }).apply(x) as tf.SymbolicTensor;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: nClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tensorSeed() }),
      name: `${HEAD_PREFIX}dense`,
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/**
 * Splits a {@link smallCnn} into the body and the head, for the Learner's `splitter`
 * (freezing trains the head only).
 *
 * @param model - A model from {@link smallCnn}.
 * @returns `[body layers, head layers]`.
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, smallCnn(4), { splitter: smallCnnSplitter });
 * learn.freeze(); // trains the head only
 * ```
 */
export function smallCnnSplitter(model: tf.LayersModel): tf.layers.Layer[][] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  return [
    layers.filter((l) => !l.name.startsWith(HEAD_PREFIX)),
    layers.filter((l) => l.name.startsWith(HEAD_PREFIX)),
  ];
}

/**
 * Copies the body weights (every non-head layer, matched by name) of `from` into `to`:
 * transfer learning by hand, the head of `to` keeps its fresh initialisation.
 *
 * @param from - A trained {@link smallCnn}.
 * @param to - A new {@link smallCnn} with the same body (any number of classes).
 * @returns The number of layers copied.
 * @example
 * ```ts
 * const pretrained = smallCnn(6, { seed: 1 });
 * const transfer = smallCnn(4, { seed: 2 });
 * copyBodyWeights(pretrained, transfer); // 8 (four conv + four BatchNorm layers)
 * ```
 */
export function copyBodyWeights(from: tf.LayersModel, to: tf.LayersModel): number {
  let n = 0;
  for (const layer of to.layers) {
    if (layer.name.startsWith(HEAD_PREFIX) || layer.weights.length === 0) continue;
    const src = from.getLayer(layer.name);
    const weights = src.getWeights();
    layer.setWeights(weights);
    n++;
  }
  return n;
}
