/**
 * fastai's `MaskBlock`: segmentation targets decoded from image files (one class per pixel),
 * moved with their image through the item transforms and the batch augmentation by replaying
 * the same random draws, resampled by nearest neighbour.
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { checkOptionKeys, DataError, invalidValue, ValueError } from '../../core/errors.js';
import { RandomGenerator } from '../../core/random.js';
import type { JsonObject } from '../../data/batch.js';
import type { Block, EncodeContext, FittedBlock, ShowOptions } from '../../data/blocks.js';
import { registerBlock } from '../../data/registry.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import { cpuStepOf } from '../augment/cpu-step.js';
import { IDENTITY, matMul3 } from '../augment/matrices.js';
import { decodeError, readBytes } from '../image/decode.js';
import type { CropGeometry, ItemTransform } from '../image/item-transform.js';
import { replayBatchGeometry } from '../points/point-geometry.js';
import {
  cropGeometryMatrix,
  cropMaskNearest,
  type LabelMask,
  warpMaskNearest,
} from './mask-sample.js';
import { showMasks } from './show-masks.js';

/** Options of {@link MaskBlock}. */
export interface MaskBlockOptions {
  /** Class names; class `k` is `codes[k]` (fastai's `codes`). */
  codes: readonly string[];
  /**
   * The pixel value that stands for each code in the mask files: `values[k]` becomes class
   * `k`. Oxford-IIIT Pet trimaps store 1 (pet), 2 (background), 3 (border): pass
   * `values: [1, 2, 3]` with three codes. A pixel value not listed is an error naming the file.
   * @defaultValue `[0, 1, ..., codes.length - 1]` (fastai: the pixel value is the class index)
   */
  values?: readonly number[];
}

/**
 * fastai's `MaskBlock`: segmentation masks read from image files (PNG: the first channel's
 * 8-bit value per pixel), mapped to class indices through `values`, and collated as int32
 * `[N, H, W]`. Masks follow their image: each item transform's crop is replayed with the
 * image's random draws (transforms must have a crop geometry: `Resize` with `'crop'` or
 * `'squish'`, `RandomResizedCrop`), and the batch augmentation's matrices (`augTransforms`)
 * are drawn again from the batch's seed; masks are resampled by nearest neighbour, so no new
 * label value appears. Lighting and `Normalize` leave masks alone.
 *
 * @param options - The codes and the pixel value of each.
 * @returns The block.
 * @throws {@link ValueError} on missing codes, more than 255 codes, or `values` of another length.
 * @remarks Differs from fastai: fastai takes pixel values as class indices and leaves any
 *   remapping to the user's `get_y`; here `values` says it declaratively (and is exported).
 *   `Resize(..., { method: 'pad' })` is refused for masks.
 * @example
 * ```ts
 * const pets = new tsf.DataBlock({
 *   blocks: [tsf.ImageBlock, tsf.MaskBlock({ codes: ['pet', 'background', 'border'], values: [1, 2, 3] })],
 *   getItems: tsf.getImageFiles,
 *   getY: (f) => String(f).replace('/images/', '/trimaps/').replace(/\.jpg$/, '.png'),
 *   itemTfms: tsf.Resize(160),
 *   batchTfms: tsf.augTransforms({ size: 128 }),
 * });
 * ```
 */
export function MaskBlock(options: MaskBlockOptions): Block {
  checkOptionKeys('MaskBlock', options, ['codes', 'values']);
  const { codes, values } = checkCodes(options);
  return {
    name: 'MaskBlock',
    setup(): FittedBlock {
      return maskFitted(codes, values);
    },
  };
}

