/**
 * tfjs LayersModel folders (`model.json` + weight shards) from a local folder, a local
 * `model.json` or a URL (through the download cache). `tf.io.fileSystem` exists only in
 * tfjs-node, so the files are read here and handed to tfjs from memory; a missing or short
 * shard is reported by name before tfjs sees it.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../../core/errors.js';
import { checkRelativeRef, resolveInsideReal } from '../../core/safe-path.js';
import {
  DownloadError,
  type DownloadOptions,
  downloadFile,
  isRemoteUrl,
} from '../../external/download.js';
import {
  checkFiniteWeights,
  checkWeightsManifest,
  weightSpecBytes,
} from '../../learner/weight-files.js';
import type { NamedArray } from './safetensors.js';

/** A tfjs LayersModel folder read into memory. */
export interface TfjsModelFiles {
  /** The `model.json` path or URL that was read. */
  readonly source: string;
  /** The model topology and weight specs, as tfjs artifacts (weights concatenated). */
  readonly artifacts: tf.io.ModelArtifacts;
}

async function fetchFile(location: string, download: DownloadOptions | undefined): Promise<string> {
  return isRemoteUrl(location) ? downloadFile(location, download ?? {}) : location;
}

/**
 * Reads a tfjs LayersModel folder into memory.
 *
 * @param source - A folder holding `model.json`, a `model.json` path (any file name), or an
 *   http(s) URL of a `model.json` (downloaded with its shards into the tsfast cache).
 * @param download - Options for the download cache (`cacheDir`, `force`, `onProgress`).
 * @returns The artifacts tfjs loads from.
 * @throws {@link DataError} when `model.json` is missing or not a LayersModel, or a weight
 *   shard is missing or shorter than its manifest says (naming the file and its weights), a
 *   shard path leaves the model's folder (`..`, an absolute path, a symbolic link leading
 *   outside; nothing outside is read), or a weight holds NaN or infinite values;
 *   {@link DownloadError} when a URL cannot be fetched.
 * @example
 * ```ts no-run (needs a tfjs model folder)
 * const files = await tsf.readTfjsModelFiles('../shared/models/mobilenet_v1_0.75_224');
 * ```
 */
