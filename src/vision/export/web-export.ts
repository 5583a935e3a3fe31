/**
 * `exportForWeb`: a learner's model as a stock tfjs LayersModel (no tsfast layer classes)
 * plus `inference.json`, everything a web page or any plain `@tensorflow/tfjs` program needs
 * to classify an image as `learn.predict` does.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFolderAtomic } from '../../core/atomic-write.js';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import type { JsonObject } from '../../data/batch.js';
import type { Learner } from '../../learner/learner.js';
import { BCEWithLogitsLossFlat, CrossEntropyLossFlat, MSELossFlat } from '../../learner/losses.js';
import { type ImageSize, type PadMode, type ResizeMethod, toHeightWidth } from '../image/resize.js';
import { toStockTopology } from './stock-layers.js';

type Config = tf.serialization.ConfigDict;

/** The final activation baked into the exported model. */
export type WebActivation = 'softmax' | 'sigmoid' | 'linear';

/**
 * Options of {@link exportForWeb}.
 * @example
 * ```ts no-run (needs a vision learner)
 * await tsf.exportForWeb(learn, 'web-model', { inputSize: 224, activation: 'softmax' });
 * ```
 */
export interface ExportForWebOptions {
  /**
   * Activation appended to the model, so `model.predict` returns what `learn.predict`'s
   * `probs` hold. `'auto'` follows the loss: softmax for the cross-entropy losses, sigmoid
   * for `BCEWithLogitsLossFlat`, none (`'linear'`) for `MSELossFlat`.
   * @defaultValue 'auto'
   */
  activation?: WebActivation | 'auto';
  /**
   * Model input size `[height, width]` (or one number for a square).
   * @defaultValue the last size of the validation pipeline (a batch transform's `size`, else
   *   the item `Resize`'s)
   */
  inputSize?: ImageSize;
}

/** `inference.json`: how to turn an image into the model's input and read its output. */
export interface WebInferenceSpec {
  /** Always `tsfast-web`. */
  readonly format: 'tsfast-web';
  /** Version of this description. */
  readonly version: 1;
  /** Model input: `[1, height, width, 3]` RGB, NHWC, float32. */
  readonly input: {
    /** Input height in pixels. */
    readonly height: number;
    /** Input width in pixels. */
    readonly width: number;
    /** Colour channels (RGB). */
    readonly channels: 3;
    /** Pixels (0..255) are multiplied by this before normalisation (1/255: [0, 1]). */
    readonly scale: number;
  };
  /**
   * Resize as tsfast's validation does: `crop` takes the largest centred crop of the target
   * aspect ratio, `squish` stretches, `pad` fits and pads (`padMode`); bilinear resampling.
   */
  readonly resize: {
    /** `crop`, `pad` or `squish`. */
    readonly method: ResizeMethod;
    /** Fill of `pad`: `reflection`, `zeros` or `border`. */
    readonly padMode: PadMode;
  };
  /** Per-channel `(x - mean) / std` after scaling, or `null`. */
  readonly normalize: {
    /** Mean per channel (of the scaled pixels). */
    readonly mean: number[];
    /** Standard deviation per channel. */
    readonly std: number[];
  } | null;
  /** Activation already applied by the model (the page must not apply it again). */
  readonly activation: WebActivation;
  /** Class names by output index, or `null`. */
  readonly vocab: string[] | null;
}

/** What {@link exportForWeb} returns. */
export interface WebExport {
  /** Absolute path of the folder written. */
  readonly dir: string;
  /** The `inference.json` written. */
  readonly inference: WebInferenceSpec;
  /** tsfast layers converted to stock ones, per class. */
  readonly converted: Readonly<Record<string, number>>;
}

function lossActivation(learn: Learner): WebActivation {
  const loss = learn.lossFunc;
  if (loss instanceof CrossEntropyLossFlat) return 'softmax';
  if (loss instanceof BCEWithLogitsLossFlat) return 'sigmoid';
  if (loss instanceof MSELossFlat) return 'linear';
  throw new ValueError(
    `exportForWeb: cannot tell the activation of loss "${loss.name}"; pass ` +
      "`activation: 'softmax' | 'sigmoid' | 'linear'`",
  );
}

const asRecord = (v: unknown): JsonObject[] =>
  Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as JsonObject[]) : [];

/** Size, resize method and normalisation of the validation pipeline, from `dls.toConfig()`. */
function pipelineSpec(learn: Learner, inputSize: ImageSize | undefined) {
  const config = learn.dls.toConfig?.() ?? {};
  const itemTfms = asRecord(config.itemTfms);
  const batchTfms = asRecord(config.batchTfms);
  const resize = itemTfms.find((t) => t.name === 'Resize');
  let size: [number, number] | undefined;
  if (resize !== undefined) size = resize.size as [number, number];
  for (const t of batchTfms) {
    if (Array.isArray(t.size)) size = t.size as [number, number];
  }
  if (inputSize !== undefined) size = toHeightWidth('inputSize', inputSize);
  if (size === undefined) {
    throw new ValueError(
      'exportForWeb: the data pipeline has no Resize or sized batch transform, so the input ' +
        'size is unknown; pass `inputSize` (e.g. 224)',
    );
  }
  const norm = batchTfms.find((t) => t.name === 'Normalize');
  return {
    size,
    method: ((resize?.method as ResizeMethod | undefined) ?? 'crop') as ResizeMethod,
    padMode: ((resize?.padMode as PadMode | undefined) ?? 'reflection') as PadMode,
    normalize:
      norm === undefined
        ? null
        : { mean: [...(norm.mean as number[])], std: [...(norm.std as number[])] },
  };
}

