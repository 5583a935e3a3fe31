/**
 * What the JPEG fast path needs from a file's header before it decodes: whether the bytes are a
 * JPEG at all and the EXIF orientation tag, read without decoding.
 */

/**
 * Whether `bytes` start with a JPEG start-of-image marker (by content, not by file name).
 *
 * @param bytes - Encoded image bytes.
 * @returns True for JPEG data.
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * isJpeg(await readFile('cat.jpg')); // true (false for a PNG named .jpg)
 * ```
 */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * The EXIF orientation (1-8) of a JPEG, read from its APP1 segment. `1` when the file has no
 * EXIF block, no orientation tag or an out-of-range one; `undefined` when the header cannot be
 * walked (the caller
 * then leaves the file to a full decoder, which reports the problem).
 *
 * @param bytes - JPEG bytes.
 * @returns The orientation tag, 1 when absent.
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * // undefined here (no EXIF); 6 for a phone portrait that must turn 90 degrees
 * jpegOrientation(await readFile('cat.jpg'));
 * ```
 */
export function jpegOrientation(bytes: Uint8Array): number | undefined {
  let pos = 2;
  while (pos + 2 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1]!;
    // Fill bytes may precede a marker.
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    // Start of scan (or end of image): EXIF only ever comes before it.
    if (marker === 0xda || marker === 0xd9) return 1;
    if (pos + 4 > bytes.length) return undefined;
    const length = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    if (length < 2 || pos + 2 + length > bytes.length) return undefined;
    if (marker === 0xe1) {
      const tag = exifOrientation(bytes.subarray(pos + 4, pos + 2 + length));
      if (tag !== 1) return tag;
    }
    pos += 2 + length;
  }
  return undefined;
}

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
const ORIENTATION_TAG = 0x0112;

/** The orientation tag in one APP1 payload; 1 if it is not EXIF or has no such tag. */
function exifOrientation(app1: Uint8Array): number | undefined {
  if (app1.length < 14 || EXIF_HEADER.some((b, i) => app1[i] !== b)) return 1;
  const tiff = new DataView(app1.buffer, app1.byteOffset + 6, app1.length - 6);
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  const ifd = tiff.getUint32(4, little);
  if (ifd + 2 > tiff.byteLength) return undefined;
  const count = tiff.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > tiff.byteLength) return undefined;
    if (tiff.getUint16(entry, little) === ORIENTATION_TAG) {
      const value = tiff.getUint16(entry + 8, little);
      // Out-of-range values (0 is common in camera files) mean no rotation, as in libvips.
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
