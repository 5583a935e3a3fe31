/**
 * `exportSafetensors`: a vision learner's whole network (body and fastai head) as a PyTorch
 * state dict in safetensors, so training can go on in PyTorch (DDP, fastai with accelerate)
 * with `examples/pytorch/tsfast_models.py`, which builds the matching modules.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import type { Learner } from '../../learner/learner.js';
import { type TensorToWrite, writeSafetensors } from '../models/safetensors-writer.js';
import { torchNaming, type WeightConversion } from '../models/weight-map.js';

/**
 * How the state dict's keys are spelled.
 * - `'torchvision'`: body weights under their module path, which for the ResNets is
 *   torchvision's (`conv1.weight`, `layer1.0.bn1.running_mean`, so the body loads into
 *   `torchvision.models.resnet18()` with `strict=False`) and for the MobileNets the Keras
 *   layer name (`conv_dw_1.weight`, `block_3_expand_BN.running_var`); the head under
 *   `head.{i}`, with `i` the index in fastai's `create_head` `nn.Sequential`
 *   (0 pool, 1 flatten, 2 BatchNorm1d, 3 dropout, 4 linear, 5 ReLU, 6 BatchNorm1d, ...).
 * - `'fastai'`: the keys of fastai's `vision_learner` model `nn.Sequential(body, head)`:
 *   `0.{body}` (a ResNet body is `nn.Sequential` of torchvision's children, so `conv1` is
 *   `0.0`, `bn1` `0.1`, `layer1` ... `layer4` `0.4` ... `0.7`) and `1.{i}` for the head.
 */
export type TorchNamingScheme = 'torchvision' | 'fastai';

/**
 * Options of {@link exportSafetensors}.
 * @example
 * ```ts
 * await tsf.exportSafetensors(learn, 'pets.safetensors', { naming: 'fastai' });
 * ```
 */
export interface ExportSafetensorsOptions {
  /**
   * Key spelling; see {@link TorchNamingScheme}.
   * @defaultValue 'torchvision'
   */
  naming?: TorchNamingScheme;
}

/** What {@link exportSafetensors} returns. */
export interface SafetensorsExport {
  /** Absolute path of the file written. */
  readonly file: string;
  /** The keys written, in file order. */
  readonly keys: readonly string[];
}

/** torchvision ResNet's top-level children, as indices of fastai's `create_body` Sequential. */
const RESNET_CHILDREN: Readonly<Record<string, number>> = {
  conv1: 0,
  bn1: 1,
  layer1: 4,
  layer2: 5,
  layer3: 6,
  layer4: 7,
};

/** Head layers that hold a position in fastai's head Sequential (pooling is 0, Flatten 1). */
const HEAD_MODULE = /^head\.(bn|drop|linear|relu)\d+$/;

function toTorchLayout(value: tf.Tensor, conversion: WeightConversion): tf.Tensor {
  return tf.tidy(() => {
    switch (conversion) {
      case 'conv':
        return tf.transpose(value, [3, 2, 0, 1]);
      case 'depthwise': {
        const [kh, kw, c, m] = value.shape as [number, number, number, number];
        return tf.reshape(tf.transpose(value, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
      }
      case 'linear':
        return tf.transpose(value, [1, 0]);
      default:
        return value.clone();
    }
  });
}

/**
 * Writes a vision learner's network (body and head) as a PyTorch state dict in safetensors:
 * conv kernels `[out, in, kh, kw]`, depthwise `[channels, 1, kh, kw]`, linear `[out, in]`,
 * BatchNorm `weight`, `bias`, `running_mean`, `running_var` and `num_batches_tracked` (0).
 * `examples/pytorch/tsfast_models.py` builds the matching PyTorch model (ResNets from
 * torchvision, Keras-layout MobileNet v1/v2, fastai's head) and loads the file. Written to a
 * temporary file beside, then renamed.
 *
 * @param learn - A learner from `visionLearner` (ResNet or MobileNet body, fastai head), or
 *   any model whose layers are named as PyTorch module paths.
 * @param file - Output path, relative to `learn.path`.
 * @param options - See {@link ExportSafetensorsOptions}.
 * @returns The file and its keys.
 * @throws {@link ValueError} for an unknown option or a weight with no PyTorch name.
 * @example
 * ```ts
 * await tsf.exportSafetensors(learn, 'pets.safetensors');
 * // python: model = tsfast_models.create_model('resnet18', n_out=37)
 * //         tsfast_models.load_safetensors(model, 'pets.safetensors')
 * ```
 */
export async function exportSafetensors(
  learn: Learner,
  file: string,
  options: ExportSafetensorsOptions = {},
): Promise<SafetensorsExport> {
  checkOptionKeys('exportSafetensors', options, ['naming']);
  const naming = options.naming ?? 'torchvision';
  if (naming !== 'torchvision' && naming !== 'fastai') {
    throw invalidValue('naming', "'torchvision' or 'fastai'", naming);
  }
  const layers = learn.model.layers;
  const isResnet = layers.some((l) => l.name.startsWith('layer1.'));
  const headIndex = new Map<string, number>();
  for (const l of layers) if (HEAD_MODULE.test(l.name)) headIndex.set(l.name, headIndex.size + 2);
  const moduleKey = (layerName: string): string => {
    const head = headIndex.get(layerName);
    if (head !== undefined) return naming === 'fastai' ? `1.${head}` : `head.${head}`;
    if (naming === 'torchvision') return layerName;
    const [top, ...rest] = layerName.split('.');
    const child = isResnet ? RESNET_CHILDREN[top ?? ''] : undefined;
    return `0.${[child ?? top, ...rest].join('.')}`;
  };
  const tensors = new Map<string, TensorToWrite>();
  const unnamed: string[] = [];
  for (const layer of layers) {
    let isBn = false;
    for (const variable of layer.weights) {
      const weightName = variable.originalName.split('/').pop() ?? variable.originalName;
      const entry = torchNaming(layer, weightName);
      if (entry === undefined) {
        unnamed.push(`"${layer.name}" weight "${weightName}" (${layer.getClassName()})`);
        continue;
      }
      isBn ||= weightName === 'moving_mean';
      const suffix = entry.key.slice(layer.name.length + 1);
      const value = toTorchLayout(variable.read(), entry.conversion);
      try {
        tensors.set(`${moduleKey(layer.name)}.${suffix}`, {
          shape: value.shape,
          data: value.dataSync() as Float32Array,
        });
      } finally {
        value.dispose();
      }
    }
    if (isBn) {
      tensors.set(`${moduleKey(layer.name)}.num_batches_tracked`, {
        shape: [],
        data: new BigInt64Array(1),
      });
    }
  }
  if (unnamed.length > 0) {
    throw new ValueError(
      `exportSafetensors: ${unnamed.length} weight(s) have no PyTorch name: ` +
        `${unnamed.slice(0, 12).join('; ')}. Only Conv2D, DepthwiseConv2D, Dense and BatchNorm ` +
        'weights are exported.',
    );
  }
  const out = resolve(learn.path, file);
  await writeSafetensors(out, tensors, {
    format: 'pt',
    producer: 'tsfast exportSafetensors',
    naming,
    model: learn.model.name,
  });
  return { file: out, keys: [...tensors.keys()] };
}
