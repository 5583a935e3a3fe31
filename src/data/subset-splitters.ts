/**
 * Splitters that keep part of the items or follow their order: fastai's
 * `RandomSubsetSplitter`, `EndSplitter` and `MaskSplitter`.
 */
import { checkOptionKeys, DataError, invalidValue } from '../core/errors.js';
import { randomFor } from '../core/random.js';
import type { DataSplitter } from './splitters.js';

/** Options of {@link RandomSubsetSplitter}. */
export interface RandomSubsetSplitterOptions {
  /**
   * Seed of the permutation; when absent, drawn from the global generator (`setSeed`).
   * @defaultValue `undefined`
   */
  seed?: number;
}

/**
 * fastai's `RandomSubsetSplitter`: a seeded permutation of the indices; the first
 * `floor(trainSz * n)` go to training, the next `floor(validSz * n)` to validation, the rest
 * are left out (to try an idea on a small part of a large dataset).
 *
 * @param trainSz - Fraction of the items for training, in (0, 1).
 * @param validSz - Fraction of the items for validation, in (0, 1); `trainSz + validSz <= 1`.
 * @param options - Seed.
 * @returns The splitter.
 * @throws {@link ValueError} on a fraction out of range or an unknown option.
 * @example
 * ```ts
 * const [train, valid] = tsf.RandomSubsetSplitter(0.3, 0.1, { seed: 42 })(items); // 30 / 10 of 100
 * ```
 */
export function RandomSubsetSplitter(
  trainSz: number,
  validSz: number,
  options: RandomSubsetSplitterOptions = {},
): DataSplitter {
  checkOptionKeys('RandomSubsetSplitter', options, ['seed']);
  if (!(trainSz > 0 && trainSz < 1)) throw invalidValue('trainSz', 'a number in (0, 1)', trainSz);
  if (!(validSz > 0 && validSz < 1)) throw invalidValue('validSz', 'a number in (0, 1)', validSz);
  if (trainSz + validSz > 1) {
    throw invalidValue('validSz', `at most 1 - trainSz (${1 - trainSz})`, validSz);
  }
  return (items) => {
    const perm = randomFor(options.seed).permutation(items.length);
    const nTrain = Math.trunc(items.length * trainSz);
    const nValid = Math.trunc(items.length * validSz);
    return [perm.slice(0, nTrain), perm.slice(nTrain, nTrain + nValid)];
  };
}

/** Options of {@link EndSplitter}. */
export interface EndSplitterOptions {
  /**
   * Fraction of the items for validation.
   * @defaultValue `0.2`
   */
  validPct?: number;
  /**
   * Validation items are the last ones (else the first ones).
   * @defaultValue `true`
   */
  validLast?: boolean;
}

/**
 * fastai's `EndSplitter`: for ordered data (time series), the last (or first)
 * `floor(validPct * n)` items are validation, in order.
 *
 * @param options - Fraction and end.
 * @returns The splitter.
 * @throws {@link ValueError} if `validPct` is not in [0, 1) or on an unknown option.
 * @remarks Differs from fastai: when `validPct * n` is below 1, fastai's `idxs[:-0]` leaves
 *   training empty; here every item is training.
 * @example
 * ```ts
 * const range10 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
 * tsf.EndSplitter()(range10);                      // [[0..7], [8, 9]]
 * tsf.EndSplitter({ validLast: false })(range10);  // [[2..9], [0, 1]]
 * ```
 */
export function EndSplitter(options: EndSplitterOptions = {}): DataSplitter {
  checkOptionKeys('EndSplitter', options, ['validPct', 'validLast']);
  const validPct = options.validPct ?? 0.2;
  const validLast = options.validLast ?? true;
  if (!(validPct >= 0 && validPct < 1)) {
    throw invalidValue('validPct', 'a number in [0, 1)', validPct);
  }
  return (items) => {
    const idx = items.map((_, i) => i);
    const cut = Math.trunc(validPct * items.length);
    return validLast
      ? [idx.slice(0, idx.length - cut), idx.slice(idx.length - cut)]
      : [idx.slice(cut), idx.slice(0, cut)];
  };
}

/**
 * fastai's `MaskSplitter`: item `i` is validation when `mask[i]` is true.
 *
 * @param mask - One boolean per item.
 * @returns The splitter.
 * @throws {@link DataError} at split time when the mask and the items differ in length.
 * @example
 * ```ts
 * tsf.MaskSplitter([true, false, false, true, false, true])(['a', 'b', 'c', 'd', 'e', 'f']); // [[1, 2, 4], [0, 3, 5]]
 * ```
 */
export function MaskSplitter(mask: readonly boolean[]): DataSplitter {
  return (items) => {
    if (mask.length !== items.length) {
      throw new DataError(
        `MaskSplitter: the mask has ${mask.length} values for ${items.length} items; give one per item.`,
      );
    }
    const train: number[] = [];
    const valid: number[] = [];
    mask.forEach((m, i) => {
      (m ? valid : train).push(i);
    });
    return [train, valid];
  };
}
