/**
 * The checked name map between a file's tensors and a model's weights. Every weight of the
 * model is matched to one named tensor through a naming convention (PyTorch module paths, or
 * Keras/tfjs `layer/weight` names), its shape is checked in the file's layout, and it is
 * converted to tfjs layout (NCHW kernels to NHWC). Nothing is written unless every check
 * passes, and the error lists every missing, unexpected and mis-shaped tensor at once.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../../core/errors.js';
import type { NamedArray } from './safetensors.js';

/** How a stored tensor becomes a tfjs weight. */
export type WeightConversion = 'identity' | 'conv' | 'depthwise' | 'linear';

/** Where one model weight comes from. */
export interface WeightSourceEntry {
  /** Tensor name in the file, e.g. `layer1.0.conv1.weight` or `conv1/kernel`. */
  readonly key: string;
  /** Layout conversion from the file to tfjs. */
  readonly conversion: WeightConversion;
}

/** A naming convention: the file key of a layer's weight (`undefined`: no known name). */
export type NamingConvention = (
  layer: tf.layers.Layer,
  weightName: string,
) => WeightSourceEntry | undefined;

/** Options of `assignNamedWeights`. */
export interface AssignWeightsOptions {
  /**
   * Accept file tensors that no model weight uses (e.g. the ImageNet classifier when loading
   * into a body). Missing and mis-shaped tensors are always errors.
   * @defaultValue false
   */
  allowUnexpected?: boolean;
  /**
   * File tensors to skip silently, by name.
   * @defaultValue PyTorch's `num_batches_tracked` counters
   */
  ignore?: (key: string) => boolean;
}

/** What `assignNamedWeights` did. */
export interface WeightLoadReport {
  /** File keys that were loaded. */
  readonly loaded: readonly string[];
  /** File keys that no model weight used (only when `allowUnexpected`). */
  readonly unexpected: readonly string[];
}

/**
 * PyTorch naming: layer names are module paths (`layer1.0.conv1`); conv kernels are
 * `[out, in, kh, kw]`, depthwise `[channels * multiplier, 1, kh, kw]`, linear `[out, in]`;
 * BatchNorm `weight`, `bias`, `running_mean`, `running_var`.
 *
 * @param layer - The layer.
 * @param weightName - The tfjs weight name (`kernel`, `gamma`, ...).
 * @returns The file key and conversion.
 * @example
 * ```ts
 * const conv1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv1' });
 * tsf.torchNaming(conv1, 'kernel'); // { key: 'conv1.weight', conversion: 'conv' }
 * ```
 */
export const torchNaming: NamingConvention = (layer, weightName) => {
  const cls = layer.getClassName();
  const key = (suffix: string) => `${layer.name}.${suffix}`;
  switch (weightName) {
    case 'kernel':
      if (cls === 'Dense') return { key: key('weight'), conversion: 'linear' };
      if (cls === 'Conv2D') return { key: key('weight'), conversion: 'conv' };
      return undefined;
    case 'depthwise_kernel':
      return { key: key('weight'), conversion: 'depthwise' };
    case 'bias':
      return { key: key('bias'), conversion: 'identity' };
    case 'gamma':
      return { key: key('weight'), conversion: 'identity' };
    case 'beta':
      return { key: key('bias'), conversion: 'identity' };
    case 'moving_mean':
      return { key: key('running_mean'), conversion: 'identity' };
    case 'moving_variance':
      return { key: key('running_var'), conversion: 'identity' };
    default:
      return undefined;
  }
};

/**
 * Keras/tfjs naming: `layerName/weightName` (`conv1/kernel`, `conv1_bn/moving_mean`), tfjs
 * layouts, no conversion.
 *
 * @param layer - The layer.
 * @param weightName - The tfjs weight name.
 * @returns The file key.
 * @example
 * ```ts
 * const conv1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv1' });
 * tsf.kerasNaming(conv1, 'kernel'); // { key: 'conv1/kernel', conversion: 'identity' }
 * ```
 */
export const kerasNaming: NamingConvention = (layer, weightName) => ({
  key: `${layer.name}/${weightName}`,
  conversion: 'identity',
});

/** The shape a tfjs weight has in the file's layout. */
function fileShape(shape: readonly number[], conversion: WeightConversion): number[] {
  switch (conversion) {
    case 'conv': {
      const [kh, kw, inC, outC] = shape as [number, number, number, number];
      return [outC, inC, kh, kw];
    }
    case 'depthwise': {
      const [kh, kw, c, m] = shape as [number, number, number, number];
      return [c * m, 1, kh, kw];
    }
    case 'linear': {
      const [inF, outF] = shape as [number, number];
      return [outF, inF];
    }
    default:
      return [...shape];
  }
}

