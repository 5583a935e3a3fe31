/**
 * Weight initialisation as PyTorch does it, applied after a model is built: tfjs's
 * `heNormal` draws from a truncated normal (a smaller variance than kaiming), and its seeded
 * initializers are fixed per layer, while tsfast draws every seed from one
 * {@link RandomGenerator} so `setSeed` makes a whole model repeatable.
 */
import * as tf from '@tensorflow/tfjs';
import type { RandomGenerator } from '../../core/random.js';

/** Which fan kaiming initialisation scales by (PyTorch's `mode`). */
export type FanMode = 'fanIn' | 'fanOut';

/**
 * Fan-in and fan-out of a kernel in tfjs layout: dense `[in, out]`, conv `[kh, kw, in, out]`,
 * depthwise `[kh, kw, channels, multiplier]` (one input channel per filter, as a PyTorch
 * grouped conv sees it).
 */
function fans(shape: readonly number[], depthwise: boolean): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[0] as number, fanOut: shape[1] as number };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const inC = shape[shape.length - 2] as number;
  const outC = shape[shape.length - 1] as number;
  if (depthwise) return { fanIn: receptive, fanOut: receptive * outC };
  return { fanIn: receptive * inC, fanOut: receptive * outC };
}

/**
 * Sets every conv/dense kernel of `layers` to PyTorch's `kaiming_normal_` (normal, not
 * truncated, std `sqrt(2 / fan)`), biases to zero, BatchNorm to scale 1 and shift `bnBias`.
 *
 * @param layers - Layers to initialise (already built).
 * @param rng - Source of the tensor seeds.
 * @param options - `mode`: fan to scale by (torchvision convs use `fanOut`, fastai's head
 *   `fanIn`); `bnBias`: BatchNorm shift (fastai's head uses 1e-3).
 * @internal
 */
export function kaimingInit(
  layers: readonly tf.layers.Layer[],
  rng: RandomGenerator,
  options: { mode: FanMode; bnBias?: number },
): void {
  for (const layer of layers) {
    const weights = layer.weights;
    if (weights.length === 0) continue;
    const cls = layer.getClassName();
    const values = tf.tidy(() =>
      weights.map((w) => {
        const short = w.originalName.split('/').pop() ?? '';
        const shape = w.shape as number[];
        if (short === 'kernel' || short === 'depthwise_kernel') {
          const f = fans(shape, short === 'depthwise_kernel');
          const std = Math.sqrt(2 / (options.mode === 'fanIn' ? f.fanIn : f.fanOut));
          return tf.randomNormal(shape, 0, std, 'float32', rng.tensorSeed());
        }
        if (short === 'gamma' || short === 'moving_variance') return tf.ones(shape);
        if (short === 'beta' && (cls === 'BatchNormalization' || cls === 'BatchNorm')) {
          return tf.fill(shape, options.bnBias ?? 0);
        }
        return tf.zeros(shape);
      }),
    );
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/**
 * Sets a dense layer as PyTorch's `nn.Linear` default does: kernel and bias uniform in
 * `+-1/sqrt(fan_in)`.
 *
 * @param layer - A built dense layer.
 * @param rng - Source of the tensor seeds.
 * @internal
 */
export function linearDefaultInit(layer: tf.layers.Layer, rng: RandomGenerator): void {
  const values = tf.tidy(() =>
    layer.weights.map((w) => {
      const fanIn = (layer.weights[0]?.shape[0] as number) ?? 1;
      const bound = 1 / Math.sqrt(fanIn);
      return tf.randomUniform(w.shape as number[], -bound, bound, 'float32', rng.tensorSeed());
    }),
  );
  layer.setWeights(values);
  tf.dispose(values);
}
