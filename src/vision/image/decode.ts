/**
 * Image decoding with sharp (libvips): by content rather than by extension, EXIF-oriented,
 * converted to 3-channel sRGB.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { checkOptionKeys, DataError, invalidValue } from '../../core/errors.js';
import { decodeJpegFast } from './turbojpeg.js';

/** An 8-bit RGB image, row-major, channels last (`[height, width, 3]`). */
export interface RGBImage {
  /** Pixel bytes, length `height * width * 3`. */
  readonly data: Uint8Array;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/** Something an image can be read from: a file path or the encoded bytes. */
export type ImageSource = string | Uint8Array;

/** Options of {@link openImage} (and of `ImageBlock`, which passes them on). */
export interface DecodeOptions {
  /**
   * What to do with an ICC colour profile embedded in the file. `'ignore'` keeps the stored
   * pixel values, as PIL, torchvision and fastai do (so the pixels match what ImageNet-pretrained
   * weights were trained on, and decoding costs no colour transform: about 5 ms of CPU for a
   * 500x375 photo with a profile); `'convert'` transforms them to sRGB through the profile
   * (colour-accurate for photos in Adobe RGB, ProPhoto or camera profiles). Images without a
   * profile and grey, CMYK or alpha images become 3-channel sRGB either way.
   * @defaultValue `'ignore'`
   */
  iccProfile?: 'ignore' | 'convert';
  /**
   * Which library decodes JPEGs. `'auto'` uses libjpeg-turbo's TurboJPEG directly when it is
   * installed (`apt-get install libturbojpeg0`, `brew install jpeg-turbo`) and the optional
   * package koffi loaded; it gives the same pixels as sharp for ~1/4 of the CPU time on photos.
   * Files it cannot decode exactly as sharp would (EXIF-rotated, CMYK, damaged) and every
   * other format go to sharp, as does everything with `'sharp'` or `iccProfile: 'convert'`.
   * @defaultValue `'auto'`
   */
  decoder?: 'auto' | 'sharp';
}

const DECODE_KEYS = ['iccProfile', 'decoder'] as const;

/**
 * Checks decoding options and fills in the defaults.
 * @param options - The options (`ImageBlock`'s or `openImage`'s).
 * @returns Every option with its value.
 * @throws {@link ValueError} on an unknown key or a bad value.
 * @example
 * ```ts
 * decodeSettings({}); // { iccProfile: 'ignore', decoder: 'auto' }
 * ```
 */
export function decodeSettings(options: DecodeOptions = {}): Required<DecodeOptions> {
  checkOptionKeys('decode options', options, DECODE_KEYS);
  const iccProfile = options.iccProfile ?? 'ignore';
  if (iccProfile !== 'ignore' && iccProfile !== 'convert') {
    throw invalidValue('iccProfile', "'ignore' or 'convert'", iccProfile);
  }
  const decoder = options.decoder ?? 'auto';
  if (decoder !== 'auto' && decoder !== 'sharp') {
    throw invalidValue('decoder', "'auto' or 'sharp'", decoder);
  }
  return { iccProfile, decoder };
}

/**
 * Opens `source` in sharp with the settings every tsfast image read uses: the format is
 * detected from the content (some Oxford pet `.jpg` files are GIF or PNG data), truncated or
 * corrupt data is an error rather than grey pixels, EXIF orientation is applied first, and the
 * output has 3 channels (grey, CMYK and alpha images are converted to sRGB; an embedded ICC
 * profile is ignored unless `iccProfile: 'convert'`, see {@link DecodeOptions}).
 *
 * @param source - File path or encoded bytes.
 * @param options - Colour profile handling.
 * @returns A sharp pipeline; add resizing/cropping, then read it with `.raw()`.
 * @throws {@link ValueError} on a bad option.
 * @example
 * ```ts
 * const { data, info } = await tsf.openImage('cat.jpg').resize(224, 224).raw()
 *   .toBuffer({ resolveWithObject: true });
 * ```
 */
export function openImage(source: ImageSource, options: DecodeOptions = {}): sharp.Sharp {
  const { iccProfile } = decodeSettings(options);
  return sharp(source, {
    failOn: 'truncated',
    limitInputPixels: 2 ** 28,
    ignoreIcc: iccProfile === 'ignore',
  })
    .autoOrient()
    .removeAlpha()
    .toColourspace('srgb');
}

/**
 * Size of an image after EXIF orientation, read from its header only.
 *
 * @param source - File path or encoded bytes.
 * @returns Width and height as displayed.
 * @throws {@link DataError} naming the file when it is not a readable image.
 * @example
 * ```ts
 * const { width, height } = await tsf.imageSize('cat.jpg');
 * ```
 */
export async function imageSize(source: ImageSource): Promise<{
  /** Width as displayed. */
  width: number;
  /** Height as displayed. */
  height: number;
}> {
  try {
    const meta = await sharp(source).metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions in the header');
    const swap = (meta.orientation ?? 1) >= 5;
    return swap
      ? { width: meta.height, height: meta.width }
      : { width: meta.width, height: meta.height };
  } catch (err) {
    throw decodeError(source, err);
  }
}

/**
 * Decodes an image file (or bytes) to 8-bit RGB, by content, EXIF-oriented.
 *
 * @param source - File path or encoded bytes.
 * @param options - Colour profile handling.
 * @returns The pixels.
 * @throws {@link DataError} naming the file when it is missing, truncated or not an image.
 * @example
 * ```ts
 * const img = await tsf.decodeImage('cat.jpg');
 * img.width; img.height; img.data.length === img.width * img.height * 3;
 * ```
 */
export async function decodeImage(
  source: ImageSource,
  options: DecodeOptions = {},
): Promise<RGBImage> {
  const settings = decodeSettings(options);
  const bytes = await readBytes(source);
  return (await decodeFast(bytes, settings)) ?? readRaw(source, openImage(bytes, settings));
}

/**
 * Decodes with TurboJPEG when the options allow it and the file is a JPEG it decodes exactly as
 * sharp would (see {@link DecodeOptions.decoder}).
 *
 * @param bytes - Encoded bytes.
 * @param options - Checked options (from {@link decodeSettings}).
 * @param reduction - Given the full size, the largest factor the image may be shrunk by while
 *   decoding (see `ItemTransform.sourceReduction`); full size when omitted.
 * @returns The pixels (possibly at reduced size), or `undefined` when the file is for sharp.
 * @example
 * ```ts
 * const fast = await decodeFast(bytes, decodeSettings({}));
 * ```
 */
export async function decodeFast(
  bytes: Uint8Array,
  options: Required<DecodeOptions>,
  reduction?: (width: number, height: number) => number,
): Promise<RGBImage | undefined> {
  if (options.decoder === 'sharp' || options.iccProfile === 'convert') return undefined;
  return decodeJpegFast(bytes, reduction);
}

/**
 * The encoded bytes of `source`. sharp opening a small file itself was measured ~0.6 ms slower
 * per image (of ~3 ms) than Node reading it and sharp decoding from memory.
 *
 * @param source - File path or encoded bytes.
 * @returns The bytes.
 * @throws {@link DataError} naming the file when it cannot be read.
 * @example
 * ```ts
 * const bytes = await tsf.readBytes('cat.jpg');
 * ```
 */
export async function readBytes(source: ImageSource): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  try {
    return await readFile(source);
  } catch (err) {
    throw decodeError(source, err);
  }
}

