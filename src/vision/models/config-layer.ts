/**
 * What tsfast's own tfjs layers share: a `fromConfig` that passes the saved config back to the
 * constructor (written once here), and for activations, the whole layer around one op with its
 * own gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys } from '../../core/errors.js';
import type { BaseLayerArgs } from './layer-args.js';

/**
 * The keys of {@link BaseLayerArgs}, which every layer's option list starts with.
 * @internal
 */
export const BASE_LAYER_KEYS = [
  'name',
  'trainable',
  'inputShape',
  'batchInputShape',
  'batchSize',
  'dtype',
] as const;

/**
 * A tfjs layer whose constructor takes the output of its own `getConfig` back: `fromConfig`
 * drops the `customObjects` key tfjs-layers adds while loading and calls the constructor.
 * @internal
 */
export abstract class ConfigLayer extends tf.layers.Layer {
  /**
   * Rebuilds the layer from its `getConfig` output (tfjs-layers adds `customObjects` to the
   * config it passes; it is dropped).
   * @param cls - The class to build.
   * @param config - The saved config.
   * @returns The layer.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { customObjects: _ignored, ...args } = config;
    return new cls(args);
  }
}

/**
 * An activation as a layer: one input, one elementwise op (with its own gradient), the base
 * layer's options and config only, masks passed through.
 * @internal
 */
export abstract class ActivationLayer extends ConfigLayer {
  /**
   * @param where - The layer's class name, for errors.
   * @param args - Base layer options.
   * @throws {@link ValueError} for an unknown option.
   */
  constructor(where: string, args: BaseLayerArgs) {
    checkOptionKeys(where, args, BASE_LAYER_KEYS);
    super(args);
    this.supportsMasking = true;
  }

  /**
   * The activation.
   * @param x - The input.
   * @returns The activated tensor (the caller disposes it).
   */
  protected abstract activate(x: tf.Tensor): tf.Tensor;

  /**
   * Applies the activation to the (first) input.
   * @param inputs - One tensor.
   * @returns The activation.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.activate(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs);
  }
}
