import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { DataError, invalidValue } from '../../core/errors.js';
import { RandomGenerator } from '../../core/random.js';
import type { JsonObject } from '../../data/batch.js';
import type { Block, EncodeContext, FittedBlock } from '../../data/blocks.js';
import { registerBlock } from '../../data/registry.js';
import {
  cpuAugmentBatch,
  cpuExecutorAccepts,
  noticeTensorFallback,
  useCpuExecutor,
} from '../augment/cpu-executor.js';
import { withCropGeometry, withUnchangedGeometry } from '../points/item-geometry-record.js';
import { showImages } from '../show-batch.js';
import {
  type DecodeOptions,
  decodeError,
  decodeSettings,
  type ImageSource,
  imageSize,
  type RGBImage,
  readBytes,
} from './decode.js';
import { decodeForFusedCrop, isCroppedImage, releaseCroppedImages } from './fused-crop.js';
import {
  applyItemTransforms,
  type ItemTransform,
  type ItemTransformContext,
} from './item-transform.js';
import { jpegHeaderFast } from './turbojpeg.js';

function isItemTransform(t: unknown): t is ItemTransform {
  return typeof (t as ItemTransform | undefined)?.plan === 'function';
}

/** Options of {@link ImageBlock}. */
export type ImageBlockOptions = DecodeOptions;

/**
 * The image block after setup: the image-specific parts the generic {@link FittedBlock} only
 * names as optional hooks. Its fused batch path is the CPU augmentation executor (on the
 * engines that gain from it, or with `augExecutor: 'cpu'`), which samples each photo's item
 * crop together with the batch augmentation; it draws batches as image grids.
 * @internal
 */
export interface ImageFittedBlock extends FittedBlock {
  /** The CPU executor's one pass per image, when the transforms declare their steps. */
  readonly fusedBatch: NonNullable<FittedBlock['fusedBatch']>;
  /** Draws a batch as a grid of images with captions. */
  show: NonNullable<FittedBlock['show']>;
}

/**
 * fastai's `ImageBlock`: values are image paths (or encoded bytes), decoded by content
 * (EXIF-oriented, 3 channels; TurboJPEG for plain JPEGs when installed, sharp otherwise; see
 * {@link DecodeOptions}), passed through the item transforms in libvips, and stacked into
 * float32 NHWC batches in [0, 1]. When the loader's batch goes through the fused CPU executor
 * (wasm and cpu engines), a JPEG's crop or squish is instead left to that pass, which samples it
 * from the decoded photo together with the augmentation (`CroppedImage`).
 *
 * @param options - Decoding options (`iccProfile`, `decoder`).
 * @returns The block.
 * @throws {@link ValueError} on a bad option.
 * @example
 * ```ts
 * new tsf.DataBlock({ blocks: [tsf.ImageBlock, tsf.CategoryBlock], getItems: tsf.getImageFiles });
 * new tsf.DataBlock({ blocks: [tsf.ImageBlock({ iccProfile: 'convert' }), tsf.CategoryBlock] });
 * ```
 */
export function ImageBlock(options: ImageBlockOptions = {}): Block {
  const settings = decodeSettings(options);
  return {
    name: 'ImageBlock',
    setup(): FittedBlock {
      return imageFitted(settings);
    },
  };
}

function itemLabel(item: unknown): string {
  return typeof item === 'string' ? `"${item}"` : JSON.stringify(item);
}

/**
 * Sizes after orientation of files seen before, with the modification time and byte size they
 * were read at: a `stat` is far cheaper than a header read in sharp (about 0.8 ms per image).
 */
type SizeCache = Map<string, { mtimeMs: number; bytes: number; width: number; height: number }>;

async function encodeImage(
  value: ImageSource,
  tfms: readonly ItemTransform[],
  ctx: ItemTransformContext & { deferGeometry: boolean },
  decode: Required<DecodeOptions>,
  sizes: SizeCache,
): Promise<RGBImage> {
  if (ctx.deferGeometry && tfms.length === 1) {
    const bytes = await readBytes(value);
    // Keypoint targets need the crop in the photo's pixels (the fused crop's box is in those of
    // the DCT-scaled decode); a copy of the generator draws what the crop will draw.
    const header = jpegHeaderFast(bytes);
    const crop =
      header && tfms[0]!.cropBox?.(header.width, header.height, { ...ctx, rng: ctx.rng.clone() });
    const cropped = await decodeForFusedCrop(bytes, tfms[0]!, ctx, decode);
    if (cropped) return header && crop ? withCropGeometry(cropped, header, crop) : cropped;
    // Not for the fused crop (not a plain JPEG, padding, a large shrink): the sharp path
    // below, which reads the file again (from the page cache) so that errors name it.
  }
  if (typeof value !== 'string' || tfms.length === 0) {
    const image = await applyItemTransforms(value, tfms, ctx, undefined, decode);
    return tfms.length === 0 ? withUnchangedGeometry(image) : image;
  }
  let stats: { mtimeMs: number; size: number };
  try {
    stats = await stat(value);
  } catch (err) {
    throw decodeError(value, err);
  }
  let known = sizes.get(value);
  if (!known || known.mtimeMs !== stats.mtimeMs || known.bytes !== stats.size) {
    known = { mtimeMs: stats.mtimeMs, bytes: stats.size, ...(await imageSize(value)) };
    sizes.set(value, known);
  }
  // Keypoint targets need the crop; a copy of the generator draws what `plan` will draw.
  const crop =
    tfms.length === 1
      ? tfms[0]!.cropBox?.(known.width, known.height, {
          training: ctx.training,
          rng: ctx.rng.clone(),
        })
      : undefined;
  const image = await applyItemTransforms(value, tfms, ctx, known, decode);
  return crop ? withCropGeometry(image, known, crop) : image;
}

