/**
 * fastai's `aug_transforms`: flip, perspective warp, rotation, zoom and (with `minScale`) a
 * random resized crop composed into one matrix per image and one bilinear resampling; then
 * brightness and contrast in logit space. Every image gets its own draws.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import type { RandomGenerator } from '../../core/random.js';
import type { JsonObject } from '../../data/batch.js';
import { registerTransform } from '../../data/registry.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import { drawResizedCrop } from '../image/random-resized-crop.js';
import { toHeightWidth } from '../image/resize.js';
import type { CpuAffineStep, CpuLightingStep } from './cpu-step.js';
import { dihedralMat } from './dihedral.js';
import { type GridPadMode, gridSample } from './grid-sample.js';
import { lighting } from './lighting.js';
import {
  aspectCorrect,
  cropMat,
  flipMat,
  IDENTITY,
  type Mat3,
  matMul3,
  rotateMat,
  warpMat,
  zoomMat,
} from './matrices.js';

/** Options of {@link augTransforms}. */
export interface AugTransformsOptions {
  /**
   * Multiplies `maxRotate`, `maxLighting` and `maxWarp`.
   * @defaultValue `1`
   */
  mult?: number;
  /**
   * Random horizontal flip (p = 0.5).
   * @defaultValue `true`
   */
  doFlip?: boolean;
  /**
   * Also flip vertically and transpose (fastai's dihedral group).
   * @defaultValue `false`
   */
  flipVert?: boolean;
  /**
   * Largest rotation in degrees.
   * @defaultValue `10`
   */
  maxRotate?: number;
  /**
   * Smallest zoom.
   * @defaultValue `1`
   */
  minZoom?: number;
  /**
   * Largest zoom.
   * @defaultValue `1.1`
   */
  maxZoom?: number;
  /**
   * Largest brightness/contrast change.
   * @defaultValue `0.2`
   */
  maxLighting?: number;
  /**
   * Largest perspective warp.
   * @defaultValue `0.2`
   */
  maxWarp?: number;
  /**
   * Probability of each of warp (per axis), rotation and zoom.
   * @defaultValue `0.75`
   */
  pAffine?: number;
  /**
   * Probability of each of brightness and contrast.
   * @defaultValue `0.75`
   */
  pLighting?: number;
  /**
   * Output size (a number or `[height, width]`); the input size when absent.
   * @defaultValue `undefined`
   */
  size?: number | readonly [number, number];
  /**
   * Interpolation.
   * @defaultValue `'bilinear'`
   */
  mode?: 'bilinear';
  /**
   * Fill outside the image.
   * @defaultValue `'reflection'`
   */
  padMode?: GridPadMode;
  /**
   * Below 1, adds a random resized crop (ratio 1) of at least this area fraction, to `size`.
   * @defaultValue `1`
   */
  minScale?: number;
}

const AUG_KEYS = [
  'mult',
  'doFlip',
  'flipVert',
  'maxRotate',
  'minZoom',
  'maxZoom',
  'maxLighting',
  'maxWarp',
  'pAffine',
  'pLighting',
  'size',
  'mode',
  'padMode',
  'minScale',
] as const;

/** The resolved settings of {@link AffineAugment}. */
export interface AffineSettings {
  /** Random horizontal flip. */
  readonly doFlip: boolean;
  /** Dihedral flips. */
  readonly flipVert: boolean;
  /** Largest rotation in degrees (after `mult`). */
  readonly maxRotate: number;
  /** Zoom range. */
  readonly minZoom: number;
  /** Zoom range. */
  readonly maxZoom: number;
  /** Largest warp (after `mult`). */
  readonly maxWarp: number;
  /** Probability of warp, rotate and zoom. */
  readonly pAffine: number;
  /** Output `[height, width]`, or undefined for the input size. */
  readonly size: readonly [number, number] | undefined;
  /** Fill outside the image. */
  readonly padMode: GridPadMode;
  /** Smallest crop area fraction (1 = no crop). */
  readonly minScale: number;
}

/** The per-image geometry of one batch: matrices and output size. */
export interface AffinePlan {
  /** One matrix per image (output coordinates to input coordinates). */
  readonly matrices: Mat3[];
  /** Output height. */
  readonly outHeight: number;
  /** Output width. */
  readonly outWidth: number;
}

