/**
 * How much arithmetic one sample costs a model, to decide whether splitting a batch over threads
 * pays: each split step copies the weights and gradients and meets at every BatchNorm, which
 * costs more than it saves on small models (a dense 256-256-128-10 net trained 1.8x slower in
 * CPU time on two threads than on one, `bench/loop.ts`).
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * Work (multiply-adds per slice) under which a batch is not split unless the user asked for a
 * thread count: about 30 ms of one wasm thread, where the split's fixed costs stop mattering.
 */
export const MIN_PARALLEL_SLICE_MACS = 100e6;

type Shape = (number | null)[];
type GraphNode = tf.LayersModel['nodesByDepth'][string][number];

const estimates = new WeakMap<tf.LayersModel, Map<string, number>>();

/** A layer that holds layers of its own (a functional model or a `Sequential`). */
function isContainer(layer: tf.layers.Layer): layer is tf.LayersModel {
  const inner = layer as Partial<tf.LayersModel>;
  return Array.isArray(inner.layers) && inner.nodesByDepth !== undefined;
}

function asShapeList(shape: Shape | Shape[]): Shape[] {
  return Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape];
}

function elements(shape: Shape): number {
  return shape.slice(1).reduce<number>((a, d) => a * (d ?? 0), 1);
}

/** Multiply-adds per sample of one leaf layer, from its output size and its kernels' fan-in. */
function layerMacs(layer: tf.layers.Layer, outputs: Shape[]): number {
  if (outputs.length !== 1) return 0;
  const out = elements(outputs[0] as Shape);
  if (out === 0) return 0;
  // A depthwise kernel [kh, kw, cin, mult] has kh * kw taps per output, not kh * kw * cin.
  const depthwise = layer.getClassName() === 'DepthwiseConv2D';
  let macs = 0;
  for (const w of layer.weights) {
    if (w.shape.length < 2) continue;
    const taps = depthwise ? w.shape.slice(0, -2) : w.shape.slice(0, -1);
    macs += out * taps.reduce<number>((a, d) => a * (d ?? 0), 1);
  }
  return macs;
}

/**
 * Walks a container's graph in the order its own `computeOutputShape` does, from concrete input
 * shapes, so that layers built without a fixed height and width (a `visionLearner` body) get
 * their real output sizes; recurses into nested models.
 */
function walk(model: tf.LayersModel, inputs: Shape[], count: (macs: number) => void): Shape[] {
  const shapes = new Map<string, Shape>();
  model.inputLayers.forEach((layer, i) => {
    shapes.set(`${layer.name}_0_0`, inputs[i] ?? []);
  });
  const inputIds = new Set(model.inputLayers.map((l) => l.id));
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of model.nodesByDepth[depth] as GraphNode[]) {
      const layer = node.outboundLayer;
      if (inputIds.has(layer.id)) continue;
      const ins = node.inboundLayers.map(
        (l, j) => shapes.get(`${l.name}_${node.nodeIndices[j]}_${node.tensorIndices[j]}`) ?? [],
      );
      let outs: Shape[];
      if (isContainer(layer)) {
        outs = walk(layer, ins, count);
      } else {
        outs = asShapeList(layer.computeOutputShape(ins.length === 1 ? (ins[0] as Shape) : ins));
        count(layerMacs(layer, outs));
      }
      const nodeIndex = layer.inboundNodes.indexOf(node);
      outs.forEach((s, j) => {
        shapes.set(`${layer.name}_${nodeIndex}_${j}`, s);
      });
    }
  }
  return model.outputLayers.map(
    (l, i) =>
      shapes.get(
        `${l.name}_${model.outputLayersNodeIndices[i]}_${model.outputLayersTensorIndices[i]}`,
      ) ?? [],
  );
}

/**
 * Multiply-adds of one sample's forward pass, from each layer's output size and its kernels'
 * fan-in (a convolution's `kh * kw * cin` per output, a dense layer's inputs, a depthwise
 * convolution's `kh * kw`). A proxy, not a count: enough to tell a toy model from a CNN.
 * Output sizes come from the shape of the batch the model is about to see, because a body built
 * without a fixed height and width (as `visionLearner` builds it) has `null` spatial sizes.
 * @param model - The model.
 * @param sampleShape - One batch's input shape (`[batch, h, w, c]`); defaults to the model's
 *   declared input shape, whose `null` sizes count as 0.
 * @returns Multiply-adds per sample (0 when no size is known).
 * @example
 * ```ts no-run (internal; needs a built model)
 * estimateMacsPerSample(model, [8, 224, 224, 3]); // MobileNet v1 0.75 at 224 px: ~3e8
 * ```
 * @internal
 */
export function estimateMacsPerSample(
  model: tf.LayersModel,
  sampleShape?: readonly number[],
): number {
  const declared = model.inputs.map((t) => t.shape as Shape);
  const inputs =
    sampleShape !== undefined && declared.length === 1
      ? [[null, ...sampleShape.slice(1)] as Shape]
      : declared;
  const key = JSON.stringify(inputs);
  const cache = estimates.get(model) ?? new Map<string, number>();
  estimates.set(model, cache);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let macs = 0;
  try {
    walk(model, inputs, (m) => {
      macs += m;
    });
  } catch {
    // A layer whose computeOutputShape rejects the shape: the forward pass will say why; here
    // it only means no estimate, i.e. the default thread count keeps the batch on one thread.
    macs = 0;
  }
  cache.set(key, macs);
  return macs;
}
