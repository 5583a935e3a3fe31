/**
 * Item transforms: per-image geometry applied in sharp (libvips, off the JS thread) after the
 * image is decoded, so a batch only ever holds images at their final size. Crops and squishes
 * also describe themselves as a {@link CropGeometry}, which the fused CPU executor samples
 * straight from the decoded photo instead.
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { RandomGenerator } from '../../core/random.js';
import type { JsonObject } from '../../data/batch.js';
import {
  type DecodeOptions,
  decodeError,
  decodeFast,
  decodeSettings,
  type ImageSource,
  openImage,
  type RGBImage,
  readBytes,
  readRaw,
} from './decode.js';
import type { CropBox } from './random-resized-crop.js';

/** What an item transform knows when it runs. */
export interface ItemTransformContext {
  /** True for training items (random crop positions), false for validation/inference. */
  readonly training: boolean;
  /** This item's own generator (seeded in order, so results do not depend on timing). */
  readonly rng: RandomGenerator;
}

/** Result of planning one transform: operations added to a sharp pipeline and the new size. */
export interface PlannedStep {
  /** The pipeline with this transform's operations added. */
  readonly pipeline: sharp.Sharp;
  /** Output width. */
  readonly width: number;
  /** Output height. */
  readonly height: number;
}

/**
 * An item transform's geometry as one crop-and-resize: the source region (in pixels, fractions
 * allowed) that is stretched onto the output size, pixel centres mapped as libvips maps them.
 */
export interface CropGeometry {
  /** Source region in pixels of the image given (fractions allowed). */
  readonly box: CropBox;
  /** Output width. */
  readonly width: number;
  /** Output height. */
  readonly height: number;
}

/**
 * A per-image transform run in sharp. `plan` adds its operations (extract, resize, extend) to
 * a pipeline for an image of the given size; each call draws its own random parameters.
 */
export interface ItemTransform {
  /** Registry name (`'Resize'`, `'RandomResizedCrop'`). */
  readonly name: string;
  /**
   * Adds this transform's operations.
   * @param pipeline - A sharp pipeline reading the image.
   * @param width - Current width.
   * @param height - Current height.
   * @param ctx - Training flag and this item's generator.
   * @returns The extended pipeline and the output size.
   */
  plan(
    pipeline: sharp.Sharp,
    width: number,
    height: number,
    ctx: ItemTransformContext,
  ): PlannedStep;
  /**
   * The largest factor by which an image of this size may be shrunk before `plan` without the
   * output losing detail: a JPEG is then decoded at reduced resolution in the DCT (libjpeg's
   * scaled decoding, as sharp's shrink-on-load and PIL's `draft` do), which costs a fraction of
   * a full decode. Omitted means 1 (decode at full size).
   * @param width - Image width.
   * @param height - Image height.
   * @param training - Whether the item is a training one (random crops can be smaller).
   * @returns A factor >= 1.
   */
  sourceReduction?(width: number, height: number, training: boolean): number;
  /**
   * The same geometry as `plan` (drawing the same random numbers) as one crop-and-resize, for
   * an executor that samples the crop straight from the decoded image while it augments the
   * batch (one resampling instead of two). Omitted or `undefined`: not expressible so (padding).
   * @param width - Image width.
   * @param height - Image height.
   * @param ctx - Training flag and this item's generator.
   * @returns The crop and output size.
   */
  cropBox?(width: number, height: number, ctx: ItemTransformContext): CropGeometry | undefined;
  /** Declarative description (`{ name, ...options }`), for export. */
  toConfig(): JsonObject;
}

/**
 * Decodes `source` and applies `tfms` in order. One transform (the usual case) runs in one
 * libvips pipeline, fed by the decoding (sharp's own or TurboJPEG's pixels, see
 * {@link DecodeOptions.decoder}); with several, each later one starts from the raw pixels of
 * the one before (sharp resizes once per pipeline).
 *
 * @param source - File path or encoded bytes.
 * @param tfms - Item transforms, in order.
 * @param ctx - Training flag and this item's generator.
 * @param size - The image size after orientation, when already known (saves a header read).
 * @param decode - Decoding options (see {@link DecodeOptions}).
 * @returns The transformed pixels.
 * @throws {@link DataError} naming the file if it cannot be decoded.
 * @example
 * ```ts
 * const img = await applyItemTransforms('cat.jpg', [tsf.Resize(224)],
 *   { training: false, rng: new tsf.RandomGenerator(0) });
 * ```
 */
export async function applyItemTransforms(
  source: ImageSource,
  tfms: readonly ItemTransform[],
  ctx: ItemTransformContext,
  size?: { width: number; height: number },
  decode: DecodeOptions = {},
): Promise<RGBImage> {
  const settings = decodeSettings(decode);
  const bytes = await readBytes(source);
  const first = tfms[0];
  const reduction = first?.sourceReduction
    ? (w: number, h: number) => first.sourceReduction?.(w, h, ctx.training) ?? 1
    : undefined;
  const fast = await decodeFast(bytes, settings, reduction);
  if (!first) return fast ?? readRaw(source, openImage(bytes, settings));
  // A JPEG TurboJPEG decoded continues in sharp from its raw pixels (already oriented, RGB).
  const pipeline = fast
    ? sharp(fast.data, { raw: { width: fast.width, height: fast.height, channels: 3 } })
    : openImage(bytes, settings);
  let dims = fast ? { width: fast.width, height: fast.height } : size;
  if (!dims) {
    try {
      const meta = await pipeline.metadata();
      if (!meta.width || !meta.height) throw new Error('no dimensions in the header');
      const swap = (meta.orientation ?? 1) >= 5;
      dims = swap
        ? { width: meta.height, height: meta.width }
        : { width: meta.width, height: meta.height };
    } catch (err) {
      throw decodeError(source, err);
    }
  }
  const planned = first.plan(pipeline, dims.width, dims.height, ctx);
  let image = await readRaw(source, planned.pipeline);
  for (const tfm of tfms.slice(1)) {
    const input = sharp(image.data, {
      raw: { width: image.width, height: image.height, channels: 3 },
    });
    image = await readRaw(source, tfm.plan(input, image.width, image.height, ctx).pipeline);
  }
  return image;
}

/**
 * Converts 8-bit RGB pixels to a float32 `[height, width, 3]` tensor in [0, 1] (fastai's
 * `ToTensor` + `IntToFloatTensor`). DataLoaders do this for whole batches; use it for single
 * images. The caller disposes the tensor.
 *
 * @param image - The pixels.
 * @returns A new tensor.
 * @example
 * ```ts
 * const x = tsf.toTensor(await tsf.decodeImage('cat.jpg'));
 * ```
 */
export function toTensor(image: RGBImage): tf.Tensor3D {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i]! / 255;
  return tf.tensor3d(out, [image.height, image.width, 3]);
}
