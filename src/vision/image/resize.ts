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

/** How {@link Resize} makes an image the target shape. */
export type ResizeMethod = 'crop' | 'pad' | 'squish';

/** How padding pixels are filled. */
export type PadMode = 'reflection' | 'zeros' | 'border';

/** Options of {@link Resize}. */
export interface ResizeOptions {
  /**
   * `'crop'` takes the largest crop of the target aspect ratio (random position in training,
   * centre otherwise) and resizes it; `'pad'` fits the whole image and pads; `'squish'`
   * resizes without keeping the aspect ratio.
   * @defaultValue `'crop'`
   */
  method?: ResizeMethod;
  /**
   * Fill used by `method: 'pad'`.
   * @defaultValue `'reflection'`
   */
  padMode?: PadMode;
}

const RESIZE_KEYS = ['method', 'padMode'] as const;

/** A target size: one number for a square, or `[height, width]`. */
export type ImageSize = number | readonly [number, number];

/**
 * Normalises a size argument to `[height, width]`.
 * @param name - Argument name, for the error message.
 * @param size - A number or `[height, width]`.
 * @returns `[height, width]`.
 * @throws {@link ValueError} unless both are positive integers.
 * @example
 * ```ts
 * toHeightWidth('size', 224); // [224, 224]
 * ```
 */
export function toHeightWidth(name: string, size: ImageSize): [number, number] {
  const hw: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (!hw.every((v) => Number.isInteger(v) && v > 0)) {
    throw invalidValue(name, 'a positive integer or [height, width] of positive integers', size);
  }
  return hw;
}

/**
 * fastai's `Resize`: makes every image `size`, by cropping (random position in training,
 * centre in validation), padding or squishing. Runs in sharp with bilinear resampling.
 *
 * @param size - Target size: a number for a square, or `[height, width]`.
 * @param options - Method and padding mode.
 * @returns An item transform.
 * @throws {@link ValueError} on a bad size, method or padding mode.
 * @example
 * ```ts
 * const itemTfms = tsf.Resize(460);                       // crop, as the pets recipe does
 * const padded = tsf.Resize(224, { method: 'pad', padMode: 'zeros' });
 * ```
 */
export function Resize(size: ImageSize, options: ResizeOptions = {}): ItemTransform {
  checkOptionKeys('Resize', options, RESIZE_KEYS);
  const [th, tw] = toHeightWidth('size', size);
  const method = options.method ?? 'crop';
  const padMode = options.padMode ?? 'reflection';
  if (!['crop', 'pad', 'squish'].includes(method)) {
    throw invalidValue('method', "one of 'crop', 'pad', 'squish'", method);
  }
  if (!['reflection', 'zeros', 'border'].includes(padMode)) {
    throw invalidValue('padMode', "one of 'reflection', 'zeros', 'border'", padMode);
  }
  // The region of the image the output shows: inside it for crop, around it for pad (which
  // scales the image and extends the edges). A random position in training, centred otherwise.
  const cropRegion = (w: number, h: number, ctx: ItemTransformContext) => {
    const [px, py] = ctx.training ? [ctx.rng.random(), ctx.rng.random()] : [0.5, 0.5];
    const useWidth = method === 'crop' ? w / tw < h / th : w / tw > h / th;
    const m = useWidth ? w / tw : h / th;
    const cw = Math.max(1, Math.trunc(m * tw));
    const ch = Math.max(1, Math.trunc(m * th));
    return {
      left: Math.trunc(px * (w - cw)),
      top: Math.trunc(py * (h - ch)),
      width: cw,
      height: ch,
    };
  };
  return {
    name: 'Resize',
    sourceReduction(w: number, h: number): number {
      // crop and squish sample every output pixel at the smaller ratio; pad shrinks the whole
      // image by the larger one.
      return method === 'pad' ? Math.max(w / tw, h / th) : Math.min(w / tw, h / th);
    },
    cropBox(w: number, h: number, ctx: ItemTransformContext): CropGeometry | undefined {
      if (method === 'squish') {
        return { box: { left: 0, top: 0, width: w, height: h }, width: tw, height: th };
      }
      if (method === 'pad') return undefined;
      return { box: cropRegion(w, h, ctx), width: tw, height: th };
    },
    plan(pipeline: sharp.Sharp, w: number, h: number, ctx: ItemTransformContext): PlannedStep {
      if (method === 'squish') {
        return {
          pipeline: pipeline.resize(tw, th, { fit: 'fill', kernel: 'linear' }),
          width: tw,
          height: th,
        };
      }
      const { left, top, width: cw, height: ch } = cropRegion(w, h, ctx);
      if (method === 'crop') {
        const p = pipeline
          .extract({ left, top, width: cw, height: ch })
          .resize(tw, th, { fit: 'fill', kernel: 'linear' });
        return { pipeline: p, width: tw, height: th };
      }
      // pad: the crop box is larger than the image; scale the image, then extend the edges.
      const s = tw / cw;
      const rw = Math.min(tw, Math.max(1, Math.round(w * s)));
      const rh = Math.min(th, Math.max(1, Math.round(h * s)));
      const padLeft = Math.min(tw - rw, Math.round(-left * s));
      const padTop = Math.min(th - rh, Math.round(-top * s));
      const p = pipeline.resize(rw, rh, { fit: 'fill', kernel: 'linear' }).extend({
        left: padLeft,
        right: tw - rw - padLeft,
        top: padTop,
        bottom: th - rh - padTop,
        ...(padMode === 'zeros'
          ? { background: { r: 0, g: 0, b: 0 } }
          : { extendWith: padMode === 'reflection' ? 'mirror' : 'copy' }),
      });
      return { pipeline: p, width: tw, height: th };
    },
    toConfig(): JsonObject {
      return { name: 'Resize', size: [th, tw], method, padMode };
    },
  };
}

registerTransform('Resize', (cfg) =>
  Resize(cfg.size as [number, number], {
    method: cfg.method as ResizeMethod,
    padMode: cfg.padMode as PadMode,
  }),
);