/**
 * The affine/perspective half of {@link augTransforms}: one composed matrix per image, one
 * bilinear resampling. In validation only the deterministic part runs: a centre crop (when
 * `minScale < 1`) and the resize to `size`.
 *
 * @example
 * ```ts
 * const [affine] = tsf.augTransforms({ size: 224 });
 * ```
 */
export class AffineAugment implements BatchTransform {
  /** Registry name. */
  readonly name = 'AffineAugment';
  /** fastai's `AffineCoordTfm` order. */
  readonly order = 30;
  /** Resolved settings. */
  readonly settings: AffineSettings;
  /** The CPU executor runs it as its geometry stage, with the same draws. @internal */
  readonly cpuStep: CpuAffineStep;

  /** @param settings - Resolved settings (see {@link augTransforms}). */
  constructor(settings: AffineSettings) {
    this.settings = settings;
    this.cpuStep = {
      stage: 'affine',
      padMode: settings.padMode,
      plan: (n, width, height, ctx) => this.plan(n, width, height, ctx),
    };
  }

  /**
   * Draws the matrices for a batch: flip, warp (x then y), rotation, zoom, crop, per image
   * in that order, all from `rng`.
   * @param n - Batch size.
   * @param width - Input width.
   * @param height - Input height.
   * @param ctx - Training flag and the batch generator.
   * @returns The plan, or `undefined` when there is nothing to do (validation, same size).
   * @example
   * ```ts
   * const affine = tsf.augTransforms()[0] as tsf.AffineAugment;
   * const plan = affine.plan(64, 460, 460, { training: true, rng });
   * ```
   */
  plan(
    n: number,
    width: number,
    height: number,
    ctx: BatchTransformContext,
  ): AffinePlan | undefined {
    const s = this.settings;
    const [outHeight, outWidth] = s.size ?? [height, width];
    if (!ctx.training) {
      if (s.minScale !== 1) {
        const box = centreSquare(width, height);
        return { matrices: Array(n).fill(cropMat(box, width, height)), outHeight, outWidth };
      }
      if (outHeight === height && outWidth === width) return undefined;
      return { matrices: Array(n).fill(IDENTITY), outHeight, outWidth };
    }
    const matrices: Mat3[] = [];
    for (let i = 0; i < n; i++) matrices.push(this.drawOne(width, height, ctx.rng));
    return { matrices, outHeight, outWidth };
  }

  private drawOne(width: number, height: number, rng: RandomGenerator): Mat3 {
    const s = this.settings;
    let aff: Mat3 = IDENTITY;
    if (s.flipVert) {
      // fastai's aug_transforms(flip_vert=True) adds Dihedral(p=0.5).
      const k = rng.randInt(0, 8);
      aff = rng.bernoulli(0.5) ? dihedralMat(k) : IDENTITY;
    } else if (s.doFlip) {
      aff = flipMat(rng.bernoulli(0.5));
    }
    let warp: Mat3 = IDENTITY;
    if (s.maxWarp) {
      const xt = rng.bernoulli(s.pAffine) ? rng.uniform(-s.maxWarp, s.maxWarp) : 0;
      const yt = rng.bernoulli(s.pAffine) ? rng.uniform(-s.maxWarp, s.maxWarp) : 0;
      if (xt !== 0 || yt !== 0) warp = warpMat(xt, yt);
    }
    if (s.maxRotate) {
      const deg = rng.bernoulli(s.pAffine) ? rng.uniform(-s.maxRotate, s.maxRotate) : 0;
      aff = matMul3(aff, rotateMat(deg));
    }
    if (s.minZoom < 1 || s.maxZoom > 1) {
      if (rng.bernoulli(s.pAffine)) {
        const z = rng.uniform(s.minZoom, s.maxZoom);
        aff = matMul3(aff, zoomMat(z, rng.random(), rng.random()));
      }
    }
    let m = matMul3(warp, aspectCorrect(aff, width, height));
    if (s.minScale !== 1) {
      const box = drawResizedCrop(
        width,
        height,
        { minScale: s.minScale, maxScale: 1, ratio: [1, 1] },
        rng,
      );
      m = matMul3(m, cropMat(box, width, height));
    }
    return m;
  }

