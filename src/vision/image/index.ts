export {
  type DecodeOptions,
  decodeError,
  decodeImage,
  decodeSettings,
  type ImageSource,
  imageSize,
  openImage,
  type RGBImage,
  readRaw,
} from './decode.js';
export { ImageBlock, type ImageBlockOptions } from './image-block.js';
export {
  applyItemTransforms,
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
