/**
 * fastai's item transforms `FlipItem` (random horizontal flip) and `CropPad` (centre crop or
 * pad to a size, without resizing), run in sharp like {@link Resize}.
 */
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
import { type ImageSize, type PadMode, toHeightWidth } from './resize.js';

/** Options of {@link FlipItem}. */
export interface FlipItemOptions {
  /**
   * Probability of a horizontal flip of a training image.
   * @defaultValue `0.5`
   */
  p?: number;
}

/**
 * fastai's `FlipItem`: each training image is flipped horizontally with probability `p`;
 * validation images are left as they are.
 * @param options - Probability.
 * @returns An item transform.
 * @throws {@link ValueError} on an unknown option or `p` outside [0, 1].
 * @example
 * ```ts
 * const itemTfms = [tsf.Resize(224), tsf.FlipItem({ p: 0.5 })];
 * ```
 */
export function FlipItem(options: FlipItemOptions = {}): ItemTransform {
  checkOptionKeys('FlipItem', options, ['p']);
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw invalidValue('p', 'a probability in [0, 1]', p);
  return {
    name: 'FlipItem',
    plan(pipeline: sharp.Sharp, w: number, h: number, ctx: ItemTransformContext): PlannedStep {
      const flip = ctx.training && ctx.rng.bernoulli(p);
      return { pipeline: flip ? pipeline.flop() : pipeline, width: w, height: h };
    },
    toConfig(): JsonObject {
      return { name: 'FlipItem', p };
    },
  };
}

/** Options of {@link CropPad}. */
export interface CropPadOptions {
  /**
   * Fill where the image is smaller than the size.
   * @defaultValue `'zeros'`
   */
  padMode?: PadMode;
}

/**
 * fastai's `CropPad`: the centre `size` of the image, without resizing: cropped where the image
 * is larger, padded where it is smaller. As fastai, the top-left corner is
 * `floor((imageSize - size) / 2)` (so an odd padding puts the extra pixel after the image).
 * @param size - Output size: a number for a square, or `[height, width]`.
 * @param options - Padding mode.
 * @returns An item transform.
 * @throws {@link ValueError} on a bad size or padding mode.
 * @example
 * ```ts
 * const itemTfms = tsf.CropPad(224);
 * tsf.CropPad([200, 300], { padMode: 'reflection' });
 * ```
 */
export function CropPad(size: ImageSize, options: CropPadOptions = {}): ItemTransform {
  checkOptionKeys('CropPad', options, ['padMode']);
  const [th, tw] = toHeightWidth('size', size);
  const padMode = options.padMode ?? 'zeros';
  if (!['reflection', 'zeros', 'border'].includes(padMode)) {
    throw invalidValue('padMode', "one of 'reflection', 'zeros', 'border'", padMode);
  }
  const corner = (w: number, h: number) => [Math.floor((w - tw) / 2), Math.floor((h - th) / 2)];
  return {
    name: 'CropPad',
    cropBox(w: number, h: number): CropGeometry | undefined {
      if (w < tw || h < th) return undefined;
      const [left, top] = corner(w, h) as [number, number];
      return { box: { left, top, width: tw, height: th }, width: tw, height: th };
    },
    plan(pipeline: sharp.Sharp, w: number, h: number): PlannedStep {
      const [left, top] = corner(w, h) as [number, number];
      // The part of the image inside the output, then the padding around it.
      const x0 = Math.max(0, left);
      const y0 = Math.max(0, top);
      const cw = Math.min(w, left + tw) - x0;
      const ch = Math.min(h, top + th) - y0;
      let p = pipeline;
      if (x0 > 0 || y0 > 0 || cw < w || ch < h) {
        p = p.extract({ left: x0, top: y0, width: cw, height: ch });
      }
      const padLeft = Math.max(0, -left);
      const padTop = Math.max(0, -top);
      if (cw < tw || ch < th) {
        p = p.extend({
          left: padLeft,
          right: tw - cw - padLeft,
          top: padTop,
          bottom: th - ch - padTop,
          ...(padMode === 'zeros'
            ? { background: { r: 0, g: 0, b: 0 } }
            : { extendWith: padMode === 'reflection' ? 'mirror' : 'copy' }),
        });
      }
      return { pipeline: p, width: tw, height: th };
    },
    toConfig(): JsonObject {
      return { name: 'CropPad', size: [th, tw], padMode };
    },
  };
}

registerTransform('FlipItem', (cfg) => FlipItem({ p: cfg.p as number }));
registerTransform('CropPad', (cfg) =>
  CropPad(cfg.size as [number, number], { padMode: cfg.padMode as PadMode }),
);
