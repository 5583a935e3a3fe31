/**
 * Drawing masks over their images (fastai shows a mask with a colour map at alpha 0.5 over
 * the image): used by `showBatch` for `MaskBlock` targets and by the segmentation results.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ShowOptions } from '../../data/blocks.js';
import { type GridTile, imageGrid } from '../../plot/image-grid.js';
import { PALETTE } from '../../plot/svg.js';

/** One set of masks to overlay on every image (e.g. the targets, or the predictions). */
export interface MaskLayer {
  /** int32 class indices `[N, H, W]` (not disposed). */
  readonly masks: tf.Tensor;
  /** Caption prefix of these tiles (e.g. `'target'`).
   * @defaultValue none: the caption lists the classes present */
  readonly label?: string;
}

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Colour of class `k` in the overlays: the plot palette, in order (class 0 blue, 1 orange,
 * 2 green, ...).
 * @param k - Class index.
 * @returns RGB bytes.
 * @example
 * ```ts
 * tsf.maskColor(0); // [31, 119, 180]
 * ```
 */
export function maskColor(k: number): [number, number, number] {
  return hexToRgb(PALETTE[k % PALETTE.length]!);
}

/**
 * Blends one mask over one image: `0.5 * image + 0.5 * colour(class)` per pixel.
 * @param image - `H * W * 3` values in [0, 1].
 * @param mask - `H * W` class indices.
 * @returns RGB bytes.
 * @example
 * ```ts
 * // A 1x2 white image, class 0 then class 1.
 * const rgb = tsf.overlayMask([1, 1, 1, 1, 1, 1], [0, 1]); // [143, 187, 218, 255, 191, 135]
 * ```
 */
export function overlayMask(image: ArrayLike<number>, mask: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(mask.length * 3);
  for (let p = 0; p < mask.length; p++) {
    const c = maskColor(mask[p]!);
    for (let k = 0; k < 3; k++) {
      const v = Math.min(Math.max(image[3 * p + k]!, 0), 1) * 255;
      out[3 * p + k] = Math.round(0.5 * v + 0.5 * c[k]!);
    }
  }
  return out;
}

/**
 * Writes a PNG grid: for every image, one tile per layer with that layer's mask overlaid, the
 * tiles of one image side by side (so `ncols` counts tiles).
 *
 * @param xs - Images `[N, H, W, 3]` in [0, 1] (not disposed).
 * @param layers - Masks to overlay, each `[N, H, W]`.
 * @param codes - Class names (for captions).
 * @param options - Columns, file and tile size.
 * @returns Resolves when the file is written.
 * @example
 * ```ts
 * const targets = tf.zeros([2, 8, 8], 'int32');
 * const preds = tf.ones([2, 8, 8], 'int32');
 * await tsf.showMasks(xs, [{ masks: targets, label: 'target' }, { masks: preds, label: 'pred' }],
 *   ['pet', 'background', 'border'], { ncols: 2, file: 'results.png' });
 * tf.dispose([targets, preds]);
 * ```
 */
export async function showMasks(
  xs: tf.Tensor,
  layers: readonly MaskLayer[],
  codes: readonly string[],
  options: ShowOptions,
): Promise<void> {
  const [n, h, w] = xs.shape as [number, number, number, number];
  const images = await xs.data();
  const masks = await Promise.all(layers.map((l) => l.masks.data()));
  const tiles: GridTile[] = [];
  for (let b = 0; b < n; b++) {
    const image = images.subarray(b * h * w * 3, (b + 1) * h * w * 3);
    layers.forEach((layer, k) => {
      const mask = masks[k]!.subarray(b * h * w, (b + 1) * h * w);
      const present = [...new Set(mask)].sort((a, c) => a - c).map((c) => codes[c] ?? String(c));
      tiles.push({
        image: { data: overlayMask(image, mask), width: w, height: h },
        title: layer.label ?? present.join(', '),
      });
    });
  }
  await imageGrid(tiles, {
    ncols: options.ncols,
    file: options.file,
    ...(options.tileSize === undefined ? {} : { tileSize: options.tileSize }),
  });
}
