/**
 * The geometry that carries keypoints along with their image: the item transform's crop (in
 * pixels, as libvips or the fused executor resamples it) and the batch augmentation's matrices.
 * Those matrices map OUTPUT coordinates to INPUT coordinates (a sampler reads the input where
 * each output pixel falls), so points, which move from input to output, take their inverse.
 *
 * Coordinates: a point is continuous pixels, `(0, 0)` the top-left corner of the first pixel
 * and `(w, h)` the bottom-right of the last (PIL's and fastai's convention: pixel `i` is centred
 * on `i + 0.5`); the samplers' [-1, 1] frame puts -1 and 1 on the centres of the first and last
 * pixels (align-corners). Model targets are fastai's `TensorPoint` scaling, `2 p / size - 1`.
 */
import { DataError, ValueError } from '../../core/errors.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import { cpuStepOf } from '../augment/cpu-step.js';
import type { GeometryPlan } from '../augment/geometry-plan.js';
import { applyMat, IDENTITY, type Mat3, matMul3 } from '../augment/matrices.js';
import type { RGBImage } from '../image/decode.js';
import type { CropBox } from '../image/random-resized-crop.js';

/** How an item transform made a batch image from the decoded photo: a crop resized. */
export interface ItemGeometry {
  /** Decoded photo width (after EXIF orientation). */
  readonly srcWidth: number;
  /** Decoded photo height. */
  readonly srcHeight: number;
  /** The region of the photo, in its pixels, that became the image. */
  readonly box: CropBox;
  /** Image width after the item transform. */
  readonly width: number;
  /** Image height after the item transform. */
  readonly height: number;
}

const GEOMETRY = Symbol('tsfast.itemGeometry');

type WithGeometry = RGBImage & { [GEOMETRY]?: ItemGeometry };

/**
 * Records on a decoded image how its item transform made it from the photo (kept for targets
 * that follow the image's geometry, such as keypoints).
 * @param image - The image after its item transform.
 * @param geometry - The crop and sizes.
 * @returns The same image.
 * @example
 * ```ts
 * const img = { data: new Uint8Array(224 * 224 * 3), width: 224, height: 224 };
 * const box = { left: 62.5, top: 0, width: 375, height: 375 };
 * withItemGeometry(img, { srcWidth: 500, srcHeight: 375, box, width: 224, height: 224 });
 * ```
 */
export function withItemGeometry<T extends RGBImage>(image: T, geometry: ItemGeometry): T {
  Object.defineProperty(image, GEOMETRY, { value: geometry, enumerable: false });
  return image;
}

/**
 * The item geometry of a batch image, as {@link withItemGeometry} recorded it.
 * @param image - An encoded image sample.
 * @param item - Its item (for the error).
 * @returns The geometry.
 * @throws {@link DataError} when the item transform's geometry is unknown (a padding resize,
 *   several item transforms, an image given as bytes with an item transform).
 * @example
 * ```ts
 * const box = { left: 62.5, top: 0, width: 375, height: 375 };
 * const img = withItemGeometry(
 *   { data: new Uint8Array(224 * 224 * 3), width: 224, height: 224 },
 *   { srcWidth: 500, srcHeight: 375, box, width: 224, height: 224 },
 * );
 * const g = itemGeometryOf(img, '/data/a.jpg'); // g.box.left === 62.5
 * ```
 */
export function itemGeometryOf(image: RGBImage, item: unknown): ItemGeometry {
  const g = (image as WithGeometry)[GEOMETRY];
  if (!g) {
    throw new DataError(
      `Keypoints of item ${JSON.stringify(item)}: the item transform's geometry is unknown. Points ` +
        'follow one crop-or-squish item transform (Resize with method crop or squish, ' +
        'RandomResizedCrop) or none, on images given as file paths.',
    );
  }
  return g;
}

/**
 * Moves points (continuous pixels of the photo) onto the image the item transform made.
 * @param points - Flat `[x0, y0, x1, y1, ...]`.
 * @param g - The item geometry.
 * @returns The points in the image's pixels.
 * @example
 * ```ts
 * const box = { left: 62.5, top: 0, width: 375, height: 375 };
 * const g = { srcWidth: 500, srcHeight: 375, box, width: 224, height: 224 };
 * pointsThroughItem([250, 100], g); // [112, 59.73]
 * ```
 */
export function pointsThroughItem(points: readonly number[], g: ItemGeometry): number[] {
  const sx = g.width / g.box.width;
  const sy = g.height / g.box.height;
  return points.map((v, k) => (k % 2 === 0 ? (v - g.box.left) * sx : (v - g.box.top) * sy));
}

/**
 * Inverse of a 3x3 matrix.
 * @param m - The matrix.
 * @returns Its inverse.
 * @throws {@link ValueError} when it is singular.
 * @example
 * ```ts
 * invertMat3(tsf.rotateMat(30)); // rotateMat(-30)
 * ```
 */
export function invertMat3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 1e-12)) throw new ValueError(`invertMat3: singular matrix [${m}].`);
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

