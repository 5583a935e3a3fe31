/**
 * Writer for the safetensors format (the reader is `safetensors.ts`): an 8-byte little-endian
 * header length, a JSON header padded with spaces to a multiple of 8 bytes, then each tensor's
 * little-endian bytes in header order.
 */
import { writeFileAtomic } from '../../core/atomic-write.js';
import { invalidValue } from '../../core/errors.js';

/** One tensor to write: row-major values in the layout the reader expects. */
export interface TensorToWrite {
  /** Shape, e.g. `[64, 3, 7, 7]`; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Values: float32, or 64-bit integers (`I64`, PyTorch's `num_batches_tracked`). */
  readonly data: Float32Array | BigInt64Array;
}

/**
 * Encodes tensors as safetensors bytes (`F32` for a `Float32Array`, `I64` for a `BigInt64Array`).
 *
 * @param tensors - Tensors by name, in the order to store them.
 * @param metadata - `__metadata__` strings.
 * @returns The file's bytes.
 * @throws {@link ValueError} when a tensor's length does not match its shape.
 * @example
 * ```ts
 * const bytes = tsf.encodeSafetensors(new Map([['w', { shape: [2], data: new Float32Array([1, 2]) }]]));
 * ```
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw invalidValue(
        `tensor "${name}" length`,
        `${count} values for [${t.shape}]`,
        t.data.length,
      );
    }
    const dtype = t.data instanceof BigInt64Array ? 'I64' : 'F32';
    header[name] = {
      dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    // Typed arrays are little-endian on every platform Node supports (x64, arm64).
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes tensors to a `.safetensors` file atomically (a temporary file beside, then a rename).
 *
 * @param file - Destination path.
 * @param tensors - Tensors by name.
 * @param metadata - `__metadata__` strings.
 * @returns Resolves once the file is in place.
 * @throws {@link ValueError} as {@link encodeSafetensors}.
 * @example
 * ```ts
 * await tsf.writeSafetensors('w.safetensors', new Map([['w', { shape: [1], data: new Float32Array([3]) }]]));
 * ```
 */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
