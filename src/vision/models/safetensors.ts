/**
 * Reader for the safetensors format (Hugging Face): an 8-byte little-endian header length, a
 * JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__ }` and the raw
 * little-endian tensor bytes. The format is this small, so it is read here rather than through
 * a dependency; every tensor is converted to float32 for tfjs.
 */
import { readFile } from 'node:fs/promises';
import { DataError } from '../../core/errors.js';

/** One tensor of a safetensors file, converted to float32 (row-major, PyTorch layout). */
export interface NamedArray {
  /** Shape as stored (PyTorch layout, e.g. `[out, in, kh, kw]` for a conv kernel). */
  readonly shape: readonly number[];
  /** Values, row-major. */
  readonly data: Float32Array;
  /** The dtype stored in the file (`F32`, `F16`, `BF16`, `F64`, `I64`, ...). */
  readonly dtype: string;
}

/** The content of a safetensors file. */
export interface Safetensors {
  /** Tensors by name, in file order. */
  readonly tensors: ReadonlyMap<string, NamedArray>;
  /** The `__metadata__` strings, if any. */
  readonly metadata: Readonly<Record<string, string>>;
}

const BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function toFloat32(bytes: Buffer, dtype: string, count: number, where: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = tmp.getFloat32(0);
      }
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    default:
      throw new DataError(`${where}: dtype "${dtype}" is not supported`);
  }
  return out;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkMetadata(raw: unknown, source: string): Record<string, string> {
  if (raw === null || raw === undefined) return {};
  if (
    typeof raw !== 'object' ||
    Array.isArray(raw) ||
    !Object.values(raw).every((v) => typeof v === 'string')
  ) {
    throw new DataError(`"${source}": __metadata__ is not an object of strings`);
  }
  return raw as Record<string, string>;
}

/**
 * Parses safetensors bytes.
 *
 * @param bytes - The whole file.
 * @param source - File name or URL, for error messages.
 * @returns Tensors (as float32) and metadata.
 * @throws {@link DataError} if the header is malformed (not an object, a `null` entry, a
 *   negative or fractional dimension or offset), a dtype is unknown or a tensor's byte range
 *   does not fit its shape or the file, or a tensor holds NaN or infinite values.
 * @example
 * ```ts no-run (needs a safetensors file)
 * import { readFile } from 'node:fs/promises';
 * const { tensors } = tsf.parseSafetensors(await readFile('model.safetensors'), 'model.safetensors');
 * tensors.get('conv1.weight')?.shape; // [64, 3, 7, 7]
 * ```
 */
export function parseSafetensors(bytes: Buffer, source: string): Safetensors {
  if (bytes.byteLength < 8) {
    throw new DataError(`"${source}" is not a safetensors file: ${bytes.byteLength} bytes`);
  }
  const headerLen = Number(bytes.readBigUInt64LE(0));
  if (headerLen > bytes.byteLength - 8) {
    throw new DataError(
      `"${source}" is not a safetensors file (or is truncated): header length ${headerLen} ` +
        `exceeds the file size ${bytes.byteLength}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (err) {
    throw new DataError(`"${source}": the safetensors header is not valid JSON`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DataError(`"${source}": the safetensors header is not a JSON object`);
  }
  const header = parsed as Record<string, unknown>;
  const dataStart = 8 + headerLen;
  const dataBytes = bytes.byteLength - dataStart;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  const nonFinite: string[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(raw, source);
      continue;
    }
    const where = `"${source}", tensor "${name}"`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new DataError(`${where}: the entry is ${JSON.stringify(raw)}, not an object`);
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof info.dtype === 'string' ? info.dtype : '';
    const size = BYTES[dtype];
    if (size === undefined) {
      throw new DataError(`${where}: dtype ${JSON.stringify(info.dtype)} is not supported`);
    }
    if (!Array.isArray(info.shape) || !info.shape.every(isCount)) {
      throw new DataError(
        `${where}: shape ${JSON.stringify(info.shape)} is not a list of non-negative integers`,
      );
    }
    const shape = info.shape as number[];
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new DataError(
        `${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== count * size || end > dataBytes) {
      throw new DataError(
        `${where}: byte range [${begin}, ${end}) does not hold ${dtype} [${shape.join(', ')}] ` +
          `or lies outside the data (${dataBytes} bytes after the header); the file may be truncated`,
      );
    }
    const data = toFloat32(bytes.subarray(dataStart + begin, dataStart + end), dtype, count, where);
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) bad++;
    if (bad > 0) nonFinite.push(`"${name}" (${bad} of ${data.length} values)`);
    tensors.set(name, { shape, data, dtype });
  }
  if (nonFinite.length > 0) {
    throw new DataError(
      `"${source}": ${nonFinite.length} tensor(s) hold NaN or infinite values: ` +
        `${nonFinite.slice(0, 5).join(', ')}${nonFinite.length > 5 ? ', ...' : ''}. The file is ` +
        'damaged, or the model had diverged when it was saved.',
    );
  }
  return { tensors, metadata };
}

/**
 * Reads a local safetensors file.
 *
 * @param path - Path of the `.safetensors` file.
 * @returns Tensors (as float32) and metadata.
 * @throws {@link DataError} if the file is missing or malformed.
 * @example
 * ```ts no-run (needs a safetensors file)
 * const st = await tsf.readSafetensors('resnet50.safetensors');
 * ```
 */
export async function readSafetensors(path: string): Promise<Safetensors> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(`Cannot read safetensors file "${path}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseSafetensors(bytes, path);
}
