/**
 * The options every tsfast layer passes on to tfjs-layers' base `Layer`, documented once.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * Options of the base layer (`name`, `trainable`, `inputShape`, ...), as tfjs-layers'
 * `LayerArgs`.
 * @example
 * ```ts
 * const args: tsf.BaseLayerArgs = { name: 'stem_relu', trainable: false };
 * ```
 */
export interface BaseLayerArgs {
  /** Layer name. Defaults to a unique name from tfjs. */
  name?: string;
  /** Whether the layer's weights train. @defaultValue true */
  trainable?: boolean;
  /** Input shape without the batch axis, for a first layer. @defaultValue undefined */
  inputShape?: (number | null)[];
  /** Input shape with the batch axis, for a first layer. @defaultValue undefined */
  batchInputShape?: (number | null)[];
  /** Batch size of `inputShape`. @defaultValue undefined */
  batchSize?: number;
  /** Data type. @defaultValue 'float32' */
  dtype?: tf.DataType;
}