function checkCodes(options: MaskBlockOptions): { codes: string[]; values: number[] } {
  if (!Array.isArray(options?.codes) || options.codes.length === 0) {
    throw invalidValue('codes', 'a non-empty list of class names', options?.codes);
  }
  if (options.codes.length > 255) {
    throw invalidValue('codes', 'at most 255 classes', options.codes.length);
  }
  const codes = options.codes.map(String);
  const values = options.values ? [...options.values] : codes.map((_, i) => i);
  if (values.length !== codes.length) {
    throw new ValueError(
      `MaskBlock: \`values\` has ${values.length} entries for ${codes.length} codes; give the ` +
        'pixel value of each code.',
    );
  }
  if (values.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) {
    throw invalidValue('values', 'integers in [0, 255]', values);
  }
  if (new Set(values).size !== values.length) {
    throw invalidValue('values', 'distinct pixel values', values);
  }
  return { codes, values };
}

function itemLabel(item: unknown): string {
  return typeof item === 'string' ? `"${item}"` : JSON.stringify(item);
}

const UNMAPPED = 255;

/**
 * Reads a mask file's first channel and maps its pixel values to class indices.
 *
 * @param source - A file path or the encoded bytes.
 * @param values - The pixel value of each class.
 * @returns The mask.
 * @throws {@link DataError} naming the file when it cannot be decoded or holds a value that is
 *   not in `values`.
 * @example
 * ```ts no-run (needs a mask PNG)
 * const mask = await tsf.decodeMask('trimaps/Abyssinian_1.png', [1, 2, 3]);
 * ```
 */
export async function decodeMask(
  source: string | Uint8Array,
  values: readonly number[],
): Promise<LabelMask> {
  const bytes = await readBytes(source);
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw decodeError(source, err);
  }
  const lut = new Uint8Array(256).fill(UNMAPPED);
  values.forEach((v, k) => {
    lut[v] = k;
  });
  const { width, height } = raw.info;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const k = lut[raw.data[i]!]!;
    if (k === UNMAPPED) {
      const what = typeof source === 'string' ? `"${source}"` : 'the mask bytes';
      throw new DataError(
        `MaskBlock: ${what} has pixel value ${raw.data[i]} at (${i % width}, ` +
          `${Math.floor(i / width)}), which is not one of the codes' values ` +
          `[${values.join(', ')}]; pass \`values\` listing the value of each code.`,
      );
    }
    data[i] = k;
  }
  return { data, width, height };
}

/**
 * An encoded mask: cropped by the item transforms, and the same mask before the last one's
 * crop, for an image that left that crop to the fused batch executor (which samples crop and
 * augmentation in one pass; the mask then does too, from the same source).
 */
interface EncodedMask {
  /** After every item transform. */
  readonly mask: LabelMask;
  /** Before the last item transform, with its crop; absent without item transforms. */
  readonly source?: { readonly mask: LabelMask; readonly crop: CropGeometry };
}

function applyItemGeometry(
  mask: LabelMask,
  tfms: readonly ItemTransform[],
  ctx: EncodeContext,
  item: unknown,
): EncodedMask {
  // The image's transforms drew from a generator with this seed, from its first draw on.
  const rng = new RandomGenerator(ctx.rng.seed);
  let out: EncodedMask = { mask };
  for (const tfm of tfms) {
    const cur = out.mask;
    const crop = tfm.cropBox?.(cur.width, cur.height, { training: ctx.training, rng });
    if (!crop) {
      throw new ValueError(
        `MaskBlock: item transform ${JSON.stringify(tfm.toConfig())} has no crop geometry to ` +
          `apply to the mask of item ${itemLabel(item)}; use Resize with method 'crop' or ` +
          "'squish', or RandomResizedCrop.",
      );
    }
    out = { mask: cropMaskNearest(cur, crop), source: { mask: cur, crop } };
  }
  return out;
}

/** Whether an image sample still carries its crop (see `CroppedImage`). */
function imageDeferredCrop(input: unknown): boolean {
  return typeof input === 'object' && input !== null && 'crop' in input;
}

function checkSameSize(masks: readonly LabelMask[], items: readonly unknown[]): void {
  const first = masks[0];
  if (!first) return;
  const k = masks.findIndex((m) => m.width !== first.width || m.height !== first.height);
  if (k >= 0) {
    throw new DataError(
      `Cannot collate masks of different sizes: ${itemLabel(items[0])} is ` +
        `${first.width}x${first.height} but ${itemLabel(items[k])} is ` +
        `${masks[k]!.width}x${masks[k]!.height}. Add an item transform such as Resize(224).`,
    );
  }
}

