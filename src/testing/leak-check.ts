import * as tf from '@tensorflow/tfjs';
import { TsfastError } from '../core/errors.js';

/**
 * Runs `fn` and fails if `tf.memory().numTensors` differs afterwards: the function must
 * dispose every tensor it creates, including those it returns unless `keep` counts them.
 *
 * A learner's first fit allocates its optimizer's state (one tensor per buffer and trained
 * parameter, on the parameter's first step, as `tf.train` optimizers do), which stays alive
 * on purpose until `learn.opt.clearState()` or `dispose()`: check a later fit, or count the
 * state in `keep` (`learn.opt.bufferNames.length * learn.trainableVariables.length` for a
 * learner that has not stepped yet).
 *
 * @param fn - The work to check.
 * @param keep - Number of tensors the function legitimately leaves alive (for example the
 *   tensors it returns, which the caller disposes). Defaults to 0.
 * @returns The function's result.
 * @throws TsfastError (code `LEAK`) with the before/after counts.
 * @example
 * ```ts
 * await learn.fit(1); // allocates the optimizer state
 * await expectNoLeaks(() => learn.fit(1));
 * const preds = await expectNoLeaks(() => learn.getPreds(), 2);
 * ```
 */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>, keep = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before + keep) {
    throw new TsfastError(
      'LEAK',
      `Tensor leak: ${before} tensors before, ${after} after (expected ${before + keep}` +
        `${keep ? `, counting ${keep} returned` : ''}); ${after - before - keep} not disposed.`,
    );
  }
  return result;
}