function imageFitted(decode: Required<DecodeOptions>): ImageFittedBlock {
  const sizes: SizeCache = new Map();
  return {
    name: 'ImageBlock',
    lazy: true,
    async encode(value: unknown, item: unknown, ctx: EncodeContext): Promise<RGBImage> {
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        throw new DataError(
          `ImageBlock: item ${itemLabel(item)} gave ${JSON.stringify(value)}; getX must return a ` +
            'file path or the encoded bytes.',
        );
      }
      const tfms = ctx.itemTfms.map((t) => {
        if (!isItemTransform(t)) {
          throw invalidValue(
            'itemTfms',
            'image item transforms such as Resize or RandomResizedCrop',
            t.name,
          );
        }
        return t;
      });
      const deferGeometry = ctx.deferToBatch ?? false;
      return encodeImage(
        value,
        tfms,
        { training: ctx.training, rng: ctx.rng, deferGeometry },
        decode,
        sizes,
      );
    },
    collate(samples: readonly unknown[], items: readonly unknown[]): tf.Tensor {
      const images = samples as RGBImage[];
      checkSameSize(images, items);
      if (images.some(isCroppedImage)) {
        // Decoded for the fused executor: it samples the crops (no transform, no draws).
        const xs = cpuAugmentBatch(images, [], { training: false, rng: new RandomGenerator(0) });
        if (xs) {
          releaseCroppedImages(images);
          return xs;
        }
      }
      const { width, height } = images[0]!;
      const per = width * height * 3;
      const out = new Float32Array(images.length * per);
      images.forEach((im, b) => {
        const off = b * per;
        for (let i = 0; i < per; i++) out[off + i] = im.data[i]! / 255;
      });
      return tf.tensor4d(out, [images.length, height, width, 3]);
    },
    fusedBatch: {
      takesAll(tfms, executor) {
        return useCpuExecutor(executor) && cpuExecutorAccepts(tfms);
      },
      collate(samples, items, tfms, ctx, executor) {
        if (!useCpuExecutor(executor)) return undefined;
        if (noticeTensorFallback(tfms, executor) !== undefined || !cpuExecutorAccepts(tfms)) {
          return undefined;
        }
        const images = samples as RGBImage[];
        checkSameSize(images, items);
        const xs = cpuAugmentBatch(images, tfms, ctx);
        // The loader drops a batch's samples once collated: their pixel buffers can be reused.
        if (xs) releaseCroppedImages(images);
        return xs;
      },
    },
    describe(batch: tf.Tensor): string[] {
      return Array.from(
        { length: batch.shape[0] ?? 0 },
        () => `image ${batch.shape.slice(1).join('x')}`,
      );
    },
    show(xs, titles, options) {
      return showImages(xs, titles, options);
    },
    toConfig(): JsonObject {
      return { name: 'ImageBlock', iccProfile: decode.iccProfile, decoder: decode.decoder };
    },
  };
}

function checkSameSize(images: readonly RGBImage[], items: readonly unknown[]): void {
  // A fused-crop image is its crop's output size in the batch.
  const size = (im: RGBImage) => (isCroppedImage(im) ? im.crop : im);
  const first = images[0] && size(images[0]);
  if (!first) return;
  const k = images.findIndex(
    (im) => size(im).width !== first.width || size(im).height !== first.height,
  );
  if (k >= 0) {
    throw new DataError(
      `Cannot collate images of different sizes: ${itemLabel(items[0])} is ` +
        `${first.width}x${first.height} but ${itemLabel(items[k])} is ` +
        `${size(images[k]!).width}x${size(images[k]!).height}. Add an item transform such as Resize(224).`,
    );
  }
}

// Exports written before `iccProfile` existed decoded with the profile converted to sRGB.
registerBlock('ImageBlock', (cfg) =>
  imageFitted(
    decodeSettings({
      iccProfile: (cfg.iccProfile as 'ignore' | 'convert' | undefined) ?? 'convert',
      decoder: (cfg.decoder as 'auto' | 'sharp' | undefined) ?? 'auto',
    }),
  ),
);
