/**
 * How many threads a Learner trains on: its `threads` option, else `TSFAST_THREADS`, else
 * every core the process may use (`os.availableParallelism()`), as PyTorch does.
 */
import { availableParallelism } from 'node:os';
import { invalidValue } from '../../core/errors.js';

/** Environment variable that sets the default thread count of training. */
export const THREADS_ENV_VAR = 'TSFAST_THREADS';

/** A thread count and where it came from. */
export interface ThreadCount {
  /** Threads (main thread included). */
  threads: number;
  /** `option` (the Learner's `threads`), `env` (`TSFAST_THREADS`) or `cores`. */
  source: 'option' | 'env' | 'cores';
}

/**
 * The thread count training uses by default here.
 * @param option - The Learner's `threads` option, if given.
 * @returns The count and its source.
 * @throws {@link ValueError} when the option or `TSFAST_THREADS` is not a positive integer.
 * @example
 * ```ts
 * tsf.trainingThreads(); // { threads: 2, source: 'cores' } on a 2-core machine
 * tsf.trainingThreads(1); // { threads: 1, source: 'option' }
 * ```
 */
export function trainingThreads(option?: number): ThreadCount {
  if (option !== undefined) {
    if (!(Number.isInteger(option) && option >= 1)) {
      throw invalidValue('threads', 'a positive integer', option);
    }
    return { threads: option, source: 'option' };
  }
  const raw = process.env[THREADS_ENV_VAR]?.trim();
  if (raw) {
    const n = Number(raw);
    if (!(Number.isInteger(n) && n >= 1)) {
      throw invalidValue(THREADS_ENV_VAR, 'a positive integer', raw);
    }
    return { threads: n, source: 'env' };
  }
  return { threads: Math.max(1, availableParallelism()), source: 'cores' };
}
