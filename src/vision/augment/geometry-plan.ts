/** The geometry a pixel-moving batch transform draws for one batch. */
import type { Mat3 } from './matrices.js';

/**
 * One output-to-input matrix per image and the output size: what a batch transform that moves
 * pixels (`AffineAugment`, `Dihedral`) resamples with, and what targets such as keypoints
 * follow.
 * @example
 * ```ts
 * const plan: tsf.GeometryPlan = { matrices: [tsf.IDENTITY], outWidth: 64, outHeight: 64 };
 * ```
 */
export interface GeometryPlan {
  /** One matrix per image (output coordinates to input coordinates, [-1, 1]). */
  readonly matrices: readonly Mat3[];
  /** Output width. */
  readonly outWidth: number;
  /** Output height. */
  readonly outHeight: number;
}
