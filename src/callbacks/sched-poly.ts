/**
 * fastai's `SchedPoly`: a polynomial schedule, for the "poly" learning-rate decay of
 * segmentation papers (`SchedPoly(lr, 0, 0.9)`).
 */
import { invalidValue } from '../core/errors.js';
import type { Schedule } from './schedule.js';

/**
 * Polynomial from `start` to `end`: `start + (end - start) * pos ** power`.
 * @param start - Value at 0.
 * @param end - Value at 1.
 * @param power - Exponent of the position (1 is {@link schedLin}).
 * @returns The schedule.
 * @throws {@link ValueError} if `power` is not a finite number.
 * @example
 * ```ts
 * tsf.schedPoly(0, 2, 0.5)(0.25); // 1
 * ```
 */
export function schedPoly(start: number, end: number, power: number): Schedule {
  if (!Number.isFinite(power)) throw invalidValue('power', 'a finite number', power);
  return (pos) => start + (end - start) * pos ** power;
}
