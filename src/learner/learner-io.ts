/**
 * Persistence: `save`/`load` (weights + optimizer state) and `export`/`loadLearner`
 * (topology + weights + a JSON description of loss and data, no user code needed to load).
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { checkOptionKeys, DataError, ValueError } from '../core/errors.js';
import { resolveInsideReal } from '../core/safe-path.js';
import type { DataLoadersLike, JsonObject } from '../data/batch.js';
import { ExportedDataLoaders, rebuildDataLoaders } from '../data/exported-data-loaders.js';
import { Learner } from './learner.js';
import { isRegisteredLoss, lossFromConfig } from './losses.js';
import { checkFiniteWeights, checkWeightBytes, checkWeightsManifest } from './weight-files.js';

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
 * await learn.save('stage-1');
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
 * await model.save(folderHandler('out/model'));
 * const m = await tf.loadLayersModel(folderHandler('out/model'));
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
      // Weights first, then the manifest that describes them; each replaced atomically.
      await writeFileAtomic(join(dir, 'weights.bin'), new Uint8Array(data));
      await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
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
      await resolveInsideReal(dir, 'model.json', file);
      const json = parseJsonFile(await readFile(file, 'utf8'), file) as unknown as tf.io.ModelJSON;
      if (json.modelTopology === undefined) {
        throw new DataError(`"${file}" has no modelTopology: it is not a tfjs LayersModel.`);
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of checkWeightsManifest(json.weightsManifest ?? [], file)) {
        const parts: Buffer[] = [];
        for (const shard of group.paths) {
          // The manifest is untrusted: its shard paths must stay in this folder.
          const path = await resolveInsideReal(dir, shard, file);
          parts.push(await readFile(path).catch((err: unknown) => missingFile(file, shard, err)));
        }
        const b = Buffer.concat(parts);
        checkWeightBytes(group.weights, b.byteLength, group.paths, file);
        specs.push(...group.weights);
        buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      }
      const weightData = tf.io.CompositeArrayBuffer.join(buffers);
      checkFiniteWeights(specs, weightData, file);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

function parseJsonFile(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(`"${file}" is not valid JSON (${(err as Error).message}): it is damaged.`, {
      cause: err,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DataError(`"${file}" does not hold a JSON object: it is damaged.`);
  }
  return value as Record<string, unknown>;
}

function missingFile(manifest: string, ref: string, err: unknown): never {
  throw new DataError(
    `"${manifest}" lists "${ref}", which cannot be read (${(err as Error).message}); the ` +
      'folder is incomplete.',
    { cause: err },
  );
}

// A checkpoint part is `<base>.json` (specs, metadata and the name of its data file) and
// `<base>.<random>.bin`. The data file gets a fresh name each save and the JSON is renamed
// into place last: a crash at any moment leaves the previous JSON naming its intact data.
async function writeTensors(
  dir: string,
  base: string,
  tensors: tf.NamedTensorMap,
  meta: JsonObject,
): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const file = `${base}.${randomBytes(4).toString('hex')}.bin`;
  await writeFileAtomic(join(dir, file), new Uint8Array(data));
  await writeFileAtomic(
    join(dir, `${base}.json`),
    JSON.stringify({ ...meta, file, bytes: data.byteLength, specs }),
  );
  const stale = (await readdir(dir)).filter(
    (f) =>
      f !== file && (f === `${base}.bin` || new RegExp(`^${base}\\.[0-9a-f]{8}\\.bin$`).test(f)),
  );
  await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
}

async function readTensors(
  dir: string,
  base: string,
): Promise<{ tensors: tf.NamedTensorMap; meta: Record<string, unknown> }> {
  const jsonFile = join(dir, `${base}.json`);
  const meta = parseJsonFile(await readFile(jsonFile, 'utf8'), jsonFile);
  const [group] = checkWeightsManifest([{ paths: [], weights: meta.specs }], jsonFile);
  const specs = group?.weights ?? [];
  // Checkpoints from before atomic saves have no "file": their data is `<base>.bin`.
  const ref = meta.file ?? `${base}.bin`;
  const binFile = await resolveInsideReal(dir, ref, jsonFile);
  const buf = await readFile(binFile).catch((err: unknown) =>
    missingFile(jsonFile, String(ref), err),
  );
  checkWeightBytes(specs, buf.byteLength, [binFile], jsonFile);
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  checkFiniteWeights(specs, data, jsonFile);
  return { tensors: tf.io.decodeWeights(data, [...specs]), meta };
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
 * await learn.save('best');
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
  await writeFileAtomic(join(dir, 'learner.json'), JSON.stringify(desc, null, 2));
  return dir;
}

// learner.json is untrusted input: every field is checked before use (nothing in it is code:
// the loss is looked up by name in the registry, the pipeline rebuilt from named transforms).
function checkExportedLearner(raw: Record<string, unknown>, file: string): ExportedLearner {
  const bad = (what: string) =>
    new DataError(`"${file}": ${what}; the export is damaged or was not written by tsfast.`);
  if (raw.format !== 'tsfast-learner') {
    throw new DataError(
      `"${file}" has format ${JSON.stringify(raw.format)}; expected "tsfast-learner".`,
    );
  }
  const loss = raw.loss as { name?: unknown; config?: unknown } | null;
  if (loss === null || typeof loss !== 'object' || typeof loss.name !== 'string') {
    throw bad('"loss" has no name');
  }
  if (loss.config === null || typeof loss.config !== 'object' || Array.isArray(loss.config)) {
    throw bad(`"loss.config" is ${JSON.stringify(loss.config)}, not an object`);
  }
  const vocab = raw.vocab ?? null;
  if (vocab !== null && !(Array.isArray(vocab) && vocab.every((v) => typeof v === 'string'))) {
    throw bad('"vocab" is not a list of class names');
  }
  if (!(typeof raw.c === 'number' && Number.isSafeInteger(raw.c) && raw.c > 0)) {
    throw bad(`"c" is ${JSON.stringify(raw.c)}, not a positive integer`);
  }
  const data = raw.data ?? null;
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    throw bad('"data" is not an object');
  }
  return raw as unknown as ExportedLearner;
}

/**
 * Options of {@link loadLearner}.
 * @example
 * ```ts no-run (needs an exported learner)
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
 * ```ts no-run (needs an exported learner)
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
  await resolveInsideReal(dir, 'learner.json', file);
  const desc = checkExportedLearner(parseJsonFile(await readFile(file, 'utf8'), file), file);
  const model = await tf.loadLayersModel(folderHandler(dir));
  let dls = options.dls;
  if (dls === undefined && desc.data !== null) dls = await rebuildDataLoaders(desc.data);
  dls ??= new ExportedDataLoaders(desc.vocab ?? undefined, desc.c, desc.data);
  return new Learner(dls, model, {
    lossFunc: lossFromConfig(desc.loss.name, desc.loss.config),
    path: dir,
  });
}
