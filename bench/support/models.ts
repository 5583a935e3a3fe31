/**
 * The two models of the training-step benchmark, built with tf.layers (the same architectures
 * are built in PyTorch by `bench/torch/train_step.py`).
 */
import * as tf from '@tensorflow/tfjs';
import { lowMemoryApply } from '../../src/learner/low-memory-forward.js';
import type { Optimizer } from '../../src/learner/optimizer.js';
import { variableGradsSafe } from '../../src/learner/tape.js';
import { BatchNorm } from '../../src/vision/models/batch-norm.js';
import { ReLU6 } from '../../src/vision/models/relu6.js';

/** Seeds for the initializers, so cpu and wasm start from the same weights. */
let seedCounter = 0;
function init(seed: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: seed * 1000 + seedCounter++ });
}

/**
 * Small CNN: conv3x3(32)-relu-maxpool2-conv3x3(64)-relu-GAP-dense(10).
 * @param size - Input height and width.
 * @param seed - Initializer seed.
 */
export function smallCnn(size: number, seed = 1): tf.LayersModel {
  seedCounter = 0;
  const input = tf.input({ shape: [size, size, 3] });
  let x = tf.layers
    .conv2d({
      filters: 32,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(seed),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      filters: 64,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(seed),
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 10, kernelInitializer: init(seed) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** MobileNet v1 body: [pointwise filters, depthwise stride] per block, before the width multiplier. */
export const MOBILENET_V1_BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/** tsfast's BatchNorm and ReLU6 layers (what `buildMobilenetV1` uses). */
function bnRelu6(x: tf.SymbolicTensor): tf.SymbolicTensor {
  const bn = new BatchNorm({ momentum: 0.9, epsilon: 1e-5 }).apply(x);
  return new ReLU6().apply(bn) as tf.SymbolicTensor;
}

/**
 * MobileNet v1: conv3x3/2-bn-relu6, 13 depthwise-separable blocks (depthwise3x3-bn-relu6,
 * pointwise-bn-relu6), global average pooling, dense.
 * @param size - Input height and width.
 * @param alpha - Width multiplier.
 * @param classes - Output classes.
 * @param seed - Initializer seed.
 */
export function mobileNetV1(size: number, alpha = 0.25, classes = 1000, seed = 2): tf.LayersModel {
  seedCounter = 0;
  const input = tf.input({ shape: [size, size, 3] });
  let x = tf.layers
    .conv2d({
      filters: Math.round(32 * alpha),
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(seed),
    })
    .apply(input) as tf.SymbolicTensor;
  x = bnRelu6(x);
  for (const [filters, stride] of MOBILENET_V1_BLOCKS) {
    x = tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init(seed),
      })
      .apply(x) as tf.SymbolicTensor;
    x = bnRelu6(x);
    x = tf.layers
      .conv2d({
        filters: Math.round(filters * alpha),
        kernelSize: 1,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(seed),
      })
      .apply(x) as tf.SymbolicTensor;
    x = bnRelu6(x);
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: classes, kernelInitializer: init(seed) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Softmax cross-entropy of a batch: the loss every benchmark step minimises. */
export function batchLoss(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const logits = model.apply(x, { training: true }) as tf.Tensor;
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

/** The variables a training step updates: every trainable weight of the model. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/**
 * The loss of a batch computed as the Learner's training step computes it: the forward pass
 * through `lowMemoryApply` (each layer output freed after its last reader).
 */
export function learnerBatchLoss(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor,
): tf.Scalar {
  const logits = lowMemoryApply(model, x, true);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

/**
 * One training step: forward, backward, optimizer update. A tfjs optimizer goes through
 * `minimize`; a tsfast {@link Optimizer} goes through the Learner's own path (the low-memory
 * forward, `variableGradsSafe`, which frees the backward pass's memory as it goes, then
 * `step`), so the benchmark measures what a user's `fit` runs. Leaves no tensors behind.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer | Optimizer,
  x: tf.Tensor,
  labels: tf.Tensor,
): number {
  if (optimizer instanceof tf.Optimizer) {
    const loss = optimizer.minimize(() => batchLoss(model, x, labels), true) as tf.Scalar;
    const value = loss.dataSync()[0]!;
    loss.dispose();
    return value;
  }
  const vars = trainableVariables(model);
  const { value, grads } = variableGradsSafe(() => learnerBatchLoss(model, x, labels), vars);
  optimizer.step(new Map(vars.map((v) => [v, grads[v.name]!])));
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}

/** Forward pass in inference mode; returns nothing, leaves no tensors. */
export function forward(model: tf.LayersModel, x: tf.Tensor): void {
  tf.tidy(() => {
    (model.predict(x) as tf.Tensor).dataSync();
  });
}
