/**
 * Automatic micro-batching: a training batch that does not fit the wasm heap is split into
 * micro-batches whose gradients are accumulated before the one optimizer step, as the
 * `GradientAccumulation` callback does over smaller loader batches.
 */
import * as tf from '@tensorflow/tfjs';
import { isOutOfEngineMemory } from '../backend/index.js';
import { lowMemoryVariableGrads } from './low-memory-grads.js';

/** What one micro-batch's forward pass gives: the predictions and the (mean) loss. */
export interface MicroBatchForward {
  /** Predictions of the micro-batch. */
  pred: tf.Tensor;
  /** Its loss, a mean over its samples. */
  loss: tf.Scalar;
}

/** The accumulated result of a batch taken in micro-batches; the caller owns the tensors. */
export interface MicroBatchResult {
  /** Predictions of the whole batch, in order. */
  pred: tf.Tensor;
  /** Loss of the whole batch: the micro-batch losses weighted by their share. */
  loss: tf.Scalar;
  /** Gradient per variable: the sum of each micro-batch's, scaled by its share. */
  grads: Map<tf.Variable, tf.Tensor>;
}

/**
 * Forward and backward of a batch in micro-batches of `size` samples: the gradient of each is
 * scaled by `its size / batch size` and summed, exactly as `GradientAccumulation` with
 * `nAcc` = the batch size does over loader batches of `size`, so the step that follows is
 * the same. BatchNorm normalises each micro-batch with its own statistics.
 *
 * @param xb - Inputs of the whole batch.
 * @param yb - Targets of the whole batch.
 * @param size - Samples per micro-batch (the last may be smaller).
 * @param vars - Trainable variables.
 * @param forward - One micro-batch's forward pass and loss (runs inside the gradient tape).
 * @returns Predictions, loss and gradients of the batch; the caller disposes them.
 * @example
 * ```ts
 * const net = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
 * const xb = tf.randomNormal([8, 3]);
 * const yb = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], 'int32'), 2);
 * const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
 * const { pred, loss, grads } = tsf.accumulateMicroBatches(xb, yb, 4, vars, (x, y) => {
 *   const pred = net.apply(x, { training: true }) as tf.Tensor;
 *   return { pred, loss: tf.losses.softmaxCrossEntropy(y, pred) as tf.Scalar };
 * });
 * ```
 */
export function accumulateMicroBatches(
  xb: tf.Tensor,
  yb: tf.Tensor,
  size: number,
  vars: readonly tf.Variable[],
  forward: (x: tf.Tensor, y: tf.Tensor) => MicroBatchForward,
): MicroBatchResult {
  const n = xb.shape[0] as number;
  let acc: Map<tf.Variable, tf.Tensor> | undefined;
  const preds: tf.Tensor[] = [];
  let loss: tf.Scalar | undefined;
  try {
    for (let start = 0; start < n; start += size) {
      const len = Math.min(size, n - start);
      const scale = len / n;
      const x = tf.slice(xb, start, len);
      const y = tf.slice(yb, start, len);
      let pred: tf.Tensor | undefined;
      let step: ReturnType<typeof lowMemoryVariableGrads>;
      try {
        step = lowMemoryVariableGrads(() => {
          const out = forward(x, y);
          pred = tf.keep(out.pred);
          return out.loss;
        }, vars);
      } catch (err) {
        pred?.dispose();
        throw err;
      } finally {
        tf.dispose([x, y]);
      }
      preds.push(pred as unknown as tf.Tensor);
      const { value, grads } = step;
      // The same operations, in the same order, as GradientAccumulation.afterBackward.
      const next = new Map<tf.Variable, tf.Tensor>();
      for (const v of vars) {
        const g = grads[v.name];
        if (g === undefined) continue;
        const prev = acc?.get(v);
        next.set(
          v,
          tf.tidy(() => (prev ? prev.add(g.mul(scale)) : g.mul(scale))),
        );
      }
      if (acc !== undefined) tf.dispose([...acc.values()]);
      acc = next;
      const prevLoss = loss;
      loss = tf.tidy(() => {
        const part = tf.mul(value, scale) as tf.Scalar;
        return prevLoss ? (tf.add(prevLoss, part) as tf.Scalar) : part;
      });
      tf.dispose([value, grads, prevLoss as tf.Tensor]);
    }
    const pred = preds.length === 1 ? (preds[0] as tf.Tensor) : tf.concat(preds, 0);
    if (preds.length > 1) tf.dispose(preds);
    return { pred, loss: loss as tf.Scalar, grads: acc ?? new Map() };
  } catch (err) {
    tf.dispose(preds);
    if (loss) loss.dispose();
    if (acc) tf.dispose([...acc.values()]);
    throw err;
  }
}

/**
 * Decides, per input shape and batch size, whether a training batch is taken whole or in
 * micro-batches: it tries the whole batch once; if the wasm memory guard refuses it, the
 * batch's side effects (BatchNorm's moving statistics) are undone and it is retried in
 * micro-batches of half the size, then a quarter, ..., and the size that fits is kept for
 * the next batches of that shape. The logger is told once per shape.
 * @internal
 */
export class MicroBatching {
  /** Micro-batch size by batch shape (`"64x224x224x3"`); the batch size itself when it fits. */
  private readonly sizes = new Map<string, number>();

  /**
   * @param log - Where the one message per shape goes.
   */
  constructor(private readonly log: (line: string) => void) {}

  /**
   * Runs the backward pass of one batch, whole or split.
   * @param xb - The batch's inputs.
   * @param model - The model (its non-trainable weights are restored after a refused try).
   * @param enabled - Whether splitting is allowed (the learner's `autoMicroBatch`).
   * @param whole - The usual backward pass of the whole batch.
   * @param split - The backward pass in micro-batches of the given size.
   */
  backward(
    xb: tf.Tensor,
    model: tf.LayersModel,
    enabled: boolean,
    whole: () => void,
    split: (size: number) => void,
  ): void {
    const bs = xb.shape[0] as number;
    const key = xb.shape.join('x');
    const known = this.sizes.get(key);
    if (!enabled || known === bs) {
      whole();
      return;
    }
    let size = known ?? bs;
    for (;;) {
      const saved = known === undefined || size !== known ? snapshot(model) : undefined;
      try {
        if (size === bs) whole();
        else split(size);
        if (saved) tf.dispose(saved.map(([, t]) => t));
        break;
      } catch (err) {
        if (saved) restore(saved);
        if (!isOutOfEngineMemory(err) || size <= 1) throw err;
        size = Math.ceil(size / 2);
      }
    }
    this.sizes.set(key, size);
    if (size < bs && known === undefined) {
      const px = xb.rank === 4 ? ` at ${xb.shape[1]}x${xb.shape[2]} px` : '';
      const k = Math.ceil(bs / size);
      this.log(
        `bs ${bs} does not fit the wasm heap${px}: ${k} micro-batches of ${size}; BatchNorm sees ` +
          `${size} images at a time (the step, the schedule and the metrics stay those of bs ` +
          `${bs}; pass \`autoMicroBatch: false\` to the Learner to turn this off).`,
      );
    }
  }
}

/** Copies of the model's non-trainable weights (BatchNorm's moving statistics). */
function snapshot(model: tf.LayersModel): [tf.LayerVariable, tf.Tensor][] {
  return model.nonTrainableWeights.map((w) => [w, tf.clone(w.read())]);
}

function restore(saved: [tf.LayerVariable, tf.Tensor][]): void {
  for (const [w, t] of saved) {
    w.write(t);
    t.dispose();
  }
}
