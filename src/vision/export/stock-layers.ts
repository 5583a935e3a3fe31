/**
 * Rewrites a tsfast model topology (tfjs `model.json` `modelTopology`) so that it uses only
 * layer classes that stock `@tensorflow/tfjs` registers: a browser, `tensorflowjs_converter`
 * or Keras can then load it with no tsfast code. The weights keep their names and layouts:
 * tsfast's layers were written to store the same weights as their stock counterparts.
 */
import type * as tf from '@tensorflow/tfjs';
import { ValueError } from '../../core/errors.js';

type Config = tf.serialization.ConfigDict;
interface LayerJson {
  name: string;
  class_name: string;
  config: Config;
  inbound_nodes: unknown[];
}

/**
 * Layer classes that `@tensorflow/tfjs-layers` 4.22 registers itself (those a vision model
 * may contain); a test checks each against a process that imports only `@tensorflow/tfjs`.
 */
export const STOCK_LAYER_CLASSES: readonly string[] = [
  'Activation',
  'Add',
  'AlphaDropout',
  'Average',
  'AveragePooling1D',
  'AveragePooling2D',
  'BatchNormalization',
  'Concatenate',
  'Conv1D',
  'Conv2D',
  'Conv2DTranspose',
  'Cropping2D',
  'Dense',
  'DepthwiseConv2D',
  'Dot',
  'Dropout',
  'ELU',
  'Flatten',
  'GaussianDropout',
  'GaussianNoise',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'InputLayer',
  'LayerNormalization',
  'LeakyReLU',
  'MaxPooling1D',
  'MaxPooling2D',
  'Maximum',
  'Minimum',
  'Multiply',
  'Permute',
  'PReLU',
  'ReLU',
  'Rescaling',
  'Reshape',
  'SeparableConv2D',
  'Softmax',
  'SpatialDropout1D',
  'ThresholdedReLU',
  'UpSampling2D',
  'ZeroPadding2D',
];

const STOCK = new Set(STOCK_LAYER_CLASSES);

/** The base-layer keys every stock layer accepts. */
function base(config: Config): Config {
  const out: Config = { name: config.name as string, trainable: config.trainable ?? true };
  if (config.dtype !== undefined) out.dtype = config.dtype;
  if (config.batch_input_shape !== undefined) out.batch_input_shape = config.batch_input_shape;
  return out;
}

/** tsfast layer class -> its stock equivalent (class and config; same weights). */
const CONVERSIONS: Readonly<Record<string, (config: Config) => { cls: string; config: Config }>> = {
  // tsfast's BatchNorm stores gamma, beta, moving_mean, moving_variance as
  // BatchNormalization does and normalises with the moving statistics at inference.
  BatchNorm: (c) => ({
    cls: 'BatchNormalization',
    config: {
      ...base(c),
      axis: c.axis ?? -1,
      momentum: c.momentum ?? 0.99,
      epsilon: c.epsilon ?? 1e-3,
      center: c.center ?? true,
      scale: c.scale ?? true,
    },
  }),
  ReLU6: (c) => ({ cls: 'ReLU', config: { ...base(c), max_value: 6 } }),
  // The same ReLU; only its gradient (which reads the output, to save memory) differs.
  ReLUFromOutput: (c) => ({ cls: 'ReLU', config: { ...base(c), max_value: null } }),
  // Identity at inference in both; the seed only matters when training resumes.
  SeededDropout: (c) => ({
    cls: 'Dropout',
    config: { ...base(c), rate: c.rate as number, seed: c.seed ?? null },
  }),
};

/** tsfast layer classes that {@link toStockTopology} converts. */
export const CONVERTED_LAYER_CLASSES: readonly string[] = Object.keys(CONVERSIONS);

/** What {@link toStockTopology} returns. */
export interface StockTopology {
  /** The rewritten topology (a new object; the input is not changed). */
  readonly topology: Config;
  /** How many layers of each tsfast class were converted, e.g. `{ BatchNorm: 29 }`. */
  readonly converted: Readonly<Record<string, number>>;
}

/** The layer lists of a functional model, and of any model nested in it. */
function layerLists(topology: Config): LayerJson[][] {
  const lists: LayerJson[][] = [];
  const visit = (node: Config) => {
    const layers = (node.config as Config | undefined)?.layers;
    if (!Array.isArray(layers)) return;
    lists.push(layers as unknown as LayerJson[]);
    for (const l of layers as unknown as LayerJson[]) {
      if (
        l.class_name === 'Model' ||
        l.class_name === 'Functional' ||
        l.class_name === 'Sequential'
      )
        visit(l as unknown as Config);
    }
  };
  visit(topology);
  return lists;
}

/**
 * Replaces tsfast's layer classes (`BatchNorm`, `ReLU6`, `ReLUFromOutput`, `SeededDropout`) in a tfjs model
 * topology by stock ones (`BatchNormalization`, `ReLU` with `max_value: 6`, `Dropout`), and
 * checks that every other layer is a stock class.
 *
 * @param topology - `modelTopology` of a tfjs `model.json` (as `model.save` produces it).
 * @returns The rewritten topology and the count of converted layers per class.
 * @throws {@link ValueError} naming each layer whose class stock tfjs does not know.
 * @example
 * ```ts
 * const modelTopology = JSON.parse(learn.model.toJSON() as string);
 * const { topology, converted } = toStockTopology(modelTopology);
 * converted; // for a MobileNet learner: { BatchNorm: 29, ReLU6: 27, SeededDropout: 2 }
 * ```
 */
export function toStockTopology(topology: Config): StockTopology {
  const copy = JSON.parse(JSON.stringify(topology)) as Config;
  const converted: Record<string, number> = {};
  const unknown: string[] = [];
  for (const layers of layerLists(copy)) {
    for (const layer of layers) {
      const convert = CONVERSIONS[layer.class_name];
      if (convert !== undefined) {
        const { cls, config } = convert(layer.config);
        converted[layer.class_name] = (converted[layer.class_name] ?? 0) + 1;
        layer.class_name = cls;
        layer.config = config;
      } else if (
        !STOCK.has(layer.class_name) &&
        !['Model', 'Functional', 'Sequential'].includes(layer.class_name)
      ) {
        unknown.push(`"${layer.name}" (${layer.class_name})`);
      }
    }
  }
  if (unknown.length > 0) {
    throw new ValueError(
      `toStockTopology: ${unknown.length} layer(s) have classes that stock @tensorflow/tfjs ` +
        `does not know: ${unknown.slice(0, 12).join(', ')}${unknown.length > 12 ? ', ...' : ''}. ` +
        `tsfast converts ${CONVERTED_LAYER_CLASSES.join(', ')}; rebuild custom layers from stock ones.`,
    );
  }
  return { topology: copy, converted };
}
