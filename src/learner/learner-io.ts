/**
 * Persistence: `save`/`load` (weights + optimizer state) and `export`/`loadLearner`
 * (topology + weights + a JSON description of loss and data, no user code needed to load).
 */

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/ready.js';
import { checkOptionKeys, DataError, ValueError } from '../core/errors.js';
import type { DataLoadersLike, JsonObject } from '../data/batch.js';
import { ExportedDataLoaders, rebuildDataLoaders } from '../data/exported-data-loaders.js';
import { Learner } from './learner.js';
import { isRegisteredLoss, lossFromConfig } from './losses.js';

/**
 * Options of {@link Learner.save}.
 * @example
 * ```ts
 * await learn.save('stage-1', { withOpt: false });
 * ```
 */
export interface SaveOptions {
  /**
   * Also save the optimizer state.
   * @defaultValue true
   */
  withOpt?: boolean;
}

/**
 * Options of {@link Learner.load}.
 * @example
 * ```ts
 * await learn.load('stage-1', { withOpt: false });
 * ```
 */
export interface LoadOptions {
  /**
   * Also load the optimizer state (when it was saved).
   * @defaultValue true
   */
  withOpt?: boolean;
}

/**
 * Options of {@link Learner.export} (none yet: reserved, unknown keys are refused).
 * @example
 * ```ts
 * const options: tsf.ExportOptions = {};
 * await learn.export('export', options);
 * ```
 */
export type ExportOptions = Record<string, never>;

/**
 * A tfjs IOHandler reading and writing a folder (`model.json` + weight shards; every
 * manifest group and shard is read) with node:fs, since `@tensorflow/tfjs` has no `file://` handler without tfjs-node.
 * @param dir - The folder.
 * @returns The handler.
 * @example
 * ```ts
 * await model.save(tsf.folderHandler('out/model'));
 * const m = await tf.loadLayersModel(tsf.folderHandler('out/model'));
 * ```
 */
export function folderHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const data = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0);
      const modelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(data));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: data.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = join(dir, 'model.json');
      if (!existsSync(file))
        throw new DataError(`No model at "${file}": export the learner first.`);
      const json = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const shard of group.paths) {
          const b = await readFile(join(dir, shard));
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        }
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: tf.io.CompositeArrayBuffer.join(buffers),
      };
    },
  };
}

async function writeTensors(
  dir: string,
  base: string,
  tensors: tf.NamedTensorMap,
  meta: JsonObject,
): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFile(join(dir, `${base}.bin`), new Uint8Array(data));
  await writeFile(join(dir, `${base}.json`), JSON.stringify({ ...meta, specs }));
}

async function readTensors(
  dir: string,
  base: string,
): Promise<{ tensors: tf.NamedTensorMap; meta: Record<string, unknown> }> {
  const meta = JSON.parse(await readFile(join(dir, `${base}.json`), 'utf8')) as Record<
    string,
    unknown
  > & {
    specs: tf.io.WeightsManifestEntry[];
  };
  const buf = await readFile(join(dir, `${base}.bin`));
  const tensors = tf.io.decodeWeights(
    buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    meta.specs,
  );
  return { tensors, meta };
}

/**
 * Writes the model's weights (BatchNorm statistics included) and the optimizer state to
 * `learn.path/learn.modelDir/name/`.
 * @param learn - The learner.
 * @param name - Checkpoint name.
 * @param options - See {@link SaveOptions}.
 * @returns The folder written.
 * @example
 * ```ts
 * await tsf.saveWeights(learn, 'best');
 * ```
 */
export async function saveWeights(
  learn: Learner,
  name: string,
  options: SaveOptions = {},
): Promise<string> {
  checkOptionKeys('save', options, ['withOpt']);
  const dir = resolve(learn.path, learn.modelDir, name);
  await mkdir(dir, { recursive: true });
  const weights: tf.NamedTensorMap = {};
  learn.model.weights.forEach((w, i) => {
    weights[`w${i}`] = w.read();
  });
  await writeTensors(dir, 'weights', weights, {
    format: 'tsfast-weights',
    version: 1,
    names: learn.model.weights.map((w) => w.originalName),
  });
  if (options.withOpt ?? true) {
    const state = learn.opt.getState();
    try {
      await writeTensors(dir, 'opt', state.tensors, {
        format: 'tsfast-optimizer',
        version: 1,
        hypers: state.hypers,
        steps: state.steps,
      });
    } finally {
      tf.dispose(Object.values(state.tensors));
    }
  }
  return dir;
}

/**
 * Loads weights (and optimizer state) written by {@link saveWeights}.
 * @param learn - The learner.
 * @param name - Checkpoint name.
 * @param options - See {@link LoadOptions}.
 * @throws {@link DataError} if files are missing or the weights do not match the model.
 * @example
 * ```ts
 * await tsf.loadWeights(learn, 'best');
 * ```
 */