export async function readTfjsModelFiles(
  source: string,
  download?: DownloadOptions,
): Promise<TfjsModelFiles> {
  const remote = isRemoteUrl(source);
  let jsonLocation = source;
  if (!remote) {
    const info = await stat(source).catch(() => undefined);
    if (info === undefined) {
      throw new DataError(
        `tfjs model "${source}" not found: pass a folder holding model.json, a model.json path or a URL`,
      );
    }
    if (info.isDirectory()) {
      jsonLocation = join(source, 'model.json');
      await resolveInsideReal(source, 'model.json', jsonLocation);
    }
  }
  const jsonPath = await fetchFile(jsonLocation, download);
  let json: {
    modelTopology?: object;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
  };
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (err) {
    throw new DataError(`Cannot read tfjs model "${jsonLocation}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (
    json === null ||
    typeof json !== 'object' ||
    json.modelTopology === undefined ||
    json.weightsManifest === undefined
  ) {
    throw new DataError(
      `"${jsonLocation}" is not a tfjs LayersModel model.json (no modelTopology/weightsManifest)`,
    );
  }
  if (json.format === 'graph-model') {
    throw new DataError(
      `"${jsonLocation}" is a tfjs GraphModel; tsfast loads LayersModels (Keras conversions)`,
    );
  }
  const manifest = checkWeightsManifest(json.weightsManifest, jsonLocation);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  const problems: string[] = [];
  for (const group of manifest) {
    const chunks: Buffer[] = [];
    let missing = false;
    for (const p of group.paths) {
      // The manifest is untrusted: a shard path must stay in the model's folder (or URL folder).
      let location: string;
      if (remote) {
        location = new URL(checkRelativeRef(p, jsonLocation, dirname(jsonLocation)), jsonLocation)
          .href;
      } else {
        await resolveInsideReal(dirname(jsonPath), p, jsonLocation);
        location = join(dirname(jsonPath), p);
      }
      try {
        chunks.push(await readFile(await fetchFile(location, download)));
      } catch (err) {
        const names = group.weights.map((w) => w.name).join(', ');
        if (err instanceof DownloadError) {
          problems.push(
            `weight file "${p}" (holds ${names}) could not be downloaded: ${err.message}`,
          );
          missing = true;
        } else if (err instanceof DataError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
          problems.push(
            `weight file "${p}" is missing (expected at "${location}"; holds ${names})`,
          );
          missing = true;
        } else {
          throw err;
        }
      }
    }
    if (missing) continue;
    const data = Buffer.concat(chunks);
    const want = group.weights.reduce((a, w) => a + weightSpecBytes(w), 0);
    if (data.byteLength < want) {
      problems.push(
        `weight file(s) "${group.paths.join('", "')}" hold ${data.byteLength} bytes, the manifest needs ${want}`,
      );
      continue;
    }
    specs.push(...group.weights);
    buffers.push(new Uint8Array(data.buffer, data.byteOffset, want));
  }
  if (problems.length > 0) {
    throw new DataError(
      `Cannot load tfjs model "${jsonLocation}": ${problems.join('; ')}. ` +
        'Download the complete model folder again, or pass a model.json whose manifest lists only the files present.',
    );
  }
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  checkFiniteWeights(specs, weightData, jsonLocation);
  return {
    source: jsonLocation,
    artifacts: {
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: weightData.buffer,
      format: json.format ?? 'layers-model',
    },
  };
}

/**
 * Loads a tfjs LayersModel (topology and weights) from a folder, a `model.json` or a URL.
 *
 * @param source - As in {@link readTfjsModelFiles}.
 * @param download - Options for the download cache.
 * @returns The model; the caller disposes it.
 * @throws {@link DataError} as {@link readTfjsModelFiles}, or when tfjs cannot build it.
 * @example
 * ```ts no-run (needs a tfjs model folder)
 * const net = await tsf.loadTfjsModel('../shared/models/mobilenet_v1_0.75_224');
 * const probs = net.predict(x) as tf.Tensor; // [N, 1000]
 * ```
 */
export async function loadTfjsModel(
  source: string,
  download?: DownloadOptions,
): Promise<tf.LayersModel> {
  const { artifacts } = await readTfjsModelFiles(source, download);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new DataError(`tfjs could not build the model "${source}": ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * The weights of a tfjs LayersModel folder by name (`conv1/kernel`, `conv1_bn/gamma`), as
 * float32 arrays, for `assignNamedWeights` with {@link kerasNaming}.
 *
 * @param source - As in {@link readTfjsModelFiles}.
 * @param download - Options for the download cache.
 * @returns Arrays by weight name.
 * @throws {@link DataError} as {@link readTfjsModelFiles}.
 * @example
 * ```ts no-run (needs a tfjs model folder)
 * const named = await tsf.readTfjsWeights('../shared/models/mobilenet_v1_0.75_224');
 * named.get('conv1/kernel')?.shape; // [3, 3, 3, 24]
 * ```
 */
export async function readTfjsWeights(
  source: string,
  download?: DownloadOptions,
): Promise<Map<string, NamedArray>> {
  const { artifacts } = await readTfjsModelFiles(source, download);
  const decoded = tf.io.decodeWeights(
    artifacts.weightData as ArrayBuffer,
    artifacts.weightSpecs ?? [],
  );
  const out = new Map<string, NamedArray>();
  for (const [name, t] of Object.entries(decoded)) {
    out.set(name, {
      shape: t.shape,
      data:
        t.dtype === 'float32' ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync()),
      dtype: t.dtype,
    });
    t.dispose();
  }
  return out;
}