function stack(masks: readonly LabelMask[]): tf.Tensor3D {
  const { width, height } = masks[0]!;
  const per = width * height;
  const out = new Int32Array(masks.length * per);
  masks.forEach((m, b) => {
    out.set(m.data, b * per);
  });
  return tf.tensor3d(out, [masks.length, height, width], 'int32');
}

function isItemTransform(t: unknown): t is ItemTransform {
  return typeof (t as ItemTransform | undefined)?.plan === 'function';
}

function maskFitted(codes: readonly string[], values: readonly number[]): FittedBlock {
  return {
    name: 'MaskBlock',
    vocab: codes,
    c: codes.length,
    lazy: true,
    async encode(value: unknown, item: unknown, ctx: EncodeContext): Promise<EncodedMask> {
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        throw new DataError(
          `MaskBlock: item ${itemLabel(item)} gave ${JSON.stringify(value)}; getY must return ` +
            'the mask file path or its encoded bytes.',
        );
      }
      const tfms = ctx.itemTfms.map((t) => {
        if (!isItemTransform(t)) {
          throw invalidValue('itemTfms', 'image item transforms such as Resize', t.name);
        }
        return t;
      });
      const mask = await decodeMask(value, values);
      return applyItemGeometry(mask, tfms, ctx, item);
    },
    collate(samples: readonly unknown[], items: readonly unknown[]): tf.Tensor {
      const masks = (samples as EncodedMask[]).map((s) => s.mask);
      checkSameSize(masks, items);
      return stack(masks);
    },
    collateWithInput(
      samples: readonly unknown[],
      items: readonly unknown[],
      tfms: readonly BatchTransform[],
      ctx: BatchTransformContext,
      inputs: readonly unknown[],
    ): tf.Tensor {
      const encoded = samples as EncodedMask[];
      const masks = encoded.map((s) => s.mask);
      checkSameSize(masks, items);
      const { width, height } = masks[0]!;
      // Replays every geometric transform's draws (flip, dihedral, affine, warp) in order,
      // as the images consumed them, composed into one output-to-input matrix per mask.
      const geo = replayBatchGeometry(tfms, masks.length, width, height, ctx);
      const moved =
        geo.width !== width || geo.height !== height || geo.matrices.some((m) => m !== IDENTITY);
      const affine = tfms.map(cpuStepOf).find((s) => s?.stage === 'affine');
      const pad = affine?.stage === 'affine' ? affine.padMode : 'reflection';
      return stack(
        encoded.map((s, b) => {
          const m = geo.matrices[b] ?? IDENTITY;
          if (s.source && imageDeferredCrop(inputs[b])) {
            // One resampling from the uncropped mask, as the image got.
            const src = s.source.mask;
            const crop = cropGeometryMatrix(s.source.crop, src.width, src.height);
            return warpMaskNearest(src, matMul3(crop, m), geo.height, geo.width, pad);
          }
          return moved ? warpMaskNearest(s.mask, m, geo.height, geo.width, pad) : s.mask;
        }),
      );
    },
    describe(batch: tf.Tensor): string[] {
      return Array.from(
        { length: batch.shape[0] ?? 0 },
        () => `mask ${batch.shape.slice(1).join('x')}`,
      );
    },
    showWithInput(xs: tf.Tensor, ys: tf.Tensor, options: ShowOptions): Promise<void> {
      return showMasks(xs, [{ masks: ys }], codes, options);
    },
    toConfig(): JsonObject {
      return { name: 'MaskBlock', codes: [...codes], values: [...values] };
    },
  };
}

registerBlock('MaskBlock', (cfg) => {
  const { codes, values } = checkCodes({
    codes: (cfg.codes as string[] | undefined) ?? [],
    ...(Array.isArray(cfg.values) ? { values: cfg.values as number[] } : {}),
  });
  return maskFitted(codes, values);
});
