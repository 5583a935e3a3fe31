export {
  AffineAugment,
  type AffinePlan,
  type AffineSettings,
  type AugTransformsOptions,
  augTransforms,
  LightingAugment,
  type LightingPlan,
} from './aug-transforms.js';
export {
  Brightness,
  Contrast,
  type LightingTfmOptions,
} from './brightness-contrast.js';
export {
  cpuAugmentBatch,
  cpuExecutorAccepts,
  noticeTensorFallback,
  useCpuExecutor,
} from './cpu-executor.js';
export {
  type CpuAffineStep,
  type CpuExecutableTransform,
  type CpuLightingStep,
  type CpuNormalizeStep,
  type CpuStep,
  cpuStepOf,
  cpuStepRefusal,
} from './cpu-step.js';
export { Dihedral, type DihedralOptions, dihedral, dihedralMat } from './dihedral.js';
export type { GeometryPlan } from './geometry-plan.js';
export { type GridPadMode, gridSample } from './grid-sample.js';
export { LOGIT_EPS, lighting, logit } from './lighting.js';
export {
  applyMat,
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
