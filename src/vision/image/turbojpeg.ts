/**
 * An optional fast path for JPEG decoding: libjpeg-turbo's TurboJPEG library, called through
 * koffi (a foreign-function interface with prebuilt binaries, so nothing compiles at install).
 *
 * Why: sharp decodes through libvips, which hands each image between threads in 16-line strips.
 * On small machines that costs more than the decoding itself (a 500x375 photo: ~5 ms of CPU in
 * sharp against ~1 ms here, same libjpeg-turbo underneath, bit-identical pixels). TurboJPEG
 * decodes a whole image in one call on one libuv worker thread.
 *
 * It is only an accelerator: anything it does not handle exactly like sharp (EXIF rotation,
 * CMYK, a warning in the data, huge images) returns `undefined` and the caller decodes with
 * sharp, which stays the single authority on errors.
 */
import { createRequire } from 'node:module';
import type { IKoffiLib } from 'koffi';
import type { RGBImage } from './decode.js';
import { isJpeg, jpegOrientation } from './jpeg-header.js';

const TJPF_RGB = 0;
const TJCS_RGB = 0;
const TJCS_YCBCR = 1;
const TJCS_GRAY = 2;
// Warnings (such as a truncated file) become failures, so that such files go to sharp, whose
// `failOn: 'truncated'` decides; progressive files with absurd scan counts are refused.
const TJFLAG_STOPONWARNING = 1 << 13;
const TJFLAG_LIMITSCANS = 1 << 14;
// sharp's `limitInputPixels` in `openImage`: larger images go to sharp, which reports them.
const MAX_PIXELS = 2 ** 28;

/** A C function bound by koffi: called directly, or with `.async` on a libuv worker thread. */
type NativeFunction = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

interface TurboJpeg {
  /** Where the library was loaded from. */
  readonly path: string;
  readonly init: NativeFunction;
  readonly header: NativeFunction;
  readonly decompress: NativeFunction;
}

/** Library names tried in order, per platform; only `TSFAST_LIBTURBOJPEG` when it is set. */
function candidates(): string[] {
  const own = process.env.TSFAST_LIBTURBOJPEG;
  const byPlatform: Record<string, string[]> = {
    linux: ['libturbojpeg.so.0', 'libturbojpeg.so'],
    darwin: [
      'libturbojpeg.dylib',
      '/opt/homebrew/opt/jpeg-turbo/lib/libturbojpeg.dylib',
      '/usr/local/opt/jpeg-turbo/lib/libturbojpeg.dylib',
    ],
    win32: ['turbojpeg.dll'],
  };
  if (own) return [own];
  return byPlatform[process.platform] ?? ['libturbojpeg.so.0'];
}

let loaded: TurboJpeg | null | undefined;
let whyNot = '';

function bind(lib: IKoffiLib, path: string): TurboJpeg {
  const fn = (declaration: string) => lib.func(declaration) as NativeFunction;
  return {
    path,
    init: fn('void *tjInitDecompress()'),
    header: fn(
      'int tjDecompressHeader3(void *handle, const uint8_t *jpegBuf, unsigned long jpegSize, ' +
        '_Out_ int *width, _Out_ int *height, _Out_ int *subsamp, _Out_ int *colorspace)',
    ),
    decompress: fn(
      'int tjDecompress2(void *handle, const uint8_t *jpegBuf, unsigned long jpegSize, ' +
        'uint8_t *dstBuf, int width, int pitch, int height, int pixelFormat, int flags)',
    ),
  };
}

function load(): TurboJpeg | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch {
    whyNot = 'the optional package koffi is not installed';
    return loaded;
  }
  const tried: string[] = [];
  for (const path of candidates()) {
    try {
      loaded = bind(koffi.load(path), path);
      return loaded;
    } catch {
      tried.push(path);
    }
  }
  whyNot = `libturbojpeg was not found (tried ${tried.join(', ')})`;
  return loaded;
}

/** Decompressor handles are not thread-safe: each call in flight takes its own. */
const idleHandles: unknown[] = [];

/**
 * Whether the TurboJPEG fast path can run here, and why not when it cannot.
 *
 * @returns `{ available, library }` where `library` is the path loaded or the reason.
 * @example
 * ```ts
 * tsf.turboJpegStatus(); // { available: true, library: 'libturbojpeg.so.0' }
 * ```
 */
export function turboJpegStatus(): {
  /** Whether JPEGs are decoded by TurboJPEG. */
  available: boolean;
  /** The library loaded, or why none was. */
  library: string;
} {
  const tj = load();
  return tj ? { available: true, library: tj.path } : { available: false, library: whyNot };
}

/**
 * koffi queues at most 256 asynchronous calls per process and throws beyond that (loaders,
 * `encodeInputs` on a long list and other koffi users can go past it): at most this many
 * decodes are handed to it at once, the others wait here.
 */
const MAX_IN_FLIGHT = 64;
let inFlight = 0;
const waiting: (() => void)[] = [];

/** Runs `task` once fewer than {@link MAX_IN_FLIGHT} others are running. */
async function inTurn<T>(task: () => Promise<T>): Promise<T> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  try {
    return await task();
  } finally {
    inFlight--;
    waiting.shift()?.();
  }
}