  /**
   * Resamples the batch through this batch's matrices.
   * @param xs - Images `[N, H, W, C]`.
   * @param ctx - Training flag and the batch generator.
   * @returns The augmented images (a new tensor).
   * @example
   * ```ts
   * const affine = tsf.augTransforms()[0] as tsf.AffineAugment;
   * const ys = affine.apply(xs, { training: true, rng });
   * ```
   */
  apply(xs: tf.Tensor, ctx: BatchTransformContext): tf.Tensor {
    const x = xs as tf.Tensor4D;
    const [n, h, w] = x.shape;
    const plan = this.plan(n, w, h, ctx);
    if (!plan) return x.clone();
    return gridSample(x, plan.matrices, plan.outHeight, plan.outWidth, this.settings.padMode);
  }

  /**
   * @returns The settings as JSON.
   * @example
   * ```ts
   * const affine = tsf.augTransforms()[0] as tsf.AffineAugment;
   * affine.toConfig();
   * ```
   */
  toConfig(): JsonObject {
    const s = this.settings;
    return {
      name: this.name,
      doFlip: s.doFlip,
      flipVert: s.flipVert,
      maxRotate: s.maxRotate,
      minZoom: s.minZoom,
      maxZoom: s.maxZoom,
      maxWarp: s.maxWarp,
      pAffine: s.pAffine,
      size: s.size ? [s.size[0], s.size[1]] : null,
      padMode: s.padMode,
      minScale: s.minScale,
    };
  }
}

function centreSquare(width: number, height: number) {
  const side = Math.min(width, height);
  return {
    left: Math.floor((width - side) / 2),
    top: Math.floor((height - side) / 2),
    width: side,
    height: side,
  };
}

/** Brightness and contrast of each image of a batch. */
export interface LightingPlan {
  /** Brightness per image (0.5 = unchanged). */
  readonly brightness: number[];
  /** Contrast per image (1 = unchanged). */
  readonly contrast: number[];
}

/**
 * The lighting half of {@link augTransforms}: brightness then contrast, in logit space, each
 * with probability `pLighting`, per image; training only.
 *
 * @example
 * ```ts
 * const [, light] = tsf.augTransforms();
 * ```
 */
export class LightingAugment implements BatchTransform {
  /** Registry name. */
  readonly name = 'LightingAugment';
  /** After the affine part. */
  readonly order = 40;
  /** Largest change (after `mult`). */
  readonly maxLighting: number;
  /** Probability of each of brightness and contrast. */
  readonly pLighting: number;
  /** The CPU executor runs it as its lighting stage, with the same draws. @internal */
  readonly cpuStep: CpuLightingStep = { stage: 'lighting', plan: (n, ctx) => this.plan(n, ctx) };

  /**
   * @param maxLighting - Largest change.
   * @param pLighting - Probability of each change.
   */
  constructor(maxLighting: number, pLighting: number) {
    this.maxLighting = maxLighting;
    this.pLighting = pLighting;
  }

  /**
   * Draws brightness (uniform in 0.5 (1 +- maxLighting)) and contrast (log-uniform in
   * [1 - maxLighting, 1 / (1 - maxLighting)]) per image, as fastai does.
   * @param n - Batch size.
   * @param ctx - Training flag and the batch generator.
   * @returns The draws, or `undefined` in validation.
   * @example
   * ```ts
   * const light = new tsf.LightingAugment(0.2, 0.75);
   * const plan = light.plan(64, { training: true, rng });
   * ```
   */
  plan(n: number, ctx: BatchTransformContext): LightingPlan | undefined {
    if (!ctx.training) return undefined;
    const m = this.maxLighting;
    const brightness: number[] = [];
    const contrast: number[] = [];
    for (let i = 0; i < n; i++) {
      brightness.push(
        ctx.rng.bernoulli(this.pLighting) ? ctx.rng.uniform(0.5 * (1 - m), 0.5 * (1 + m)) : 0.5,
      );
    }
    for (let i = 0; i < n; i++) {
      contrast.push(
        ctx.rng.bernoulli(this.pLighting)
          ? Math.exp(ctx.rng.uniform(Math.log(1 - m), -Math.log(1 - m)))
          : 1,
      );
    }
    return { brightness, contrast };
  }

  /**
   * Applies this batch's brightness and contrast.
   * @param xs - Images `[N, H, W, C]` in [0, 1].
   * @param ctx - Training flag and the batch generator.
   * @returns A new tensor.
   * @example
   * ```ts
   * const light = new tsf.LightingAugment(0.2, 0.75);
   * const ys = light.apply(xs, { training: true, rng });
   * ```
   */
  apply(xs: tf.Tensor, ctx: BatchTransformContext): tf.Tensor {
    const plan = this.plan(xs.shape[0]!, ctx);
    if (!plan) return xs.clone();
    return lighting(xs as tf.Tensor4D, plan.brightness, plan.contrast);
  }

