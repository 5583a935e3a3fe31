/**
 * Segmentation: `MaskBlock`, `SegmentationDataLoaders`, `DynamicUnet`/`unetLearner`, mask
 * overlays and results.
 * @packageDocumentation
 */
export {
  type DynamicUnet,
  type DynamicUnetOptions,
  dynamicUnet,
  type UnetSkip,
} from './dynamic-unet.js';
export { type FlipAxis, type FlipTtaOptions, type FlipTtaResult, flipTta } from './flip-tta.js';
export { decodeMask, MaskBlock, type MaskBlockOptions } from './mask-block.js';
export {
  cropGeometryMatrix,
  cropMaskNearest,
  type LabelMask,
  warpMaskNearest,
} from './mask-sample.js';
export { renderMaskResults } from './results-renderer.js';
export {
  SegmentationDataLoaders,
  type SegmentationFromLabelFuncOptions,
} from './segmentation-dataloaders.js';
export { type MaskLayer, maskColor, overlayMask, showMasks } from './show-masks.js';
export {
  denormalize,
  inputStats,
  type ShowSegmentationResultsOptions,
  showSegmentationResults,
} from './show-results.js';
export {
  PixelShuffle,
  type PixelShuffleArgs,
  pixelShuffle,
  ResizeNearest,
  type ResizeNearestArgs,
  SelfAttention,
} from './unet-layers.js';
export { type UnetLearnerOptions, unetLearner } from './unet-learner.js';