function call(fn: NativeFunction, ...args: unknown[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    fn.async(...args, (err: unknown, result: number) => (err ? reject(err) : resolve(result)));
  });
}

/** A JPEG TurboJPEG can decode exactly as sharp would, with its full size. */
export interface JpegHeader {
  /** Full width (no EXIF rotation applies). */
  readonly width: number;
  /** Full height. */
  readonly height: number;
}

function withHandle<T>(tj: TurboJpeg, use: (handle: unknown) => T): T | undefined {
  const handle = idleHandles.pop() ?? tj.init();
  if (!handle) return undefined;
  try {
    return use(handle);
  } finally {
    idleHandles.push(handle);
  }
}

/**
 * Reads a JPEG's header (on this thread: a few hundred bytes of parsing, not worth a hand-off)
 * and says whether TurboJPEG will decode it: JPEG data, YCbCr/RGB/grey colours, no EXIF
 * rotation, at most 2^28 pixels, and the library available.
 *
 * @param bytes - Encoded bytes.
 * @returns The full size, or `undefined` when the file is left to sharp.
 * @example
 * ```ts
 * const header = jpegHeaderFast(bytes); // { width: 500, height: 375 }
 * ```
 */
export function jpegHeaderFast(bytes: Uint8Array): JpegHeader | undefined {
  if (!isJpeg(bytes) || jpegOrientation(bytes) !== 1) return undefined;
  const tj = load();
  if (!tj) return undefined;
  const width = [0];
  const height = [0];
  const colorspace = [0];
  const ok = withHandle(
    tj,
    (handle) => tj.header(handle, bytes, bytes.length, width, height, [0], colorspace) === 0,
  );
  const [w, h, cs] = [width[0]!, height[0]!, colorspace[0]!];
  if (!ok || (cs !== TJCS_YCBCR && cs !== TJCS_RGB && cs !== TJCS_GRAY)) return undefined;
  if (w <= 0 || h <= 0 || w * h > MAX_PIXELS) return undefined;
  return { width: w, height: h };
}

/**
 * libjpeg decodes at k/8 of the full size (k = 1..8): the smallest k whose shrink stays within
 * `reduction`.
 *
 * @param reduction - The largest shrink factor allowed.
 * @returns k, from 1 to 8.
 * @example
 * ```ts
 * scaleInEighths(2.5); // 4: decode at half size
 * ```
 */
export function scaleInEighths(reduction: number): number {
  if (!(reduction > 1)) return 8;
  return Math.min(8, Math.max(1, Math.ceil(8 / reduction)));
}

/**
 * Decodes a JPEG whose header {@link jpegHeaderFast} accepted, at `eighths`/8 of its size, on a
 * libuv worker thread.
 *
 * @param bytes - Encoded bytes.
 * @param header - Its header.
 * @param eighths - Scale in eighths (8: full size).
 * @param allocate - Gives the output array (fresh by default; the fused crop reuses buffers).
 * @returns The pixels, or `undefined` when decoding met a warning or an error (the file is then
 *   left to sharp, which decides whether it is an error).
 * @example
 * ```ts
 * const img = await decodeJpegScaled(bytes, jpegHeaderFast(bytes)!, 4); // half size
 * ```
 */
export async function decodeJpegScaled(
  bytes: Uint8Array,
  header: JpegHeader,
  eighths: number,
  allocate: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): Promise<RGBImage | undefined> {
  const tj = load();
  if (!tj) return undefined;
  // The handle and the pixels are taken only once the decode's turn comes: a queued image
  // holds neither.
  return inTurn(async () => {
    const handle = idleHandles.pop() ?? tj.init();
    if (!handle) return undefined;
    try {
      // TurboJPEG picks the scale from the requested size, rounded up as libjpeg rounds it.
      const w = Math.ceil((header.width * eighths) / 8);
      const h = Math.ceil((header.height * eighths) / 8);
      const data = allocate(w * h * 3);
      const flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
      const args = [handle, bytes, bytes.length, data, w, 0, h, TJPF_RGB, flags];
      // A failure of the call itself (koffi's queue full because of another user of koffi)
      // leaves the file to sharp, like a failed decode.
      const status = await call(tj.decompress, ...args).catch(() => -1);
      return status === 0 ? { data, width: w, height: h } : undefined;
    } finally {
      idleHandles.push(handle);
    }
  });
}

/**
 * Decodes a JPEG to 8-bit RGB with TurboJPEG when it can do exactly what sharp would (see
 * {@link jpegHeaderFast}); otherwise resolves to `undefined`, and the caller uses sharp.
 *
 * @param bytes - Encoded bytes.
 * @param reduction - Given the full size, the largest factor by which the image may be shrunk
 *   while decoding; the decode then uses the smallest of libjpeg's scales (k/8) within it.
 * @returns The pixels, or `undefined` when the file is left to sharp.
 * @example
 * ```ts
 * const img = (await decodeJpegFast(bytes)) ?? (await tsf.decodeImage(bytes));
 * ```
 */
export async function decodeJpegFast(
  bytes: Uint8Array,
  reduction?: (width: number, height: number) => number,
): Promise<RGBImage | undefined> {
  const header = jpegHeaderFast(bytes);
  if (!header) return undefined;
  const eighths = scaleInEighths(reduction?.(header.width, header.height) ?? 1);
  return decodeJpegScaled(bytes, header, eighths);
}
