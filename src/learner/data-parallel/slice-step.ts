/**
 * Forward and backward of one slice of a data-parallel batch, the same code on the main
 * thread and in the workers: the slice's loss is scaled by its share of the batch, so the
 * gradients of all slices add up to the whole batch's mean-loss gradient, and BatchNorm
 * exchanges its statistics through the shared reducer while the step runs.
 */
import * as tf from '@tensorflow/tfjs';
import { setAllReduceMean, setAllReduceMoments } from '../../core/all-reduce.js';
import { lowMemoryVariableGrads } from '../low-memory-grads.js';
import { releaseAbandonedTape } from '../tape.js';
import type { SharedReducer } from './shared-reducer.js';

/** What one slice gives; the caller disposes the tensors. */
export interface SliceOutput {
  /** The slice's loss times its share. */
  value: tf.Scalar;
  /** Predictions of the slice. */
  pred: tf.Tensor;
  /** Gradient per variable name (scaled by the share). */
  grads: tf.NamedTensorMap;
}

/**
 * Runs one slice with the cross-thread hook installed; on failure it aborts the step for the
 * other threads (they would wait for this one at the next BatchNorm) and frees the tape.
 * @internal
 */
export function sliceStep(
  reducer: SharedReducer,
  vars: readonly tf.Variable[],
  scale: number,
  forward: () => { pred: tf.Tensor; loss: tf.Scalar },
): SliceOutput {
  reducer.beginStep();
  const before = setAllReduceMean((values, count) => reducer.allReduceMean(values, count));
  const beforeMoments = setAllReduceMoments((mean, variance, count) =>
    reducer.allReduceMoments(mean, variance, count),
  );
  let pred: tf.Tensor | undefined;
  try {
    const { value, grads } = lowMemoryVariableGrads(() => {
      const out = forward();
      pred = tf.keep(out.pred);
      return tf.mul(out.loss, scale) as tf.Scalar;
    }, vars);
    return { value, grads, pred: pred as unknown as tf.Tensor };
  } catch (err) {
    reducer.abort();
    pred?.dispose();
    releaseAbandonedTape();
    throw err;
  } finally {
    setAllReduceMean(before);
    setAllReduceMoments(beforeMoments);
  }
}
