/**
 * Decoding for a batch executor that crops while it augments: the item transform's crop and
 * resize are not done in sharp but handed over as a {@link CropGeometry}, and the CPU executor
 * folds them into each image's augmentation matrix, so every output pixel is sampled once, from
 * the decoded photo. This is fastai's own GPU design (`RandomResizedCropGPU` composes the crop
 * with the affine) and saves libvips' crop-and-resize, whose thread hand-offs cost more CPU
 * than the decode on small machines.
 */
import type { DecodeOptions, RGBImage } from './decode.js';
import type { CropGeometry, ItemTransform, ItemTransformContext } from './item-transform.js';
import { releasePixels, takePixels } from './pixel-pool.js';
import { decodeJpegScaled, jpegHeaderFast, scaleInEighths } from './turbojpeg.js';

/** A decoded image and the crop still to be sampled from it (box in this image's pixels). */
export interface CroppedImage extends RGBImage {
  /** The region to sample and the output size. */
  readonly crop: CropGeometry;
}

/**
 * Whether a decoded sample still carries its crop.
 *
 * @param image - A sample from an image block.
 * @returns True for a {@link CroppedImage}.
 * @example
 * ```ts
 * const img = await tsf.decodeImage('cat.jpg');
 * const size = isCroppedImage(img) ? img.crop.width : img.width; // 16
 * ```
 */
export function isCroppedImage(image: RGBImage): image is CroppedImage {
  return (image as Partial<CroppedImage>).crop !== undefined;
}

/**
 * Hands the pixel buffers of a collated batch's fused-crop images back for reuse. Call it only
 * when nothing will read those images again.
 *
 * @param images - The batch's images (the plain ones are left alone).
 * @example
 * ```ts
 * const images = [await tsf.decodeImage('cat.jpg')];
 * // ... once the batch has been made from them:
 * releaseCroppedImages(images);
 * ```
 */
export function releaseCroppedImages(images: readonly RGBImage[]): void {
  for (const image of images) if (isCroppedImage(image)) releasePixels(image.data);
}

/**
 * The largest shrink, in either axis, left to the executor's bilinear sampling. fastai's
 * presizing samples 460 px images down to 224 px (2.05x) the same way; beyond 2.5x aliasing
 * shows, and such crops are resized by libvips instead.
 */
export const MAX_SAMPLER_SHRINK = 2.5;

/**
 * Decodes a JPEG with TurboJPEG at the smallest scale (k/8) the crop allows, and returns it
 * with the crop of `tfm` for the executor to sample. `undefined` when the file, the options or
 * the transform need the sharp path (not a plain JPEG, no `cropBox`, a shrink beyond
 * {@link MAX_SAMPLER_SHRINK}); the random draws are then made again by that path.
 *
 * @param bytes - Encoded bytes.
 * @param tfm - The only item transform.
 * @param ctx - Training flag and this item's generator.
 * @param decode - Checked decoding options.
 * @returns The decoded image with its crop, or `undefined`.
 * @example
 * ```ts
 * const img = await decodeForFusedCrop(bytes, tsf.RandomResizedCrop(224), ctx, {
 *   iccProfile: 'ignore',
 *   decoder: 'auto',
 * });
 * ```
 */
export async function decodeForFusedCrop(
  bytes: Uint8Array,
  tfm: ItemTransform,
  ctx: ItemTransformContext,
  decode: Required<DecodeOptions>,
): Promise<CroppedImage | undefined> {
  if (decode.decoder === 'sharp' || decode.iccProfile === 'convert' || !tfm.cropBox) {
    return undefined;
  }
  const header = jpegHeaderFast(bytes);
  if (!header || header.width < 2 || header.height < 2) return undefined;
  const geometry = tfm.cropBox(header.width, header.height, ctx);
  if (!geometry) return undefined;
  const { box } = geometry;
  const fx = box.width / geometry.width;
  const fy = box.height / geometry.height;
  const eighths = scaleInEighths(Math.min(fx, fy));
  // libjpeg's scaled pixel i covers full pixels [i, i + 1) * 8 / k: edges scale by exactly k/8.
  const s = eighths / 8;
  if (Math.max(fx, fy) * s > MAX_SAMPLER_SHRINK) return undefined;
  const image = await decodeJpegScaled(bytes, header, eighths, takePixels);
  if (!image) return undefined;
  return {
    ...image,
    crop: {
      box: { left: box.left * s, top: box.top * s, width: box.width * s, height: box.height * s },
      width: geometry.width,
      height: geometry.height,
    },
  };
}
