/**
 * A training-mode forward pass of a functional model that frees each layer's output as soon
 * as the last layer reading it has run.
 *
 * tfjs-layers frees intermediate outputs during inference only (its executor keeps every one
 * in training mode, for the gradient tape), so a training forward pass holds every activation
 * it ever made until the pass ends: a BatchNorm output that only the next activation reads,
 * a padding, a concatenation. The tape never needs those objects: it keeps its own references
 * (clones sharing memory) to the tensors each gradient reads, and only the ids and shapes of
 * the rest. Freeing them as the graph is walked leaves the forward pass holding what the
 * backward pass will read, and nothing else, as PyTorch's autograd does.
 */
import * as tf from '@tensorflow/tfjs';

/** The graph fields of a functional model (public in tfjs-layers' `Container`). */
interface GraphNode {
  outboundLayer: tf.layers.Layer;
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
  callArgs?: Record<string, unknown>;
}
interface Graph {
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
  nodesByDepth: Record<string, GraphNode[]>;
}

/** The functional graph to walk: the model's own, or a `Sequential`'s inner model. */
function graphOf(model: tf.LayersModel): Graph | undefined {
  const inner = (model as unknown as { model?: tf.LayersModel }).model;
  const g = (model instanceof tf.Sequential && inner ? inner : model) as unknown as Partial<Graph>;
  if (!g.nodesByDepth || g.inputs?.length !== 1 || g.outputs?.length !== 1) return undefined;
  return g as Graph;
}

/**
 * Applies a single-input, single-output model to a concrete batch, as
 * `model.apply(x, { training })`, disposing each intermediate layer output once every layer
 * that reads it has run. The result is the same tensor values; inside a gradient tape the
 * gradients are the same too. Models with several inputs or outputs go through
 * `model.apply` unchanged.
 *
 * @param model - A functional or `Sequential` model.
 * @param x - The input batch (not disposed).
 * @param training - Passed to every layer as `training` (BatchNorm, Dropout).
 * @returns The model's output; the caller disposes it (or the enclosing scope does).
 * @example
 * ```ts
 * const net = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
 * const xb = tf.ones([4, 3]);
 * const out = tsf.lowMemoryApply(net, xb, true); // = net.apply(xb, { training: true })
 * ```
 */
export function lowMemoryApply(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  const graph = graphOf(model);
  if (graph === undefined) return model.apply(x, { training }) as tf.Tensor;
  const depths = Object.keys(graph.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  const readers = new Map<number, number>();
  for (const d of depths) {
    for (const node of graph.nodesByDepth[d]!) {
      for (const t of node.inputTensors) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
    }
  }
  const input = graph.inputs[0]!;
  const output = graph.outputs[0]!;
  const values = new Map<number, tf.Tensor>([[input.id, x]]);
  /** Whether a concrete tensor is still reachable from a symbolic one (layers may pass one through). */
  const live = (t: tf.Tensor) => {
    if (t === x) return true;
    for (const v of values.values()) if (v === t) return true;
    return false;
  };
  for (const d of depths) {
    for (const node of graph.nodesByDepth[d]!) {
      if (node.outboundLayer.getClassName() === 'InputLayer') continue;
      const args = node.inputTensors.map((t) => values.get(t.id));
      if (args.some((a) => a === undefined)) return fallback(model, x, training, values);
      const kwargs = { ...(node.callArgs ?? {}), training };
      const out = node.outboundLayer.apply(
        (args.length === 1 ? args[0] : args) as tf.Tensor | tf.Tensor[],
        kwargs,
      ) as tf.Tensor | tf.Tensor[];
      const outs = Array.isArray(out) ? out : [out];
      node.outputTensors.forEach((t, i) => {
        values.set(t.id, outs[i]!);
      });
      for (const t of node.inputTensors) {
        const left = (readers.get(t.id) ?? 1) - 1;
        readers.set(t.id, left);
        if (left > 0 || t.id === output.id) continue;
        const value = values.get(t.id)!;
        values.delete(t.id);
        if (!live(value)) value.dispose();
      }
    }
  }
  const result = values.get(output.id);
  if (result === undefined) return fallback(model, x, training, values);
  return result;
}

/** Frees what was computed and runs the model the usual way. */
function fallback(
  model: tf.LayersModel,
  x: tf.Tensor,
  training: boolean,
  values: Map<number, tf.Tensor>,
): tf.Tensor {
  for (const v of values.values()) if (v !== x) v.dispose();
  return model.apply(x, { training }) as tf.Tensor;
}
