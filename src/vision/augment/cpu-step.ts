/**
 * How a batch transform tells the CPU executor what it can do with it. The fused pass has
 * three stages, run in this order, each at most once: a geometry (one 3x3 matrix per image,
 * resampled from the decoded bytes), a lighting curve (brightness and contrast in logit space),
 * and a per-channel affine map (`Normalize`). A transform that declares a {@link CpuStep} joins
 * that stage; one that does not keeps the whole batch on the tensor path.
 */
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import type { AffinePlan, LightingPlan } from './aug-transforms.js';
import type { GridPadMode } from './grid-sample.js';

/** The geometry stage: per-image matrices, and how to fill outside the image. */
export interface CpuAffineStep {
  /** The stage. */
  readonly stage: 'affine';
  /** Fill outside the source image. */
  readonly padMode: GridPadMode;
  /**
   * Draws the batch's matrices, exactly as the transform's tensor path draws them.
   * @param n - Batch size.
   * @param width - Input width.
   * @param height - Input height.
   * @param ctx - Training flag and the batch generator.
   * @returns The plan, or `undefined` when there is nothing to do.
   */
  plan(
    n: number,
    width: number,
    height: number,
    ctx: BatchTransformContext,
  ): AffinePlan | undefined;
}

/** The lighting stage: per-image brightness and contrast. */
export interface CpuLightingStep {
  /** The stage. */
  readonly stage: 'lighting';
  /**
   * Draws the batch's brightness and contrast, exactly as the tensor path draws them.
   * @param n - Batch size.
   * @param ctx - Training flag and the batch generator.
   * @returns The draws, or `undefined` when there is nothing to do.
   */
  plan(n: number, ctx: BatchTransformContext): LightingPlan | undefined;
}

/** The last stage: `(v - mean[c]) / std[c]` per channel. */
export interface CpuNormalizeStep {
  /** The stage. */
  readonly stage: 'normalize';
  /** Per-channel mean (three channels). */
  readonly mean: readonly number[];
  /** Per-channel standard deviation. */
  readonly std: readonly number[];
}

/** What the CPU executor's fused pass does with a transform: the stage it fills. */
export type CpuStep = CpuAffineStep | CpuLightingStep | CpuNormalizeStep;

/**
 * A batch transform that the CPU executor can run: it declares its {@link CpuStep}. tsfast's
 * `AffineAugment`, `LightingAugment` and `Normalize` do; a custom transform may, by giving the
 * stage's plan (its tensor path must compute the same thing).
 */
export interface CpuExecutableTransform extends BatchTransform {
  /** The stage of the fused pass that runs this transform. */
  readonly cpuStep: CpuStep;
}

const STAGES: readonly CpuStep['stage'][] = ['affine', 'lighting', 'normalize'];

/**
 * The step a transform declares, if it is one the fused pass knows.
 * @param t - A batch transform.
 * @returns Its step, or `undefined` when it declares none (or an unknown stage).
 * @example
 * ```ts
 * cpuStepOf(tsf.Normalize.fromStats(tsf.imagenetStats))?.stage; // 'normalize'
 * ```
 */
export function cpuStepOf(t: BatchTransform): CpuStep | undefined {
  const step = (t as Partial<CpuExecutableTransform>).cpuStep;
  return step !== undefined && STAGES.includes(step.stage) ? step : undefined;
}

/**
 * The first transform the fused pass cannot run: one that declares no step, or one whose
 * stage comes at or before an earlier transform's (each stage runs once, in order).
 * @param tfms - Batch transforms, sorted by `order`.
 * @returns The transform that keeps the batch on the tensor path, or `undefined`.
 * @example
 * ```ts
 * cpuStepRefusal(tsf.augTransforms()); // undefined: the fused pass runs them
 * ```
 */
export function cpuStepRefusal(tfms: readonly BatchTransform[]): BatchTransform | undefined {
  let last = -1;
  for (const t of tfms) {
    const step = cpuStepOf(t);
    const k = step ? STAGES.indexOf(step.stage) : -1;
    if (k <= last) return t;
    last = k;
  }
  return undefined;
}
