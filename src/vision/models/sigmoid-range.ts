/**
 * fastai's `SigmoidRange` layer: squashes outputs into `[low, high]`, the end of a regression
 * head with a `y_range` (keypoints in [-1, 1]).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import { BASE_LAYER_KEYS, ConfigLayer } from './config-layer.js';
import type { Head } from './head.js';
import type { BaseLayerArgs } from './layer-args.js';

/** Options of {@link SigmoidRange}. */
export interface SigmoidRangeArgs extends BaseLayerArgs {
  /** Lower end of the range. */
  low: number;
  /** Upper end of the range. */
  high: number;
}

const KEYS = ['low', 'high', ...BASE_LAYER_KEYS] as const;

/**
 * fastai's `SigmoidRange`: `sigmoid(x) * (high - low) + low`, elementwise; registered with
 * tfjs so a saved model loads it back.
 *
 * @example
 * ```ts
 * const y = new tsf.SigmoidRange({ low: -1, high: 1, name: 'head.yrange' }).apply(x);
 * ```
 */
export class SigmoidRange extends ConfigLayer {
  /** Registered class name. */
  static readonly className = 'SigmoidRange';
  /** Lower end. */
  readonly low: number;
  /** Upper end. */
  readonly high: number;

  /**
   * @param args - Range and base layer options.
   * @throws {@link ValueError} for an unknown option or `low >= high`.
   */
  constructor(args: SigmoidRangeArgs) {
    checkOptionKeys('SigmoidRange', args, KEYS);
    if (!(Number.isFinite(args.low) && Number.isFinite(args.high) && args.low < args.high)) {
      throw invalidValue('low, high', 'finite numbers with low < high', [args.low, args.high]);
    }
    super(args);
    this.low = args.low;
    this.high = args.high;
  }

  /**
   * The layer's config: the range and the base layer's keys.
   * @returns A JSON-able config.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), low: this.low, high: this.high };
  }

  /**
   * Applies the squashing.
   * @param inputs - One tensor.
   * @returns `sigmoid(x) * (high - low) + low`.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    return tf.tidy(() =>
      tf
        .sigmoid(x)
        .mul(this.high - this.low)
        .add(this.low),
    );
  }
}

tf.serialization.registerClass(SigmoidRange, 'tsfast');

/**
 * Ends a head in a {@link SigmoidRange} (fastai's `create_head(..., y_range=...)`).
 * @param head - The head's output and layers.
 * @param yRange - `[low, high]`.
 * @returns The head with the range layer appended.
 * @throws {@link ValueError} when `low >= high`.
 * @example
 * ```ts
 * const features = tf.input({ shape: [7, 7, 512] });
 * const ranged = tsf.withSigmoidRange(tsf.createHead(features, 2), [-1, 1]);
 * ```
 */
export function withSigmoidRange(head: Head, yRange: readonly [number, number]): Head {
  const layer = new SigmoidRange({ low: yRange[0], high: yRange[1], name: 'head.yrange' });
  return { output: layer.apply(head.output) as tf.SymbolicTensor, layers: [...head.layers, layer] };
}
