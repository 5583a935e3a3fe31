/**
 * Nearest-neighbour resampling of label masks: the geometry images get (an item transform's
 * crop-and-resize, the batch augmentation's matrix) applied so that every output pixel copies
 * one input label, never a blend of two (a blend of labels 1 and 3 is not label 2).
 */
import type { GridPadMode } from '../augment/grid-sample.js';
import type { Mat3 } from '../augment/matrices.js';
import type { CropGeometry } from '../image/item-transform.js';

/** A label mask: one class index per pixel, row-major. */
export interface LabelMask {
  /** `width * height` class indices. */
  readonly data: Uint8Array;
  /** Width. */
  readonly width: number;
  /** Height. */
  readonly height: number;
}

/**
 * Crops and resizes a mask as an item transform does its image, by nearest neighbour: output
 * pixel `x` shows source point `left + (x + 0.5) * boxWidth / outWidth - 0.5` (the pixel-centre
 * mapping libvips and the fused crop use for the image), rounded to the nearest pixel and kept
 * inside the mask.
 *
 * @param mask - The mask.
 * @param geometry - The crop box (in the mask's pixels) and the output size.
 * @returns A new mask of the output size.
 * @example
 * ```ts
 * const mask = { data: new Uint8Array(64 * 64).fill(1), width: 64, height: 64 };
 * const box = { left: 0, top: 0, width: 64, height: 64 };
 * const out = cropMaskNearest(mask, { box, width: 32, height: 32 });
 * ```
 */
export function cropMaskNearest(mask: LabelMask, geometry: CropGeometry): LabelMask {
  const { box, width: ow, height: oh } = geometry;
  const { data, width: w, height: h } = mask;
  const cols = new Int32Array(ow);
  for (let x = 0; x < ow; x++) {
    const p = box.left + ((x + 0.5) * box.width) / ow - 0.5;
    cols[x] = Math.min(Math.max(Math.round(p), 0), w - 1);
  }
  const out = new Uint8Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    const p = box.top + ((y + 0.5) * box.height) / oh - 0.5;
    const row = Math.min(Math.max(Math.round(p), 0), h - 1) * w;
    for (let x = 0; x < ow; x++) out[y * ow + x] = data[row + cols[x]!]!;
  }
  return { data: out, width: ow, height: oh };
}

function reflectCoord(p: number, span: number): number {
  if (span === 0) return 0;
  return span - Math.abs((Math.abs(p) % (2 * span)) - span);
}

/**
 * Resamples a mask through one augmentation matrix (output coordinates in [-1, 1], corners
 * aligned, to input coordinates; a homography is divided by its third coordinate), as
 * `gridSample` does the image but taking the nearest pixel: PyTorch's
 * `grid_sample(mode='nearest', align_corners=True)`, with ties rounded up. Outside the mask,
 * `'reflection'` mirrors about the edge pixels, `'border'` repeats them and `'zeros'` writes
 * class 0.
 *
 * @param mask - The mask.
 * @param m - The matrix (as {@link AffineAugment.plan} draws it).
 * @param outHeight - Output height.
 * @param outWidth - Output width.
 * @param padMode - Fill outside the mask.
 * @returns A new mask.
 * @example
 * ```ts
 * const mask = { data: new Uint8Array(64 * 64).fill(1), width: 64, height: 64 };
 * const flipped = warpMaskNearest(mask, tsf.flipMat(true), mask.height, mask.width, 'reflection');
 * ```
 */
export function warpMaskNearest(
  mask: LabelMask,
  m: Mat3,
  outHeight: number,
  outWidth: number,
  padMode: GridPadMode,
): LabelMask {
  const { data, width: w, height: h } = mask;
  const out = new Uint8Array(outHeight * outWidth);
  const sx = (w - 1) / 2;
  const sy = (h - 1) / 2;
  for (let i = 0; i < outHeight; i++) {
    const v = outHeight > 1 ? -1 + (2 * i) / (outHeight - 1) : 0;
    for (let j = 0; j < outWidth; j++) {
      const u = outWidth > 1 ? -1 + (2 * j) / (outWidth - 1) : 0;
      const z = m[6] * u + m[7] * v + m[8];
      let px = ((m[0] * u + m[1] * v + m[2]) / z + 1) * sx;
      let py = ((m[3] * u + m[4] * v + m[5]) / z + 1) * sy;
      if (padMode === 'reflection') {
        if (px < 0 || px > w - 1) px = reflectCoord(px, w - 1);
        if (py < 0 || py > h - 1) py = reflectCoord(py, h - 1);
      }
      let x = Math.round(px);
      let y = Math.round(py);
      if (x < 0 || x > w - 1 || y < 0 || y > h - 1) {
        if (padMode === 'zeros') continue;
        x = Math.min(Math.max(x, 0), w - 1);
        y = Math.min(Math.max(y, 0), h - 1);
      }
      out[i * outWidth + j] = data[y * w + x]!;
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

/**
 * The crop-and-resize of {@link cropMaskNearest} as a matrix in the [-1, 1] corner-aligned
 * coordinates of the augmentation (output of the crop to the uncropped mask), so a crop and an
 * augmentation compose into one resampling, as the fused image executor composes them.
 *
 * @param geometry - The crop box and output size.
 * @param width - Width of the uncropped mask.
 * @param height - Height of the uncropped mask.
 * @returns The matrix.
 * @example
 * ```ts
 * const geometry = { box: { left: 62.5, top: 0, width: 375, height: 375 }, width: 224, height: 224 };
 * const augment = tsf.flipMat(true);
 * const m = tsf.matMul3(cropGeometryMatrix(geometry, 500, 375), augment);
 * ```
 */
export function cropGeometryMatrix(geometry: CropGeometry, width: number, height: number): Mat3 {
  const { box, width: tw, height: th } = geometry;
  const ax = width > 1 && tw > 1 ? ((tw - 1) * box.width) / (tw * (width - 1)) : 0;
  const ay = height > 1 && th > 1 ? ((th - 1) * box.height) / (th * (height - 1)) : 0;
  const bx = width > 1 ? ((box.left + box.width / 2 - 0.5) * 2) / (width - 1) - 1 : 0;
  const by = height > 1 ? ((box.top + box.height / 2 - 0.5) * 2) / (height - 1) - 1 : 0;
  return [ax, 0, bx, 0, ay, by, 0, 0, 1];
}