function toTfjs(array: NamedArray, shape: readonly number[], conversion: WeightConversion) {
  return tf.tidy(() => {
    const t = tf.tensor(array.data, [...array.shape], 'float32');
    switch (conversion) {
      case 'conv':
        return tf.transpose(t, [2, 3, 1, 0]);
      case 'depthwise':
        return tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [...shape]);
      case 'linear':
        return tf.transpose(t, [1, 0]);
      default:
        return t;
    }
  });
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

function listed(title: string, items: readonly string[]): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, 12).join('; ');
  const more = items.length > 12 ? `; ... and ${items.length - 12} more` : '';
  return `\n  ${items.length} ${title}: ${shown}${more}`;
}

/**
 * Writes named tensors into a model's weights through a naming convention, after checking
 * every name and shape. Either every weight is written or none is.
 *
 * @param model - The model (or body) to fill.
 * @param tensors - Tensors by name, in the file's layout.
 * @param naming - How model weights are named in the file ({@link torchNaming}, {@link kerasNaming}).
 * @param source - File or URL, for error messages.
 * @param options - Whether unused file tensors are allowed, which to ignore.
 * @returns The keys loaded and the unexpected keys tolerated.
 * @throws {@link DataError} naming every missing, unexpected (unless allowed) and
 *   mis-shaped tensor, with the shapes expected and found.
 * @example
 * ```ts no-run (needs ResNet-50 weights)
 * const model = await tsf.resnet50.body({ initialize: false });
 * const st = await tsf.readSafetensors('resnet50.safetensors');
 * assignNamedWeights(model, st.tensors, tsf.torchNaming, 'resnet50.safetensors');
 * ```
 */
export function assignNamedWeights(
  model: tf.LayersModel,
  tensors: ReadonlyMap<string, NamedArray>,
  naming: NamingConvention,
  source: string,
  options: AssignWeightsOptions = {},
): WeightLoadReport {
  const ignore = options.ignore ?? ((key: string) => key.endsWith('num_batches_tracked'));
  const plan: { variable: tf.LayerVariable; array: NamedArray; conversion: WeightConversion }[] =
    [];
  const missing: string[] = [];
  const misShaped: string[] = [];
  const unnamed: string[] = [];
  const used = new Set<string>();
  for (const layer of model.layers) {
    for (const variable of layer.weights) {
      const weightName = variable.originalName.split('/').pop() ?? variable.originalName;
      const entry = naming(layer, weightName);
      if (entry === undefined) {
        unnamed.push(`"${layer.name}" weight "${weightName}" (${layer.getClassName()})`);
        continue;
      }
      const want = fileShape(variable.shape as number[], entry.conversion);
      const array = tensors.get(entry.key);
      if (array === undefined) {
        missing.push(`"${entry.key}" ${fmt(want)} for layer "${layer.name}"`);
        continue;
      }
      used.add(entry.key);
      if (fmt(array.shape) !== fmt(want)) {
        misShaped.push(
          `"${entry.key}" is ${fmt(array.shape)} in the file, the model needs ${fmt(want)}`,
        );
        continue;
      }
      plan.push({ variable, array, conversion: entry.conversion });
    }
  }
  const unexpected = [...tensors.keys()].filter((k) => !used.has(k) && !ignore(k));
  const blockingUnexpected = options.allowUnexpected ? [] : unexpected;
  if (missing.length + misShaped.length + unnamed.length + blockingUnexpected.length > 0) {
    throw new DataError(
      `Cannot load weights from "${source}" into model "${model.name}":` +
        listed('missing in the file', missing) +
        listed('mis-shaped', misShaped) +
        listed('unexpected (in the file, not in the model)', blockingUnexpected) +
        listed('model weights with no name in this naming convention', unnamed) +
        '\nCheck that the file is for this architecture (and depth/width); pass ' +
        '`allowUnexpected: true` to load a subset such as a body without its classifier.',
    );
  }
  for (const { variable, array, conversion } of plan) {
    const value = toTfjs(array, variable.shape as number[], conversion);
    variable.write(value);
    value.dispose();
  }
  return { loaded: [...used], unexpected: options.allowUnexpected ? unexpected : [] };
}
