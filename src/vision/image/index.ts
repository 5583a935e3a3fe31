export { CropPad, type CropPadOptions, FlipItem, type FlipItemOptions } from './crop-pad.js';
export {
  type DecodeOptions,
  decodeError,
  decodeFast,
  decodeImage,
  decodeSettings,
  type ImageSource,
  imageSize,
  openImage,
  type RGBImage,
  readBytes,
  readRaw,
} from './decode.js';
export {
  type CroppedImage,
  decodeForFusedCrop,
  isCroppedImage,
  MAX_SAMPLER_SHRINK,
} from './fused-crop.js';
export { ImageBlock, type ImageBlockOptions } from './image-block.js';
export {
  applyItemTransforms,
  type CropGeometry,
  type ItemTransform,
  type ItemTransformContext,
  type PlannedStep,
  toTensor,
} from './item-transform.js';
export {
  type CropBox,
  drawResizedCrop,
  RandomResizedCrop,
  type RandomResizedCropOptions,
} from './random-resized-crop.js';
export {
  type ImageSize,
  type PadMode,
  Resize,
  type ResizeMethod,
  type ResizeOptions,
  toHeightWidth,
} from './resize.js';
export { turboJpegStatus } from './turbojpeg.js';