/**
 * Runs a pipeline made by {@link openImage} to raw RGB bytes, turning failures into a
 * {@link DataError} that names the source.
 *
 * @param source - What the pipeline reads (for the message).
 * @param pipeline - The sharp pipeline.
 * @returns The pixels.
 * @throws {@link DataError} naming the file.
 * @example
 * ```ts
 * const img = await readRaw('cat.jpg', tsf.openImage('cat.jpg').resize(64, 64));
 * ```
 */
export async function readRaw(source: ImageSource, pipeline: sharp.Sharp): Promise<RGBImage> {
  try {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    throw decodeError(source, err);
  }
}

/**
 * The error tsfast reports for an image it cannot read.
 * @param source - The file path or bytes.
 * @param err - The underlying failure.
 * @returns A {@link DataError} naming the file.
 * @example
 * ```ts
 * const err = tsf.decodeError('cat.jpg', new Error('VipsJpeg: premature end of input file'));
 * err.message; // 'Cannot decode image "cat.jpg": VipsJpeg: premature end of input file. ...'
 * ```
 */
export function decodeError(source: ImageSource, err: unknown): DataError {
  if (err instanceof DataError) return err;
  const what =
    typeof source === 'string' ? `"${source}"` : `(${source.byteLength} bytes in memory)`;
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new DataError(
    `Cannot decode image ${what}: ${why}. The file is missing, truncated or not an image; ` +
      'remove it or set `skipBadImages: true` to skip such files.',
    { cause: err },
  );
}
