import type sharp from 'sharp';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import type { JsonObject } from '../../data/batch.js';
import { registerTransform } from '../../data/registry.js';
import type {
  CropGeometry,
  ItemTransform,
  ItemTransformContext,
  PlannedStep,
} from './item-transform.js';
import { type ImageSize, toHeightWidth } from './resize.js';

/** Options of {@link RandomResizedCrop}. */
export interface RandomResizedCropOptions {
  /**
   * Smallest fraction of the image area a training crop covers.
   * @defaultValue `0.08`
   */
  minScale?: number;
  /**
   * Largest fraction of the image area a training crop covers.
   * @defaultValue `1`
   */
  maxScale?: number;
  /**
   * Range of crop aspect ratios (width / height), drawn log-uniformly.
   * @defaultValue `[3/4, 4/3]`
   */
  ratio?: readonly [number, number];
  /**
   * In validation the whole image is resized to `size * (1 + valXtra)` (rounded up to a
   * multiple of 8 pixels) and centre-cropped to `size`.
   * @defaultValue `0.14`
   */
  valXtra?: number;
}

const RRC_KEYS = ['minScale', 'maxScale', 'ratio', 'valXtra'] as const;

/** A crop box in pixels. */
export interface CropBox {
  /** Left edge. */
  readonly left: number;
  /** Top edge. */
  readonly top: number;
  /** Width. */
  readonly width: number;
  /** Height. */
  readonly height: number;
}

/**
 * Draws a random-resized-crop box as fastai and torchvision do: up to 10 attempts at an area
 * fraction in [minScale, maxScale] and a log-uniform aspect ratio, falling back to the
 * largest central crop within the ratio range.
 *
 * @param w - Image width.
 * @param h - Image height.
 * @param opts - Scale and ratio ranges.
 * @param rng - Generator for the draws.
 * @returns The crop box.
 * @example
 * ```ts
 * const box = drawResizedCrop(500, 375, { minScale: 0.08, maxScale: 1, ratio: [3/4, 4/3] }, rng);
 * ```
 */
export function drawResizedCrop(
  w: number,
  h: number,
  opts: { minScale: number; maxScale: number; ratio: readonly [number, number] },
  rng: { random(): number; uniform(a: number, b: number): number },
): CropBox {
  const [r0, r1] = opts.ratio;
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = rng.uniform(opts.minScale, opts.maxScale) * w * h;
    const ratio = Math.exp(rng.uniform(Math.log(r0), Math.log(r1)));
    const nw = Math.round(Math.sqrt(area * ratio));
    const nh = Math.round(Math.sqrt(area / ratio));
    if (nw <= w && nh <= h && nw > 0 && nh > 0) {
      const left = Math.floor(rng.random() * (w - nw + 1));
      const top = Math.floor(rng.random() * (h - nh + 1));
      return { left, top, width: nw, height: nh };
    }
  }
  let cw = w;
  let ch = h;
  if (w / h < r0) ch = Math.trunc(w / r0);
  else if (w / h > r1) cw = Math.trunc(h * r1);
  return { left: Math.floor((w - cw) / 2), top: Math.floor((h - ch) / 2), width: cw, height: ch };
}

/**
 * fastai's `RandomResizedCrop` as an item transform in sharp: in training a random crop of
 * random area and aspect ratio, resized to `size`; in validation the whole image resized to
 * `size` plus `valXtra` and centre-cropped.
 *
 * @param size - Output size: a number for a square, or `[height, width]`.
 * @param options - Scale, ratio and validation margin.
 * @returns An item transform.
 * @throws {@link ValueError} on a bad size or range.
 * @example
 * ```ts
 * const itemTfms = tsf.RandomResizedCrop(224, { minScale: 0.35 });
 * ```
 */
export function RandomResizedCrop(
  size: ImageSize,
  options: RandomResizedCropOptions = {},
): ItemTransform {
  checkOptionKeys('RandomResizedCrop', options, RRC_KEYS);
  const [th, tw] = toHeightWidth('size', size);
  const minScale = options.minScale ?? 0.08;
  const maxScale = options.maxScale ?? 1;
  const ratio = options.ratio ?? ([3 / 4, 4 / 3] as const);
  const valXtra = options.valXtra ?? 0.14;
  if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) {
    throw invalidValue('minScale', 'in (0, maxScale] with maxScale <= 1', minScale);
  }
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) {
    throw invalidValue('ratio', '[low, high] with 0 < low <= high', ratio);
  }
  if (!(valXtra >= 0)) throw invalidValue('valXtra', 'a number >= 0', valXtra);
  // Validation resizes to the size plus this many pixels, then centre-crops.
  const xtra = Math.ceil((Math.max(th, tw) * valXtra) / 8) * 8;
  return {
    name: 'RandomResizedCrop',
    sourceReduction(w: number, h: number, training: boolean): number {
      if (!training) {
        return Math.min(w / (tw + xtra), h / (th + xtra));
      }
      // The smallest crop drawn: minScale of the area at the extreme aspect ratios.
      const area = minScale * w * h;
      return Math.min(Math.sqrt(area * ratio[0]) / tw, Math.sqrt(area / ratio[1]) / th);
    },
    cropBox(w: number, h: number, ctx: ItemTransformContext): CropGeometry {
      if (!ctx.training) {
        // Squish to the size plus xtra, then the centre: that region of the original.
        const sx = w / (tw + xtra);
        const sy = h / (th + xtra);
        const box = {
          left: Math.floor(xtra / 2) * sx,
          top: Math.floor(xtra / 2) * sy,
          width: tw * sx,
          height: th * sy,
        };
        return { box, width: tw, height: th };
      }
      return {
        box: drawResizedCrop(w, h, { minScale, maxScale, ratio }, ctx.rng),
        width: tw,
        height: th,
      };
    },
    plan(pipeline: sharp.Sharp, w: number, h: number, ctx: ItemTransformContext): PlannedStep {
      if (!ctx.training) {
        const p = pipeline.resize(tw + xtra, th + xtra, { fit: 'fill', kernel: 'linear' }).extract({
          left: Math.floor(xtra / 2),
          top: Math.floor(xtra / 2),
          width: tw,
          height: th,
        });
        return { pipeline: p, width: tw, height: th };
      }
      const box = drawResizedCrop(w, h, { minScale, maxScale, ratio }, ctx.rng);
      const p = pipeline.extract(box).resize(tw, th, { fit: 'fill', kernel: 'linear' });
      return { pipeline: p, width: tw, height: th };
    },
    toConfig(): JsonObject {
      return {
        name: 'RandomResizedCrop',
        size: [th, tw],
        minScale,
        maxScale,
        ratio: [ratio[0], ratio[1]],
        valXtra,
      };
    },
  };
}

registerTransform('RandomResizedCrop', (cfg) =>
  RandomResizedCrop(cfg.size as [number, number], {
    minScale: cfg.minScale as number,
    maxScale: cfg.maxScale as number,
    ratio: cfg.ratio as [number, number],
    valXtra: cfg.valXtra as number,
  }),
);
