/**
 * The Learner's gradient call: {@link lowMemoryVariableGrads} (tf.variableGrads's values, with
 * the backward pass's memory freed as it goes) that also frees its tape when the function
 * throws. The tape keeps a copy of
 * every tensor a kernel saves for its gradient and frees them only after a successful
 * backward pass: a hook that throws (or cancels) inside the tape would otherwise leak
 * hundreds of tensors per batch.
 */
import * as tf from '@tensorflow/tfjs';
import { lowMemoryVariableGrads } from './low-memory-grads.js';

/**
 * Frees what a gradient tape abandoned by an exception still holds: the copies its kernels
 * saved for the backward pass. Does nothing inside an enclosing gradient computation (the
 * outer tape still owns them) or when no tape was left.
 * @example
 * ```ts
 * const weight = tf.variable(tf.ones([2]));
 * try {
 *   tf.variableGrads(() => {
 *     const loss = weight.square().sum() as tf.Scalar;
 *     throw new Error(`a hook failed at loss ${loss.dataSync()[0]}`);
 *   });
 * } catch {
 *   // the error is reported elsewhere; the tape's saved tensors must not leak
 * } finally {
 *   releaseAbandonedTape();
 * }
 * ```
 */
export function releaseAbandonedTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) {
    for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
  }
  state.activeTape = null as unknown as typeof state.activeTape;
}

/**
 * {@link lowMemoryVariableGrads}, with the tape released when `f` throws.
 * @param f - The loss function (synchronous).
 * @param varList - Variables to differentiate.
 * @returns The loss and the gradients, as `tf.variableGrads` would return them.
 * @throws Whatever `f` throws, after freeing the tape.
 * @example
 * ```ts
 * const weight = tf.variable(tf.tensor1d([1, 2]));
 * const { value, grads } = variableGradsSafe(() => weight.square().sum() as tf.Scalar, [weight]);
 * grads[weight.name]!.print(); // [2, 4]
 * tf.dispose([value, grads[weight.name]!, weight]);
 * ```
 */
export function variableGradsSafe(
  f: () => tf.Scalar,
  varList: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  try {
    return lowMemoryVariableGrads(f, varList);
  } catch (err) {
    releaseAbandonedTape();
    throw err;
  }
}
