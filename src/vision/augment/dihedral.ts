/**
 * fastai's `Dihedral`: each training image is turned to one of the 8 symmetries of the square
 * (flips, quarter turns, transposes), as one matrix resampled on the tensor path.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import type { JsonObject } from '../../data/batch.js';
import { registerTransform } from '../../data/registry.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import type { GeometryPlan } from './geometry-plan.js';
import { type GridPadMode, gridSample } from './grid-sample.js';
import { aspectCorrect, IDENTITY, type Mat3 } from './matrices.js';

/**
 * fastai's `dihedral_mat` for one draw `k` in 0..7: rows `[xs m0, xs m1, 0]` and
 * `[ys m1, ys m0, 0]` with `xs = [1,-1,1,-1,-1,1,1,-1]`, `ys = [1,1,-1,1,-1,-1,1,-1]`,
 * `m0 = [1,1,1,0,1,0,0,0]`, `m1 = 1 - m0`, indexed by `k`.
 * @param k - The symmetry, 0 (identity) to 7.
 * @returns The matrix (output to input coordinates).
 * @throws {@link ValueError} if `k` is not an integer in 0..7.
 * @example
 * ```ts
 * tsf.dihedralMat(1); // horizontal flip [-1, 0, 0, 0, 1, 0, 0, 0, 1]
 * tsf.dihedralMat(6); // transpose [0, 1, 0, 1, 0, 0, 0, 0, 1]
 * ```
 */
export function dihedralMat(k: number): Mat3 {
  if (!(Number.isInteger(k) && k >= 0 && k < 8)) throw invalidValue('k', 'an integer in 0..7', k);
  const xs = [1, -1, 1, -1, -1, 1, 1, -1][k]!;
  const ys = [1, 1, -1, 1, -1, -1, 1, -1][k]!;
  const m0 = [1, 1, 1, 0, 1, 0, 0, 0][k]!;
  const m1 = 1 - m0;
  // `+ 0` turns the -0 of a zero times -1 into 0.
  return [xs * m0 + 0, xs * m1 + 0, 0, ys * m1 + 0, ys * m0 + 0, 0, 0, 0, 1];
}

/** Options of {@link Dihedral}. */
export interface DihedralOptions {
  /**
   * Probability that an image gets a drawn symmetry (else it is left as is).
   * @defaultValue `0.5`
   */
  p?: number;
  /**
   * Fill outside the image (only non-square images sample outside it).
   * @defaultValue `'reflection'`
   */
  padMode?: GridPadMode;
}

/**
 * fastai's `Dihedral` batch transform: in training, each image draws one of the 8 symmetries
 * (`k` uniform in 0..7, fastai's {@link dihedralMat}), kept with probability `p`; validation
 * batches pass unchanged. Non-square images get fastai's aspect correction.
 *
 * @example
 * ```ts
 * const batchTfms = [tsf.dihedral(), tsf.Normalize.fromStats(tsf.imagenetStats)];
 * ```
 */
export class Dihedral implements BatchTransform {
  /** Registry name. */
  readonly name = 'Dihedral';
  /** fastai's `AffineCoordTfm` order. */
  readonly order = 30;
  /** Moves pixels: targets such as keypoints follow through {@link Dihedral.plan}. */
  readonly movesPixels = true;
  /** Probability of a symmetry. */
  readonly p: number;
  /** Fill outside the image. */
  readonly padMode: GridPadMode;

  /**
   * @param options - Probability and padding.
   * @throws {@link ValueError} on an unknown option or a bad value.
   */
  constructor(options: DihedralOptions = {}) {
    checkOptionKeys('Dihedral', options, ['p', 'padMode']);
    this.p = options.p ?? 0.5;
    this.padMode = options.padMode ?? 'reflection';
    if (!(this.p >= 0 && this.p <= 1)) throw invalidValue('p', 'a probability in [0, 1]', this.p);
    if (!['reflection', 'zeros', 'border'].includes(this.padMode)) {
      throw invalidValue('padMode', "one of 'reflection', 'zeros', 'border'", this.padMode);
    }
  }

  /**
   * Draws the matrices of a batch: per image `k`, then whether it applies.
   * @param n - Batch size.
   * @param width - Image width.
   * @param height - Image height.
   * @param ctx - Training flag and the batch generator.
   * @returns The matrices and the (unchanged) size, or `undefined` in validation.
   * @example
   * ```ts
   * const plan = new tsf.Dihedral().plan(8, 64, 64, { training: true, rng });
   * ```
   */
  plan(
    n: number,
    width: number,
    height: number,
    ctx: BatchTransformContext,
  ): GeometryPlan | undefined {
    if (!ctx.training) return undefined;
    const matrices: Mat3[] = [];
    for (let i = 0; i < n; i++) {
      const k = ctx.rng.randInt(0, 8);
      const m = ctx.rng.bernoulli(this.p) ? dihedralMat(k) : IDENTITY;
      matrices.push(aspectCorrect(m, width, height));
    }
    return { matrices, outWidth: width, outHeight: height };
  }

  /**
   * Resamples the batch through this batch's symmetries.
   * @param xs - Images `[N, H, W, C]`.
   * @param ctx - Training flag and the batch generator.
   * @returns A new tensor.
   * @example
   * ```ts
   * const ys = tsf.dihedral().apply(xs, { training: true, rng });
   * ```
   */
  apply(xs: tf.Tensor, ctx: BatchTransformContext): tf.Tensor {
    const x = xs as tf.Tensor4D;
    const [n, h, w] = x.shape;
    const plan = this.plan(n, w, h, ctx);
    if (!plan) return x.clone();
    return gridSample(x, plan.matrices, h, w, this.padMode);
  }

  /**
   * @returns The options as JSON.
   * @example
   * ```ts
   * tsf.dihedral().toConfig(); // { name: 'Dihedral', p: 0.5, padMode: 'reflection' }
   * ```
   */
  toConfig(): JsonObject {
    return { name: this.name, p: this.p, padMode: this.padMode };
  }
}

/**
 * fastai's `Dihedral` as a factory, for `batchTfms` lists.
 * @param options - Probability and padding.
 * @returns The transform.
 * @throws {@link ValueError} as {@link Dihedral}.
 * @example
 * ```ts
 * const batchTfms = [tsf.dihedral({ p: 1 })];
 * ```
 */
export function dihedral(options: DihedralOptions = {}): Dihedral {
  return new Dihedral(options);
}

registerTransform(
  'Dihedral',
  (cfg) => new Dihedral({ p: cfg.p as number, padMode: cfg.padMode as GridPadMode }),
);