  /**
   * @returns The settings as JSON.
   * @example
   * ```ts
   * const light = new tsf.LightingAugment(0.2, 0.75);
   * light.toConfig(); // { name: 'LightingAugment', maxLighting: 0.2, pLighting: 0.75 }
   * ```
   */
  toConfig(): JsonObject {
    return { name: this.name, maxLighting: this.maxLighting, pLighting: this.pLighting };
  }
}

/**
 * fastai's `aug_transforms` with its defaults: random flip, perspective warp, rotation, zoom
 * (one matrix, one resampling with reflection padding) and brightness/contrast in logit
 * space, each image drawn separately; `minScale < 1` adds a random resized crop to `size`.
 *
 * @param options - See {@link AugTransformsOptions}.
 * @returns The batch transforms (affine, then lighting when `maxLighting > 0`).
 * @throws {@link ValueError} on an out-of-range option or an unknown key.
 * @remarks Differs from fastai: the random resized crop joins the same single resampling
 *   (fastai resamples it separately), and fastai's extra area pre-downscale before large
 *   downsampling is not done.
 * @example
 * ```ts
 * const batchTfms = tsf.augTransforms({ size: 224, minScale: 0.75 });
 * ```
 */
export function augTransforms(options: AugTransformsOptions = {}): BatchTransform[] {
  checkOptionKeys('augTransforms', options, AUG_KEYS);
  const mult = options.mult ?? 1;
  const maxRotate = (options.maxRotate ?? 10) * mult;
  const maxLighting = (options.maxLighting ?? 0.2) * mult;
  const maxWarp = (options.maxWarp ?? 0.2) * mult;
  const minZoom = options.minZoom ?? 1;
  const maxZoom = options.maxZoom ?? 1.1;
  const pAffine = options.pAffine ?? 0.75;
  const pLighting = options.pLighting ?? 0.75;
  const minScale = options.minScale ?? 1;
  const padMode = options.padMode ?? 'reflection';
  const mode = options.mode ?? 'bilinear';
  if (mode !== 'bilinear') throw invalidValue('mode', "'bilinear'", mode);
  if (!['reflection', 'zeros', 'border'].includes(padMode)) {
    throw invalidValue('padMode', "one of 'reflection', 'zeros', 'border'", padMode);
  }
  for (const [k, v] of [
    ['pAffine', pAffine],
    ['pLighting', pLighting],
  ] as const) {
    if (!(v >= 0 && v <= 1)) throw invalidValue(k, 'a probability in [0, 1]', v);
  }
  if (!(maxLighting >= 0 && maxLighting < 1))
    throw invalidValue('maxLighting', 'in [0, 1)', maxLighting);
  if (!(minZoom > 0 && minZoom <= maxZoom))
    throw invalidValue('minZoom', 'in (0, maxZoom]', minZoom);
  if (!(minScale > 0 && minScale <= 1)) throw invalidValue('minScale', 'in (0, 1]', minScale);
  if (minScale !== 1 && options.size === undefined) {
    throw invalidValue('size', 'set when minScale < 1 (the crop is resized to it)', options.size);
  }
  const size = options.size === undefined ? undefined : toHeightWidth('size', options.size);
  const out: BatchTransform[] = [
    new AffineAugment({
      doFlip: options.doFlip ?? true,
      flipVert: options.flipVert ?? false,
      maxRotate,
      minZoom,
      maxZoom,
      maxWarp,
      pAffine,
      size,
      padMode,
      minScale,
    }),
  ];
  if (maxLighting > 0) out.push(new LightingAugment(maxLighting, pLighting));
  return out;
}

registerTransform(
  'AffineAugment',
  (cfg) =>
    new AffineAugment({
      doFlip: cfg.doFlip as boolean,
      flipVert: cfg.flipVert as boolean,
      maxRotate: cfg.maxRotate as number,
      minZoom: cfg.minZoom as number,
      maxZoom: cfg.maxZoom as number,
      maxWarp: cfg.maxWarp as number,
      pAffine: cfg.pAffine as number,
      size: (cfg.size as [number, number] | null) ?? undefined,
      padMode: cfg.padMode as GridPadMode,
      minScale: cfg.minScale as number,
    }),
);
registerTransform(
  'LightingAugment',
  (cfg) => new LightingAugment(cfg.maxLighting as number, cfg.pLighting as number),
);
