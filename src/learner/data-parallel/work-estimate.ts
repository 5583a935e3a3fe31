/**
 * How much arithmetic one sample costs a model, to decide whether splitting a batch over threads
 * pays: each split step copies the weights and gradients and meets at every BatchNorm, which
 * costs more than it saves on small models (a dense 256-256-128-10 net trained 1.8x slower in
 * CPU time on two threads than on one, `bench/loop.ts`).
 */
import type * as tf from '@tensorflow/tfjs';
import { flattenLayers } from '../param-groups.js';

/**
 * Work (multiply-adds per slice) under which a batch is not split unless the user asked for a
 * thread count: about 30 ms of one wasm thread, where the split's fixed costs stop mattering.
 */
export const MIN_PARALLEL_SLICE_MACS = 100e6;

const estimates = new WeakMap<tf.LayersModel, number>();

/** Elements of a layer's single output per sample, or 0 if it has no static single output. */
function outputElements(layer: tf.layers.Layer): number {
  let shape: unknown;
  try {
    shape = layer.outputShape;
  } catch {
    return 0;
  }
  if (!Array.isArray(shape) || shape.some((d) => Array.isArray(d))) return 0;
  return (shape as (number | null)[]).slice(1).reduce<number>((a, d) => a * (d ?? 0), 1);
}

/**
 * Multiply-adds of one sample's forward pass, from each layer's output size and its kernels'
 * fan-in (a convolution's `kh * kw * cin` per output, a dense layer's inputs, a depthwise
 * convolution's `kh * kw`). A proxy, not a count: enough to tell a toy model from a CNN.
 * @param model - The model (inputs with a static shape).
 * @returns Multiply-adds per sample (0 when shapes are not static).
 * @example
 * ```ts no-run (internal; needs a built model)
 * estimateMacsPerSample(model); // MobileNet v1 0.75 at 224 px: ~5e8
 * ```
 * @internal
 */
export function estimateMacsPerSample(model: tf.LayersModel): number {
  const cached = estimates.get(model);
  if (cached !== undefined) return cached;
  let macs = 0;
  for (const layer of flattenLayers(model)) {
    const out = outputElements(layer);
    if (out === 0) continue;
    const depthwise = layer.getClassName() === 'DepthwiseConv2D';
    for (const w of layer.weights) {
      const shape = w.shape;
      if (shape.length < 2) continue;
      const taps = depthwise ? shape.slice(0, -2) : shape.slice(0, -1);
      const fanIn = taps.reduce<number>((a, d) => a * (d ?? 0), 1);
      macs += out * fanIn;
    }
  }
  estimates.set(model, macs);
  return macs;
}
