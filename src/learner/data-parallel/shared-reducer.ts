/**
 * Cross-thread means in shared memory for a data-parallel step: each thread writes its slice's
 * statistics to its own slot, waits at a barrier (Atomics), then every thread sums all slots
 * in the same fixed order, so all threads get bit-identical results and a run gives the same
 * numbers every time at a given thread count.
 */
import { BackendError } from '../../core/errors.js';

/** Longest vector one exchange carries: two statistics of a 4096-channel BatchNorm. */
export const MAX_REDUCE_LENGTH = 8192;

// Int32 control words at the start of the buffer.
const COUNT = 0; // threads arrived at the current barrier
const GENERATION = 1; // barriers passed
const ABORT = 2; // a thread failed: everyone waiting gives up
const CONTROL_WORDS = 4;

/** How long a thread waits at a barrier for the others before it reports them hung. */
const BARRIER_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * The shared buffer for `threads` threads.
 * @internal
 */
export function createReducerBuffer(threads: number): SharedArrayBuffer {
  const slots = 2 * threads; // two banks (see SharedReducer.allReduceMean)
  return new SharedArrayBuffer(CONTROL_WORDS * 4 + slots * 8 + slots * MAX_REDUCE_LENGTH * 4);
}

/**
 * One thread's view of the reducer buffer.
 * @internal
 */
export class SharedReducer {
  private readonly control: Int32Array;
  private readonly counts: Float64Array;
  private readonly values: Float32Array;
  private calls = 0;
  private active: number;

  /**
   * @param buffer - From {@link createReducerBuffer}.
   * @param threads - Threads taking part.
   * @param rank - This thread's index (0 is the main thread).
   */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly threads: number,
    private readonly rank: number,
  ) {
    this.active = threads;
    const slots = 2 * threads;
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.counts = new Float64Array(buffer, CONTROL_WORDS * 4, slots);
    this.values = new Float32Array(
      buffer,
      CONTROL_WORDS * 4 + slots * 8,
      slots * MAX_REDUCE_LENGTH,
    );
  }

  /** Starts a step: the call counter back to 0 (every thread does the same calls per step). */
  beginStep(): void {
    this.calls = 0;
  }

  /**
   * Threads taking part in the next step (a batch smaller than the pool uses fewer).
   * @param active - At most the buffer's thread count.
   */
  setThreads(active: number): void {
    this.active = Math.min(active, this.threads);
  }

  /**
   * Clears the barrier and the abort flag; only while no thread is inside a step.
   */
  reset(): void {
    Atomics.store(this.control, COUNT, 0);
    Atomics.store(this.control, ABORT, 0);
  }

  /** Tells the threads waiting at a barrier that this step failed. */
  abort(): void {
    Atomics.store(this.control, ABORT, 1);
    Atomics.notify(this.control, GENERATION);
  }

  /** Whether a thread aborted the current step. */
  get aborted(): boolean {
    return Atomics.load(this.control, ABORT) !== 0;
  }

  /**
   * The count-weighted mean of `values` over all threads (see `AllReduceMean` in core).
   * Two banks of slots alternate: a thread writes bank `k % 2` only after every thread has
   * passed barrier `k - 1`, so nobody still reads what it overwrites.
   * @param values - This thread's means.
   * @param count - Samples they are over.
   * @returns The batch's means (the same array on every thread).
   */
  allReduceMean(values: Float32Array, count: number): Float32Array {
    const n = values.length;
    const bank = this.post(n, count, (all, at) => all.set(values, at));
    const sum = new Float64Array(n);
    let total = 0;
    for (let r = 0; r < this.active; r++) {
      const s = bank * this.threads + r;
      const c = this.counts[s] as number;
      total += c;
      const off = s * MAX_REDUCE_LENGTH;
      for (let i = 0; i < n; i++)
        sum[i] = (sum[i] as number) + (this.values[off + i] as number) * c;
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (sum[i] as number) / total;
    return out;
  }

  /**
   * The whole batch's per-channel mean and biased variance from every thread's own (see
   * `AllReduceMoments` in core), in one exchange: the batch mean is the count-weighted mean
   * of the slices' means, the variance the count-weighted mean of each slice's variance plus
   * its mean's squared distance to the batch mean (no sum-of-squares cancellation), summed
   * in float64 in rank order on every thread.
   * @param mean - This thread's means.
   * @param variance - This thread's biased variances.
   * @param count - Samples they are over.
   * @returns The batch's mean and variance (the same arrays on every thread).
   */
  allReduceMoments(
    mean: Float32Array,
    variance: Float32Array,
    count: number,
  ): [Float32Array, Float32Array] {
    const c = mean.length;
    const bank = this.post(2 * c, count, (values, at) => {
      values.set(mean, at);
      values.set(variance, at + c);
    });
    const mu = new Float64Array(c);
    let total = 0;
    for (let r = 0; r < this.active; r++) {
      const s = bank * this.threads + r;
      const n = this.counts[s] as number;
      total += n;
      const off = s * MAX_REDUCE_LENGTH;
      for (let i = 0; i < c; i++) mu[i] = (mu[i] as number) + (this.values[off + i] as number) * n;
    }
    for (let i = 0; i < c; i++) mu[i] = (mu[i] as number) / total;
    const m2 = new Float64Array(c);
    for (let r = 0; r < this.active; r++) {
      const s = bank * this.threads + r;
      const n = this.counts[s] as number;
      const off = s * MAX_REDUCE_LENGTH;
      for (let i = 0; i < c; i++) {
        const d = (this.values[off + i] as number) - (mu[i] as number);
        m2[i] = (m2[i] as number) + ((this.values[off + c + i] as number) + d * d) * n;
      }
    }
    const outMean = new Float32Array(c);
    const outVar = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      outMean[i] = mu[i] as number;
      outVar[i] = (m2[i] as number) / total;
    }
    return [outMean, outVar];
  }

  /**
   * Writes this thread's `n` values (through `fill`) and count to its slot of the next bank,
   * waits at the barrier, and returns the bank every thread's values are now in.
   */
  private post(n: number, count: number, fill: (values: Float32Array, at: number) => void): number {
    if (n > MAX_REDUCE_LENGTH) {
      throw new BackendError(
        `Data-parallel BatchNorm: ${n} statistics in one exchange, more than the ${MAX_REDUCE_LENGTH} the shared buffer holds (a layer with over ${MAX_REDUCE_LENGTH / 2} channels). Train with threads: 1.`,
      );
    }
    const bank = this.calls++ % 2;
    const slot = bank * this.threads + this.rank;
    fill(this.values, slot * MAX_REDUCE_LENGTH);
    this.counts[slot] = count;
    this.barrier();
    return bank;
  }

  private barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, COUNT, 1) === this.active - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    const deadline = Date.now() + BARRIER_TIMEOUT_MS;
    while (Atomics.load(c, GENERATION) === generation) {
      if (this.aborted)
        throw new BackendError('Data-parallel step aborted: another thread failed.');
      if (Date.now() > deadline) {
        throw new BackendError(
          `Data-parallel step: thread ${this.rank} waited ${BARRIER_TIMEOUT_MS / 60000} min for the others at a BatchNorm exchange; they are stuck. Train with threads: 1.`,
        );
      }
      Atomics.wait(c, GENERATION, generation, 1000);
    }
  }
}
