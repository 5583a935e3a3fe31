/**
 * One entry point for pretrained weights: a safetensors file (PyTorch/timm naming) or a tfjs
 * LayersModel folder (Keras naming), from a local path or a URL through the download cache.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import { type DownloadOptions, downloadFile, isRemoteUrl } from '../../external/download.js';
import { readSafetensors } from './safetensors.js';
import { readTfjsWeights } from './tfjs-folder.js';
import {
  assignNamedWeights,
  kerasNaming,
  type NamingConvention,
  torchNaming,
  type WeightLoadReport,
} from './weight-map.js';

/** A weights file format. */
export type WeightsFormat = 'safetensors' | 'tfjs';

/** Options of {@link loadPretrainedWeights}. */
export interface LoadPretrainedWeightsOptions {
  /**
   * File format.
   * @defaultValue `safetensors` for a `.safetensors` path or URL, `tfjs` otherwise (a folder
   *   or a `model.json`)
   */
  format?: WeightsFormat;
  /**
   * How model weights are named in the file.
   * @defaultValue {@link torchNaming} for safetensors, {@link kerasNaming} for tfjs folders
   */
  naming?: NamingConvention;
  /**
   * Accept file tensors the model does not use (e.g. the classifier when loading a body).
   * @defaultValue false
   */
  allowUnexpected?: boolean;
  /**
   * Download cache options for URLs (`cacheDir`, `sha256`, `force`, `onProgress`).
   * @defaultValue the tsfast cache, no checksum
   */
  download?: DownloadOptions;
}

const OPTION_KEYS = ['format', 'naming', 'allowUnexpected', 'download'] as const;

/**
 * The format {@link loadPretrainedWeights} assumes for a source.
 * @param source - Path or URL.
 * @returns `safetensors` for `.safetensors` names, else `tfjs`.
 * @example
 * ```ts
 * tsf.weightsFormatOf('https://huggingface.co/timm/resnet50.tv_in1k/resolve/main/model.safetensors'); // 'safetensors'
 * ```
 */
export function weightsFormatOf(source: string): WeightsFormat {
  return /\.safetensors([?#].*)?$/i.test(source) ? 'safetensors' : 'tfjs';
}

/**
 * Loads pretrained weights into a model, checking every name and shape first (nothing is
 * written if anything is wrong). PyTorch kernels (NCHW, `[out, in, kh, kw]`) are transposed
 * to tfjs's NHWC layout.
 *
 * @param model - The model or body to fill; its layer names must follow the file's naming
 *   (tsfast's ResNets use PyTorch module paths, its MobileNets Keras names).
 * @param source - A `.safetensors` file, a tfjs model folder or `model.json`, or an http(s)
 *   URL of either (downloaded once into the tsfast cache).
 * @param options - Format, naming, tolerance of unused tensors, download options.
 * @returns The keys loaded and the unused keys tolerated.
 * @throws {@link DataError} naming every missing, unexpected or mis-shaped tensor, or a
 *   missing weight shard; {@link DownloadError} when a URL cannot be fetched.
 * @example
 * ```ts no-run (needs ResNet-50 weights)
 * const model = await tsf.resnet50.body({ initialize: false });
 * await tsf.loadPretrainedWeights(model, 'resnet50.safetensors');
 * ```
 */
export async function loadPretrainedWeights(
  model: tf.LayersModel,
  source: string,
  options: LoadPretrainedWeightsOptions = {},
): Promise<WeightLoadReport> {
  checkOptionKeys('loadPretrainedWeights', options, OPTION_KEYS);
  if (typeof source !== 'string' || source === '') {
    throw invalidValue('source', 'a path or URL of a weights file', source);
  }
  const format = options.format ?? weightsFormatOf(source);
  if (format !== 'safetensors' && format !== 'tfjs') {
    throw invalidValue('format', '"safetensors" or "tfjs"', format);
  }
  const assignOptions = { allowUnexpected: options.allowUnexpected ?? false };
  if (format === 'safetensors') {
    const path = isRemoteUrl(source) ? await downloadFile(source, options.download ?? {}) : source;
    const { tensors } = await readSafetensors(path);
    return assignNamedWeights(model, tensors, options.naming ?? torchNaming, source, assignOptions);
  }
  const tensors = await readTfjsWeights(source, options.download);
  return assignNamedWeights(model, tensors, options.naming ?? kerasNaming, source, assignOptions);
}
