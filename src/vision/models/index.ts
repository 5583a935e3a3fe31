/**
 * Architectures (torchvision ResNets, Keras MobileNets) as tfjs layers, fastai's head, the
 * architecture registry and pretrained-weight loaders (safetensors, tfjs LayersModel folders).
 * @packageDocumentation
 */
export {
  type ArchBuildOptions,
  type ArchSpec,
  archNames,
  cutModel,
  defineArch,
  getArch,
  type MobilenetArchOptions,
  mobilenetV1,
  mobilenetV2,
  registerArch,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  type VisionArch,
} from './archs.js';
export { BatchNorm, type BatchNormArgs } from './batch-norm.js';
export { type BatchNormInferenceOptions, batchNormInference } from './batch-norm-inference.js';
export {
  type BatchNormKernels,
  type BatchNormTrainingOptions,
  type BatchNormTrainingResult,
  batchNormTraining,
} from './batch-norm-training.js';
export { createHead, type Head, type HeadOptions } from './head.js';
export type { BaseLayerArgs } from './layer-args.js';
export {
  type LoadPretrainedWeightsOptions,
  loadPretrainedWeights,
  type WeightsFormat,
  weightsFormatOf,
} from './load-weights.js';
export {
  buildMobilenetV1,
  buildMobilenetV2,
  MOBILENET_V1_CUT,
  MOBILENET_V2_CUT,
  type MobilenetOptions,
} from './mobilenet.js';
export { ReLU6, type ReLU6Args, relu6 } from './relu6.js';
export {
  buildResnet,
  RESNET_CONFIGS,
  type ResnetConfig,
  type ResnetDepth,
  type ResnetOptions,
  resnetCut,
} from './resnet.js';
export {
  type NamedArray,
  parseSafetensors,
  readSafetensors,
  type Safetensors,
} from './safetensors.js';
export { SeededDropout, type SeededDropoutArgs } from './seeded-dropout.js';
export { SigmoidRange, type SigmoidRangeArgs, withSigmoidRange } from './sigmoid-range.js';
export {
  loadTfjsModel,
  readTfjsModelFiles,
  readTfjsWeights,
  type TfjsModelFiles,
} from './tfjs-folder.js';
export {
  type AssignWeightsOptions,
  assignNamedWeights,
  kerasNaming,
  type NamingConvention,
  torchNaming,
  type WeightConversion,
  type WeightLoadReport,
  type WeightSourceEntry,
} from './weight-map.js';
