/**
 * Checks on weight files read from disk (tfjs `model.json` manifests and their shards,
 * tsfast checkpoints): the manifest's structure, each shard's size against what its specs
 * need, and NaN/Inf values. A damaged file is reported by name with what is wrong, before
 * tfjs turns it into "the tensor should have N values but has M".
 */
import type * as tf from '@tensorflow/tfjs';
import { DataError } from '../core/errors.js';

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  string: 0,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** One group of a tfjs weights manifest, after {@link checkWeightsManifest}. */
export interface ManifestGroup {
  /** Shard file names, relative to the manifest's folder, in order. */
  readonly paths: readonly string[];
  /** The weights the shards hold, in order. */
  readonly weights: readonly tf.io.WeightsManifestEntry[];
}

function isDim(d: unknown): d is number {
  return typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;
}

/**
 * Checks the structure of a tfjs `weightsManifest` read from a file: an array of groups,
 * each with `paths` (strings) and `weights` (a name, a known dtype, a shape of non-negative
 * integers).
 *
 * @param manifest - The parsed `weightsManifest` value.
 * @param source - The file it came from, for the message.
 * @returns The groups, typed.
 * @throws {@link DataError} naming the file and the bad field.
 * @example
 * ```ts
 * const json = { weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'k', shape: [2], dtype: 'float32' }] }] };
 * const groups = checkWeightsManifest(json.weightsManifest, 'model.json');
 * ```
 */
export function checkWeightsManifest(manifest: unknown, source: string): ManifestGroup[] {
  const bad = (what: string) =>
    new DataError(`"${source}": ${what}; the file is damaged or was not written by tfjs.`);
  if (!Array.isArray(manifest)) throw bad('"weightsManifest" is not an array');
  manifest.forEach((group: unknown, g) => {
    const grp = group as { paths?: unknown; weights?: unknown } | null;
    if (grp === null || typeof grp !== 'object')
      throw bad(`weightsManifest[${g}] is not an object`);
    if (!Array.isArray(grp.paths) || !grp.paths.every((p) => typeof p === 'string')) {
      throw bad(`weightsManifest[${g}].paths is not a list of file names`);
    }
    if (!Array.isArray(grp.weights)) throw bad(`weightsManifest[${g}].weights is not a list`);
    grp.weights.forEach((w: unknown, i) => {
      const spec = w as Partial<tf.io.WeightsManifestEntry> | null;
      const at = `weightsManifest[${g}].weights[${i}]`;
      if (spec === null || typeof spec !== 'object') throw bad(`${at} is not an object`);
      if (typeof spec.name !== 'string') throw bad(`${at} has no name`);
      const dtype = spec.quantization?.dtype ?? spec.dtype;
      if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined || dtype === 'string') {
        throw bad(`weight "${spec.name}" has dtype ${JSON.stringify(dtype)}`);
      }
      if (!Array.isArray(spec.shape) || !spec.shape.every(isDim)) {
        throw bad(`weight "${spec.name}" has shape ${JSON.stringify(spec.shape)}`);
      }
    });
  });
  return manifest as ManifestGroup[];
}

/**
 * Bytes a weight occupies in its shard (quantized weights at their stored width).
 * @param spec - The manifest entry.
 * @returns Its size in bytes.
 * @example
 * ```ts
 * weightSpecBytes({ name: 'k', shape: [3, 3], dtype: 'float32' }); // 36
 * ```
 */
export function weightSpecBytes(spec: tf.io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  return n * (DTYPE_BYTES[dtype] ?? 4);
}

/**
 * Checks that weight data holds exactly what its specs need, naming the file and the first
 * weight that does not fit.
 *
 * @param specs - The weights, in order.
 * @param byteLength - The bytes available.
 * @param files - The shard file(s), for the message.
 * @param source - The manifest, for the message.
 * @throws {@link DataError} saying which file is short (or too long) by how much.
 * @example
 * ```ts
 * const specs: tf.io.WeightsManifestEntry[] = [{ name: 'conv1/kernel', shape: [2], dtype: 'float32' }];
 * const buf = new Float32Array([0.5, -1]).buffer;
 * checkWeightBytes(specs, buf.byteLength, ['weights.bin'], 'weights.json'); // 8 bytes: passes
 * ```
 */
export function checkWeightBytes(
  specs: readonly tf.io.WeightsManifestEntry[],
  byteLength: number,
  files: readonly string[],
  source: string,
): void {
  const want = specs.reduce((a, s) => a + weightSpecBytes(s), 0);
  if (byteLength === want) return;
  const shards = files.map((f) => `"${f}"`).join(', ');
  if (byteLength > want) {
    throw new DataError(
      `${shards} hold ${byteLength} bytes, but "${source}" describes ${want}: the files do not ` +
        'belong together; the checkpoint is damaged.',
    );
  }
  let offset = 0;
  let first = specs[0];
  for (const s of specs) {
    first = s;
    offset += weightSpecBytes(s);
    if (offset > byteLength) break;
  }
  throw new DataError(
    `${shards} hold ${byteLength} bytes, but "${source}" needs ${want}: the file is truncated ` +
      `(weight "${first?.name}" onward is missing). The checkpoint is damaged; load another one ` +
      'or save it again.',
  );
}

/**
 * Names the float weights holding NaN or infinite values.
 *
 * @param specs - The weights, in order.
 * @param data - Their bytes, concatenated.
 * @returns `name (count of total values)` per weight with non-finite values, in order.
 * @example
 * ```ts
 * const specs: tf.io.WeightsManifestEntry[] = [{ name: 'conv1/kernel', shape: [2], dtype: 'float32' }];
 * const buffer = new Float32Array([Number.NaN, Number.NaN]).buffer;
 * const bad = nonFiniteWeights(specs, buffer); // ['conv1/kernel (2 of 2 values)']
 * ```
 */
export function nonFiniteWeights(
  specs: readonly tf.io.WeightsManifestEntry[],
  data: ArrayBuffer | Uint8Array,
): string[] {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const out: string[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = weightSpecBytes(s);
    if (s.dtype === 'float32' && s.quantization === undefined && offset + size <= bytes.length) {
      const n = size / 4;
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
      let bad = 0;
      for (let i = 0; i < n; i++) if (!Number.isFinite(view.getFloat32(i * 4, true))) bad++;
      if (bad > 0) out.push(`"${s.name}" (${bad} of ${n} values)`);
    }
    offset += size;
  }
  return out;
}

/**
 * Refuses weight data holding NaN or infinite values, naming the weights.
 *
 * @param specs - The weights, in order.
 * @param data - Their bytes, concatenated.
 * @param source - The file, for the message.
 * @throws {@link DataError} listing the weights with non-finite values.
 * @example
 * ```ts
 * const specs: tf.io.WeightsManifestEntry[] = [{ name: 'conv1/kernel', shape: [2], dtype: 'float32' }];
 * const buffer = new Float32Array([0.5, -1]).buffer;
 * checkFiniteWeights(specs, buffer, 'models/best/weights.json'); // passes
 * ```
 */
export function checkFiniteWeights(
  specs: readonly tf.io.WeightsManifestEntry[],
  data: ArrayBuffer | Uint8Array,
  source: string,
): void {
  const bad = nonFiniteWeights(specs, data);
  if (bad.length === 0) return;
  const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? `, and ${bad.length - 5} more` : '');
  throw new DataError(
    `"${source}": ${bad.length} weight(s) hold NaN or infinite values: ${shown}. The file is ` +
      'damaged, or the model had diverged when it was saved (lower the learning rate and ' +
      'train again from an earlier checkpoint).',
  );
}
