/**
 * What the image block records on each decoded image so keypoint targets can follow it: kept
 * apart from the point code so the image block depends on two small functions only.
 */
import type { RGBImage } from '../image/decode.js';
import type { CropGeometry } from '../image/item-transform.js';
import { withItemGeometry } from './point-geometry.js';

/**
 * Records that the image is the photo itself (no item transform).
 * @param image - The decoded image.
 * @returns The same image.
 * @example
 * ```ts
 * withUnchangedGeometry(await tsf.decodeImage('cat.jpg'));
 * ```
 */
export function withUnchangedGeometry(image: RGBImage): RGBImage {
  const { width, height } = image;
  return withItemGeometry(image, {
    srcWidth: width,
    srcHeight: height,
    box: { left: 0, top: 0, width, height },
    width,
    height,
  });
}

/**
 * Records the crop-and-resize an item transform made of a photo of size `src`.
 * @param image - The transformed image.
 * @param src - The photo's size (after EXIF orientation).
 * @param crop - The transform's crop, as its `cropBox` describes it.
 * @returns The same image.
 * @example
 * ```ts
 * const img = { data: new Uint8Array(224 * 224 * 3), width: 224, height: 224 };
 * // A 500x375 photo centre-cropped to 375x375, then resized to 224x224.
 * const box = { left: 62.5, top: 0, width: 375, height: 375 };
 * withCropGeometry(img, { width: 500, height: 375 }, { box, width: 224, height: 224 });
 * ```
 */
export function withCropGeometry(
  image: RGBImage,
  src: { width: number; height: number },
  crop: CropGeometry,
): RGBImage {
  return withItemGeometry(image, {
    srcWidth: src.width,
    srcHeight: src.height,
    box: crop.box,
    width: crop.width,
    height: crop.height,
  });
}
