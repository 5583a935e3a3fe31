/**
 * Gradients of a scalar with respect to variables, as `tf.variableGrads`, with the memory of
 * the backward pass freed as it goes.
 *
 * tfjs-core's `gradients` keeps every tensor the tape saved for the backward pass, every
 * intermediate gradient (one per activation) and every temporary a custom gradient function
 * creates alive until the whole backward pass ends, so a training step peaks at about twice
 * its activations plus the temporaries. PyTorch frees each saved tensor and each gradient as
 * soon as the node that reads it has run. This walk does the same: after a tape node's
 * gradient has run, its saved tensors and the gradients of its outputs are released, and the
 * node's temporaries never outlive it. The gradients are the same kernels in the same order,
 * so the result is identical to `tf.variableGrads`'s.
 */
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../core/errors.js';

/** The tape node tfjs-core records per kernel (tfjs-core's `TapeNode`, not exported). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The engine internals the walk needs (stable across tfjs 4.x; pinned at 4.22.0). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R;
  tidy<R extends tf.TensorContainer>(name: string, f: () => R): R;
}

/**
 * The nodes on a path from one of `xs` to `y`, each with only the inputs that depend on `xs`
 * (tfjs-core's `getFilteredNodesXToY`, which tfjs does not export).
 */
function nodesFromXsToY(tape: TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const t of Object.values(node.inputs)) toY.add(t.id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    filtered.push({ ...node, inputs });
  }
  return filtered;
}

/** What {@link lowMemoryVariableGrads} returns; the caller disposes the tensors. */
export interface LowMemoryGrads {
  /** The value of `f()`. */
  value: tf.Scalar;
  /** The gradient of each variable `f` depends on, by variable name. */
  grads: tf.NamedTensorMap;
}

/**
 * Computes `f()` (a scalar) and its gradients with respect to `varList`, as
 * `tf.variableGrads(f, varList)`, freeing each saved activation and each intermediate
 * gradient as soon as the backward pass has read it (PyTorch's autograd does the same), so a
 * training step needs about half the memory. The values are those of `tf.variableGrads`.
 *
 * @param f - The function to differentiate; must return a scalar.
 * @param varList - The variables to differentiate with respect to (trainable ones).
 * @returns The value of `f` and the gradient of each variable that `f` depends on, keyed by
 *   variable name; the caller disposes them.
 * @throws {@link ValueError} if `f` does not return a scalar or `varList` is empty.
 * @example
 * ```ts
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * const { value, grads } = tsf.lowMemoryVariableGrads(() => tf.sum(tf.square(w)), [w]);
 * // grads[w.name]: [2, 4]
 * ```
 */
export function lowMemoryVariableGrads(
  f: () => tf.Scalar,
  varList: readonly tf.Variable[],
): LowMemoryGrads {
  if (varList.length === 0) {
    throw new ValueError('lowMemoryVariableGrads: `varList` is empty (nothing to differentiate).');
  }
  const engine = tf.engine() as unknown as EngineInternals;
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0) {
    const shape = y instanceof tf.Tensor ? `[${y.shape.join(', ')}]` : typeof y;
    if (y instanceof tf.Tensor) y.dispose();
    releaseTape(engine);
    throw new ValueError(`lowMemoryVariableGrads: f() must return a scalar; it returned ${shape}.`);
  }
  // Nested gradients (a gradient of a gradient) read the tape afterwards: leave it whole.
  const nested = engine.state.gradientDepth > 0;
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesFromXsToY(tape, varList, y);
  let grads: tf.NamedTensorMap;
  try {
    grads = backward(engine, nodes, y, varList, nested);
  } catch (err) {
    // A failed backward pass (the wasm memory guard, a missing gradient) must not leave the
    // loss or the tape's saved tensors behind: tfjs-core's own `gradients` leaks the loss.
    y.dispose();
    if (!nested) releaseTape(engine);
    throw err;
  }
  if (!nested) releaseTape(engine);
  return { value: y as tf.Scalar, grads };
}

/** Walks the tape backwards, freeing as it goes (see {@link lowMemoryVariableGrads}). */
function backward(
  engine: EngineInternals,
  nodes: TapeNode[],
  y: tf.Tensor,
  varList: readonly tf.Variable[],
  nested: boolean,
): tf.NamedTensorMap {
  return engine.tidy('backward', () => {
    const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    /** Disposes a gradient unless the same tensor is still held for another tensor. */
    const release = (t: tf.Tensor) => {
      for (const held of acc.values()) if (held === t) return;
      t.dispose();
    };
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (node.gradient === undefined) {
        throw new Error(
          `Cannot compute gradient: gradient function not found for ${node.kernelName}.`,
        );
      }
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null) as tf.Tensor[];
      // The node's gradient, with every temporary it makes freed on return (tfjs-core runs a
      // custom op's whole gradient outside any scope, so they would live to the end).
      const dxs = tf.tidy(() => {
        const fns = node.gradient!(dys);
        const out: Record<string, tf.Tensor> = {};
        for (const name of Object.keys(node.inputs)) {
          const fn = fns[name];
          if (fn === undefined) {
            throw new Error(
              `Cannot backprop through input ${name}. Available gradients found: ${Object.keys(fns)}.`,
            );
          }
          out[name] = fn();
        }
        return out;
      });
      for (const o of node.outputs) {
        const dy = acc.get(o.id);
        if (dy === undefined) continue;
        acc.delete(o.id);
        release(dy);
      }
      if (!nested) {
        for (const t of node.saved ?? []) t.dispose();
      }
      for (const [name, dx] of Object.entries(dxs)) {
        const x = node.inputs[name]!;
        if (dx.dtype !== 'float32') {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`,
          );
        }
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
          );
        }
        const cur = acc.get(x.id);
        if (cur === undefined) {
          acc.set(x.id, dx);
        } else {
          acc.set(x.id, tf.add(cur, dx));
          release(cur);
          release(dx);
        }
      }
    }
    const out: tf.NamedTensorMap = {};
    for (const v of varList) {
      const g = acc.get(v.id);
      if (g !== undefined) out[v.name] = g;
    }
    return out;
  });
}

/** Frees what the tape still holds (nodes off the x-to-y paths) and closes it. */
function releaseTape(engine: EngineInternals): void {
  if (engine.state.gradientDepth > 0) return;
  for (const node of engine.state.activeTape ?? []) {
    for (const t of node.saved ?? []) t.dispose();
  }
  engine.state.activeTape = null;
}
