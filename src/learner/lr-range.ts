/**
 * Discriminative learning rates: fastai's `slice(a, b)` as an explicit value.
 */
import { invalidValue } from '../core/errors.js';

/**
 * A range of learning rates spread over the parameter groups (see {@link lrRange}).
 * @example
 * ```ts
 * const range: tsf.LrRange = tsf.lrRange(1e-5, 1e-3); // { kind: 'lrRange', start: 1e-5, end: 1e-3 }
 * await learn.fitOneCycle(3, range);
 * ```
 */
export interface LrRange {
  /** Discriminator for type guards. */
  readonly kind: 'lrRange';
  /** Rate of the first group; `undefined` means `end / 10` for all groups but the last. */
  readonly start: number | undefined;
  /** Rate of the last group. */
  readonly end: number;
}

/**
 * A learning rate (or any hyper-parameter): one value, one per group, or a range.
 * @example
 * ```ts
 * const lr: tsf.HyperValue = tsf.lrRange(1e-5, 1e-3); // or 1e-3, or [1e-5, 1e-4, 1e-3]
 * await learn.fitOneCycle(3, lr);
 * ```
 */
export type HyperValue = number | readonly number[] | LrRange;

/**
 * Discriminative learning rates, fastai's `slice`: `lrRange(a, b)` gives rates log-spaced
 * from `a` (first group) to `b` (last group); `lrRange(b)` gives `b / 10` to every group but
 * the last and `b` to the last.
 *
 * @param startOrEnd - `a` when two arguments are given, else `b`.
 * @param end - `b`, the rate of the last group.
 * @returns The range; optimizers expand it with `expandHyper`.
 * @throws {@link ValueError} if a rate is not a positive finite number.
 * @example
 * ```ts
 * await learn.fitOneCycle(10, tsf.lrRange(1e-5, 1e-3));
 * expandHyper(tsf.lrRange(1e-5, 1e-3), 3); // [1e-5, 1e-4, 1e-3]
 * ```
 */
export function lrRange(startOrEnd: number, end?: number): LrRange {
  const [start, stop] = end === undefined ? [undefined, startOrEnd] : [startOrEnd, end];
  if (!(Number.isFinite(stop) && stop > 0)) throw invalidValue('end', 'a positive number', stop);
  if (start !== undefined && !(Number.isFinite(start) && start > 0)) {
    throw invalidValue('start', 'a positive number', start);
  }
  return { kind: 'lrRange', start, end: stop };
}

/**
 * fastai's `even_mults`: `n` values from `start` to `end`, evenly spaced in log scale.
 *
 * @param start - First value.
 * @param end - Last value.
 * @param n - How many values.
 * @returns The values (just `[end]` when `n === 1`).
 * @example
 * ```ts
 * evenMults(1e-5, 1e-3, 3); // [1e-5, 1e-4, 1e-3]
 * ```
 */
export function evenMults(start: number, end: number, n: number): number[] {
  if (n === 1) return [end];
  const step = (end / start) ** (1 / (n - 1));
  return Array.from({ length: n }, (_, i) => start * step ** i);
}

/**
 * Expands a hyper-parameter value to one number per parameter group, as fastai's
 * `Optimizer.set_hyper` does.
 *
 * @param value - One number, one per group, or an {@link LrRange}.
 * @param nGroups - Number of parameter groups.
 * @returns One value per group.
 * @throws {@link ValueError} if an array's length is not `nGroups`.
 * @example
 * ```ts
 * expandHyper(tsf.lrRange(1e-3), 3); // [1e-4, 1e-4, 1e-3]
 * ```
 */
export function expandHyper(value: HyperValue, nGroups: number): number[] {
  if (typeof value === 'number') return Array.from({ length: nGroups }, () => value);
  if (isLrRange(value)) {
    if (value.start !== undefined) return evenMults(value.start, value.end, nGroups);
    return [...Array.from({ length: nGroups - 1 }, () => value.end / 10), value.end];
  }
  if (value.length === 1) return Array.from({ length: nGroups }, () => value[0] as number);
  if (value.length !== nGroups) {
    throw invalidValue('value', `one number or one per parameter group (${nGroups})`, value);
  }
  return [...value];
}

/**
 * Whether `value` is an {@link LrRange}.
 * @param value - Anything.
 * @returns True for a range made by {@link lrRange}.
 * @example
 * ```ts
 * tsf.isLrRange(tsf.lrRange(1e-3)); // true
 * ```
 */
export function isLrRange(value: unknown): value is LrRange {
  return typeof value === 'object' && value !== null && (value as LrRange).kind === 'lrRange';
}