/** The per-image geometry of a batch's transforms, composed. */
export interface BatchGeometry {
  /** One matrix per image, output to input coordinates ([-1, 1], align-corners). */
  readonly matrices: readonly Mat3[];
  /** Output width. */
  readonly width: number;
  /** Output height. */
  readonly height: number;
}

/**
 * A batch transform that moves pixels and can say how: the matrices it will draw for a batch
 * (the same draws, in the same order, as its `apply` and the CPU executor).
 */
export interface GeometricBatchTransform extends BatchTransform {
  /**
   * Draws this batch's matrices.
   * @param n - Batch size.
   * @param width - Input width.
   * @param height - Input height.
   * @param ctx - Training flag and the batch generator.
   * @returns The matrices and output size, or `undefined` when the batch is unchanged.
   */
  plan(
    n: number,
    width: number,
    height: number,
    ctx: BatchTransformContext,
  ): GeometryPlan | undefined;
}

/**
 * How a transform draws its geometry, as it declares it: its `cpuStep` (`augTransforms`' affine
 * part) or its own `plan` (`movesPixels`, e.g. `Dihedral`); `undefined` when it declares none.
 */
function geometryOf(t: BatchTransform): GeometricBatchTransform['plan'] | undefined {
  const step = cpuStepOf(t);
  if (step?.stage === 'affine') return step.plan;
  const g = t as Partial<GeometricBatchTransform> & { movesPixels?: boolean };
  return g.movesPixels === true ? g.plan?.bind(t) : undefined;
}

/**
 * Replays the batch transforms' random draws (on a copy of the batch generator taken before
 * the images were transformed) and composes the geometry of those that move pixels.
 * @param tfms - Batch transforms, sorted by order.
 * @param n - Batch size.
 * @param width - Width of the images entering the batch transforms.
 * @param height - Their height.
 * @param ctx - Training flag and a copy of the batch generator.
 * @returns The composed geometry.
 * @throws {@link ValueError} naming a batch transform whose effect on points is unknown.
 * @example
 * ```ts
 * const tfms = tsf.augTransforms({ maxRotate: 15 });
 * const geo = replayBatchGeometry(tfms, 8, 64, 64, { training: true, rng: rng.clone() });
 * ```
 */
export function replayBatchGeometry(
  tfms: readonly BatchTransform[],
  n: number,
  width: number,
  height: number,
  ctx: BatchTransformContext,
): BatchGeometry {
  let matrices: Mat3[] = Array(n).fill(IDENTITY);
  let w = width;
  let h = height;
  for (const t of tfms) {
    const geometry = geometryOf(t);
    const step = cpuStepOf(t);
    if (geometry) {
      const plan = geometry(n, w, h, ctx);
      if (!plan) continue;
      matrices = matrices.map((m, b) => matMul3(m, plan.matrices[b]!));
      w = plan.outWidth;
      h = plan.outHeight;
    } else if (step?.stage === 'lighting') {
      step.plan(n, ctx); // draws that the images consumed after the geometry
    } else if (step?.stage !== 'normalize' && !(t as { pixelOnly?: boolean }).pixelOnly) {
      throw new ValueError(
        `Keypoints: batch transform "${t.name}" may move pixels and has no point mapping; ` +
          'use augTransforms, dihedral, Brightness, Contrast or Normalize with point targets.',
      );
    }
  }
  return { matrices, width: w, height: h };
}

/**
 * Maps points (continuous pixels of the image entering the batch transforms) through one
 * output-to-input matrix, to fastai's scaled coordinates of the output, `2 p / size - 1`.
 * @param points - Flat `[x0, y0, ...]` in input pixels.
 * @param m - Output-to-input matrix.
 * @param inWidth - Input width.
 * @param inHeight - Input height.
 * @param outWidth - Output width.
 * @param outHeight - Output height.
 * @returns Flat scaled points of the output.
 * @example
 * ```ts
 * scalePointsThrough([32, 32], tsf.IDENTITY, 64, 64, 64, 64); // [0, 0]
 * ```
 */
export function scalePointsThrough(
  points: readonly number[],
  m: Mat3,
  inWidth: number,
  inHeight: number,
  outWidth: number,
  outHeight: number,
): number[] {
  const inv = m === IDENTITY ? IDENTITY : invertMat3(m);
  const out: number[] = [];
  for (let k = 0; k < points.length; k += 2) {
    // Continuous pixels -> the sampler's frame (pixel centres at -1 and 1).
    const X = inWidth > 1 ? (2 * (points[k]! - 0.5)) / (inWidth - 1) - 1 : 0;
    const Y = inHeight > 1 ? (2 * (points[k + 1]! - 0.5)) / (inHeight - 1) - 1 : 0;
    const [u, v] = applyMat(inv, X, Y);
    const px = ((u + 1) * (outWidth - 1)) / 2 + 0.5;
    const py = ((v + 1) * (outHeight - 1)) / 2 + 0.5;
    out.push((2 * px) / outWidth - 1, (2 * py) / outHeight - 1);
  }
  return out;
}