export async function loadWeights(
  learn: Learner,
  name: string,
  options: LoadOptions = {},
): Promise<void> {
  checkOptionKeys('load', options, ['withOpt']);
  await ready();
  const dir = resolve(learn.path, learn.modelDir, name);
  if (!existsSync(join(dir, 'weights.json'))) {
    throw new DataError(`No checkpoint "${name}" in "${dir}": call learn.save("${name}") first.`);
  }
  const { tensors } = await readTensors(dir, 'weights');
  try {
    const ws = learn.model.weights;
    if (Object.keys(tensors).length !== ws.length) {
      throw new DataError(
        `Checkpoint "${dir}" has ${Object.keys(tensors).length} weights; the model has ${ws.length}. Load it into the same architecture.`,
      );
    }
    ws.forEach((w, i) => {
      const t = tensors[`w${i}`] as tf.Tensor;
      if (!tf.util.arraysEqual(t.shape, w.shape as number[])) {
        throw new DataError(
          `Checkpoint "${dir}": weight ${i} ("${w.originalName}") has shape ${JSON.stringify(t.shape)}, the model expects ${JSON.stringify(w.shape)}.`,
        );
      }
    });
    ws.forEach((w, i) => {
      (w.read() as tf.Variable).assign(tensors[`w${i}`] as tf.Tensor);
    });
  } finally {
    tf.dispose(Object.values(tensors));
  }
  if ((options.withOpt ?? true) && existsSync(join(dir, 'opt.json'))) {
    const { tensors: opt, meta } = await readTensors(dir, 'opt');
    try {
      learn.opt.setState({
        hypers: meta.hypers as Record<string, number>[],
        steps: meta.steps as number[],
        tensors: opt,
      });
    } finally {
      tf.dispose(Object.values(opt));
    }
  }
}

/** The `learner.json` written by `export`. */
interface ExportedLearner {
  format: 'tsfast-learner';
  version: 1;
  loss: { name: string; config: JsonObject };
  vocab: string[] | null;
  c: number;
  data: JsonObject | null;
}

/**
 * Writes `model.json` + `weights.bin` (tfjs format) and `learner.json` (loss, vocab, data
 * pipeline from `dls.toConfig()`) to `learn.path/file/`.
 * @param learn - The learner.
 * @param file - Folder relative to `learn.path`.
 * @param options - None yet.
 * @returns The folder written.
 * @throws {@link ValueError} if the loss is a plain function or unregistered.
 * @example
 * ```ts
 * await tsf.exportLearner(learn, 'export');
 * ```
 */
export async function exportLearner(
  learn: Learner,
  file: string,
  options: ExportOptions = {},
): Promise<string> {
  checkOptionKeys('export', options, []);
  const loss = learn.lossFunc;
  if (!isRegisteredLoss(loss.name)) {
    throw new ValueError(
      `Cannot export loss "${loss.name}": it is not a registered loss class. Use a built-in loss or call registerLoss("${loss.name}", cls).`,
    );
  }
  const dir = resolve(learn.path, file);
  await learn.model.save(folderHandler(dir));
  const desc: ExportedLearner = {
    format: 'tsfast-learner',
    version: 1,
    loss: { name: loss.name, config: loss.getConfig() },
    vocab: learn.dls.vocab ? [...learn.dls.vocab] : null,
    c: learn.dls.c,
    data: learn.dls.toConfig?.() ?? null,
  };
  await writeFile(join(dir, 'learner.json'), JSON.stringify(desc, null, 2));
  return dir;
}

/**
 * Options of {@link loadLearner}.
 * @example
 * ```ts
 * const learn = await tsf.loadLearner('models/export', { dls });
 * ```
 */
export interface LoadLearnerOptions {
  /**
   * Data to attach instead of rebuilding it from the exported description.
   * @defaultValue rebuilt by the registered pipeline loader, else {@link ExportedDataLoaders}
   */
  dls?: DataLoadersLike;
}

/**
 * Loads a learner written by `learn.export()`: model, loss, vocab and data pipeline, with no
 * user code.
 * @param dir - The exported folder.
 * @param options - See {@link LoadLearnerOptions}.
 * @returns A learner ready for `predict`/`getPreds`.
 * @throws {@link DataError} if the folder is not an export.
 * @example
 * ```ts
 * const learn = await tsf.loadLearner('models/pets');
 * const { label } = await learn.predict(tensor);
 * ```
 */
export async function loadLearner(dir: string, options: LoadLearnerOptions = {}): Promise<Learner> {
  checkOptionKeys('loadLearner', options, ['dls']);
  await ready();
  const file = join(dir, 'learner.json');
  if (!existsSync(file))
    throw new DataError(`"${dir}" is not an exported learner: "${file}" is missing.`);
  const desc = JSON.parse(await readFile(file, 'utf8')) as ExportedLearner;
  if (desc.format !== 'tsfast-learner') {
    throw new DataError(
      `"${file}" has format ${JSON.stringify(desc.format)}; expected "tsfast-learner".`,
    );
  }
  const model = await tf.loadLayersModel(folderHandler(dir));
  let dls = options.dls;
  if (dls === undefined && desc.data !== null) dls = await rebuildDataLoaders(desc.data);
  dls ??= new ExportedDataLoaders(desc.vocab ?? undefined, desc.c, desc.data);
  return new Learner(dls, model, {
    lossFunc: lossFromConfig(desc.loss.name, desc.loss.config),
    path: dir,
  });
}