/** Appends an `Activation` layer after the single output of a functional topology. */
function withActivation(topology: Config, activation: WebActivation): Config {
  if (activation === 'linear') return topology;
  const config = topology.config as Config;
  const outputs = config.output_layers as [string, number, number][];
  if (!Array.isArray(outputs) || outputs.length !== 1) {
    throw new ValueError(
      `exportForWeb: the model has ${Array.isArray(outputs) ? outputs.length : 0} outputs; ` +
        "only single-output models get an activation; pass `activation: 'linear'`",
    );
  }
  const [name, node, index] = outputs[0] as [string, number, number];
  const layers = config.layers as Config[];
  const taken = new Set(layers.map((l) => l.name as string));
  let outName = `${activation}_output`;
  while (taken.has(outName)) outName = `_${outName}`;
  layers.push({
    name: outName,
    class_name: 'Activation',
    config: { name: outName, trainable: false, activation },
    inbound_nodes: [[[name, node, index, {}]]],
  });
  config.output_layers = [[outName, 0, 0]];
  return topology;
}

/**
 * Exports a learner for the web: `model.json` + `weights.bin`, a LayersModel made only of
 * stock `@tensorflow/tfjs` layer classes (tsfast's `BatchNorm` as `BatchNormalization`,
 * `ReLU6` as `ReLU` with `maxValue: 6`, `SeededDropout` as `Dropout`) ending in the loss's
 * activation, and `inference.json` ({@link WebInferenceSpec}: input size, resize method,
 * normalisation, vocab). Plain `tf.loadLayersModel('.../model.json')` loads it, in a browser
 * or in Node, with no tsfast code. The folder is written beside, then renamed into place.
 *
 * @param learn - The learner (its model is saved as it is now; BatchNorm uses the moving
 *   statistics, as `learn.predict` does).
 * @param dir - Output folder, relative to `learn.path` (replaced if it exists).
 * @param options - See {@link ExportForWebOptions}.
 * @returns The folder, the inference description and the converted layers.
 * @throws {@link ValueError} for an unknown option, a layer stock tfjs cannot load, an input
 *   size that the data does not give, or a loss whose activation is unknown.
 * @example
 * ```ts no-run (needs a vision learner)
 * const { dir } = await tsf.exportForWeb(learn, 'web-model');
 * // in a page: const model = await tf.loadLayersModel('web-model/model.json');
 * ```
 * @remarks A separate function rather than a `learn.export` format: the conversion knows
 *   vision's layer classes and image pipeline, and the learner layer may not import vision.
 */
export async function exportForWeb(
  learn: Learner,
  dir: string,
  options: ExportForWebOptions = {},
): Promise<WebExport> {
  checkOptionKeys('exportForWeb', options, ['activation', 'inputSize']);
  const wanted = options.activation ?? 'auto';
  if (!['auto', 'softmax', 'sigmoid', 'linear'].includes(wanted)) {
    throw invalidValue('activation', "'auto', 'softmax', 'sigmoid' or 'linear'", wanted);
  }
  const activation = wanted === 'auto' ? lossActivation(learn) : wanted;
  const pipeline = pipelineSpec(learn, options.inputSize);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await learn.model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const saved = artifacts as tf.io.ModelArtifacts;
  const { topology, converted } = toStockTopology(saved.modelTopology as Config);
  const modelJson = {
    format: 'layers-model',
    generatedBy: saved.generatedBy,
    convertedBy: 'tsfast exportForWeb',
    modelTopology: withActivation(topology, activation),
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs ?? [] }],
  };
  const weights = saved.weightData
    ? new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData))
    : new Uint8Array(0);
  const [height, width] = pipeline.size;
  const inference: WebInferenceSpec = {
    format: 'tsfast-web',
    version: 1,
    input: { height, width, channels: 3, scale: 1 / 255 },
    resize: { method: pipeline.method, padMode: pipeline.padMode },
    normalize: pipeline.normalize,
    activation,
    vocab: learn.dls.vocab ? [...learn.dls.vocab] : null,
  };
  const out = resolve(learn.path, dir);
  await writeFolderAtomic(out, async (tmp) => {
    await writeFile(join(tmp, 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(tmp, 'weights.bin'), weights);
    await writeFile(join(tmp, 'inference.json'), JSON.stringify(inference, null, 2));
  });
  return { dir: out, inference, converted };
}
