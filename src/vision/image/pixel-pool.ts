/**
 * Pixel buffers for photos decoded for the fused crop, reused from batch to batch. Each decoded
 * pet photo is ~0.5 MB outside V8's heap; allocating a fresh one per image made V8 collect
 * garbage for 13% of the loader's main-thread time (it counts such memory towards its heap
 * limits). The executor is the only reader of these buffers and hands them back once the batch
 * tensor is written.
 */

/** Buffers are sized in these steps, so that photos of similar sizes share them. */
const STEP = 64 * 1024;
/** At most this many idle buffers are kept (about one batch of photos). */
const MAX_IDLE = 96;

const idle: ArrayBuffer[] = [];

/**
 * A byte array of `length` for decoded pixels, from an idle buffer when one fits (at most
 * twice the size needed), otherwise new. Its contents are whatever was there: the decoder
 * overwrites every byte.
 *
 * @param length - Bytes needed.
 * @returns A view of exactly `length` bytes.
 * @example
 * ```ts
 * const data = takePixels(500 * 375 * 3);
 * ```
 */
export function takePixels(length: number): Uint8Array {
  let best = -1;
  for (let i = 0; i < idle.length; i++) {
    const size = idle[i]!.byteLength;
    if (size >= length && size <= 2 * length && (best < 0 || size < idle[best]!.byteLength)) {
      best = i;
    }
  }
  if (best >= 0) {
    const buffer = idle[best]!;
    idle[best] = idle[idle.length - 1]!;
    idle.pop();
    return new Uint8Array(buffer, 0, length);
  }
  return new Uint8Array(new ArrayBuffer(Math.ceil(length / STEP) * STEP), 0, length);
}

/**
 * Hands back the buffer of pixels from {@link takePixels} once nothing reads them any more.
 *
 * @param data - The view `takePixels` returned.
 * @example
 * ```ts
 * const image = await tsf.decodeImage('cat.jpg');
 * // ... once its pixels have been copied into a batch:
 * releasePixels(image.data);
 * ```
 */
export function releasePixels(data: Uint8Array): void {
  if (idle.length < MAX_IDLE && data.buffer instanceof ArrayBuffer) idle.push(data.buffer);
}
