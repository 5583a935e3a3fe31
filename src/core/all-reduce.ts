/**
 * The hook through which per-sample statistics are averaged across the threads of a
 * data-parallel training step. Batch normalisation (in `vision/`) asks it for the batch mean
 * of its channel statistics; the data-parallel engine (in `learner/`) installs the one that
 * sums every thread's slice in shared memory. Without an installed hook the statistics are
 * the thread's own, as on one thread. It lives here, below both, so neither imports the other.
 */

/**
 * Averages `values` (a mean over `count` samples of this thread's slice) with the same values
 * of every other thread, each weighted by its count; returns the mean over the whole batch.
 * Every thread calls it the same number of times in the same order.
 * @example
 * ```ts
 * const alone: tsf.AllReduceMean = (values) => values; // one thread: its mean is the batch's
 * ```
 */
export type AllReduceMean = (values: Float32Array, count: number) => Float32Array;

let current: AllReduceMean | undefined;

/**
 * Installs the cross-thread mean (or removes it with `undefined`) for this thread.
 * @param fn - The hook, or `undefined` for none.
 * @returns The hook installed before, to restore afterwards.
 * @example
 * ```ts
 * const before = tsf.setAllReduceMean((values) => values);
 * try {
 *   // ... a training step ...
 * } finally {
 *   tsf.setAllReduceMean(before);
 * }
 * ```
 */
export function setAllReduceMean(fn: AllReduceMean | undefined): AllReduceMean | undefined {
  const before = current;
  current = fn;
  return before;
}

/**
 * The hook installed on this thread, if any: batch normalisation synchronises its statistics
 * only when one is.
 * @returns The hook, or `undefined` outside a data-parallel step.
 * @example
 * ```ts
 * const reduce = tsf.allReduceMeanHook();
 * const mean = reduce ? reduce(new Float32Array([1, 2]), 8) : new Float32Array([1, 2]);
 * ```
 */
export function allReduceMeanHook(): AllReduceMean | undefined {
  return current;
}

/**
 * Combines per-channel batch statistics with every other thread's in one exchange: `mean`
 * and biased `variance` over this thread's `count` samples in, the whole batch's out (the
 * variance from each slice's own plus its mean's distance to the batch mean, so nothing
 * cancels). Every thread calls it the same number of times in the same order.
 * @internal
 */
export type AllReduceMoments = (
  mean: Float32Array,
  variance: Float32Array,
  count: number,
) => [Float32Array, Float32Array];

let currentMoments: AllReduceMoments | undefined;

/**
 * Installs the one-exchange moments hook beside {@link setAllReduceMean}'s (or removes it
 * with `undefined`). Without it, BatchNorm combines its statistics through the mean hook in
 * two exchanges.
 * @param fn - The hook, or `undefined` for none.
 * @returns The hook installed before, to restore afterwards.
 * @internal
 */
export function setAllReduceMoments(
  fn: AllReduceMoments | undefined,
): AllReduceMoments | undefined {
  const before = currentMoments;
  currentMoments = fn;
  return before;
}

/**
 * The moments hook installed on this thread, if any.
 * @returns The hook, or `undefined`.
 * @internal
 */
export function allReduceMomentsHook(): AllReduceMoments | undefined {
  return currentMoments;
}
