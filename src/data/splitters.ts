/**
 * Splitters: functions from the items to `[trainIndices, validIndices]` (fastai's splitters).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { checkOptionKeys, DataError, invalidValue } from '../core/errors.js';
import { type RandomGenerator, randomFor } from '../core/random.js';

/** Indices of the training and validation items. */
export type Splits = [train: number[], valid: number[]];

/** A function from the items to their split. */
export type DataSplitter = (items: readonly unknown[]) => Splits;

/** Options of {@link RandomSplitter}. */
export interface RandomSplitterOptions {
  /**
   * Fraction of the items for validation.
   * @defaultValue `0.2`
   */
  validPct?: number;
  /**
   * Seed of the permutation; when absent, drawn from the global generator (`setSeed`).
   * @defaultValue `undefined`
   */
  seed?: number;
}

/**
 * fastai's `RandomSplitter`: a seeded permutation of the indices; the first
 * `floor(validPct * n)` go to validation, the rest to training.
 *
 * @param options - Validation fraction and seed.
 * @returns The splitter.
 * @throws {@link ValueError} if `validPct` is not in [0, 1).
 * @example
 * ```ts
 * const [train, valid] = tsf.RandomSplitter({ seed: 42 })(files); // 752 / 188 of 940
 * ```
 */
export function RandomSplitter(options: RandomSplitterOptions = {}): DataSplitter {
  checkOptionKeys('RandomSplitter', options, ['validPct', 'seed']);
  const validPct = options.validPct ?? 0.2;
  if (!(validPct >= 0 && validPct < 1))
    throw invalidValue('validPct', 'a number in [0, 1)', validPct);
  return (items) => {
    const perm = randomFor(options.seed).permutation(items.length);
    const cut = Math.trunc(validPct * items.length);
    return [perm.slice(cut), perm.slice(0, cut)];
  };
}

/**
 * fastai's `FuncSplitter`: validation items are those for which `f` is true.
 * @param f - Predicate on an item.
 * @returns The splitter.
 * @example
 * ```ts
 * const splitter = tsf.FuncSplitter((f) => String(f).includes('/valid/'));
 * ```
 */
export function FuncSplitter(f: (item: unknown) => boolean): DataSplitter {
  return (items) => {
    const train: number[] = [];
    const valid: number[] = [];
    items.forEach((item, i) => {
      (f(item) ? valid : train).push(i);
    });
    return [train, valid];
  };
}

/**
 * fastai's `IndexSplitter`: the given indices are validation.
 * @param validIdx - Validation indices.
 * @returns The splitter.
 * @throws {@link DataError} at split time for an index out of range.
 * @example
 * ```ts
 * const splitter = tsf.IndexSplitter([0, 5, 9]);
 * ```
 */
export function IndexSplitter(validIdx: readonly number[]): DataSplitter {
  return (items) => {
    const valid = new Set(validIdx);
    for (const i of valid) {
      if (!Number.isInteger(i) || i < 0 || i >= items.length) {
        throw new DataError(`IndexSplitter: index ${i} is out of range for ${items.length} items.`);
      }
    }
    const train = items.map((_, i) => i).filter((i) => !valid.has(i));
    return [train, [...valid].sort((a, b) => a - b)];
  };
}

/** Options of {@link GrandparentSplitter}. */
export interface GrandparentSplitterOptions {
  /**
   * Grandparent folder name(s) of training files.
   * @defaultValue `'train'`
   */
  trainName?: string | readonly string[];
  /**
   * Grandparent folder name(s) of validation files.
   * @defaultValue `'valid'`
   */
  validName?: string | readonly string[];
}

/**
 * fastai's `GrandparentSplitter`: splits on the name of the folder two levels up
 * (`train/ants/1.jpg`); files under none of the names are left out. With several names, the
 * indices come name by name, as fastai lists them.
 * @param options - Folder names.
 * @returns The splitter.
 * @example
 * ```ts
 * const splitter = tsf.GrandparentSplitter({ validName: 'val' });   // hymenoptera
 * tsf.GrandparentSplitter({ trainName: ['train', 'valid'], validName: 'test' });
 * ```
 */
export function GrandparentSplitter(options: GrandparentSplitterOptions = {}): DataSplitter {
  checkOptionKeys('GrandparentSplitter', options, ['trainName', 'validName']);
  const names = (v: string | readonly string[]): string[] => (typeof v === 'string' ? [v] : [...v]);
  const trainNames = names(options.trainName ?? 'train');
  const validNames = names(options.validName ?? 'valid');
  return (items) => {
    const gps = items.map((item) => basename(dirname(dirname(String(item)))));
    const under = (ns: readonly string[]) =>
      ns.flatMap((n) => gps.flatMap((gp, i) => (gp === n ? [i] : [])));
    return [under(trainNames), under(validNames)];
  };
}

/**
 * fastai's `FileSplitter`: validation items are those whose file name is listed (one per
 * line) in `fname`.
 * @param fname - Text file of validation file names.
 * @returns The splitter.
 * @throws {@link DataError} if the file cannot be read.
 * @example
 * ```ts
 * const splitter = tsf.FileSplitter('valid.txt');
 * ```
 */
export function FileSplitter(fname: string): DataSplitter {
  return (items) => {
    let text: string;
    try {
      text = readFileSync(fname, 'utf8');
    } catch (err) {
      throw new DataError(`FileSplitter: cannot read "${fname}": ${(err as Error).message}`, {
        cause: err,
      });
    }
    const names = new Set(
      text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
        .map((l) => basename(l)),
    );
    return FuncSplitter((item) => names.has(basename(String(item))))(items);
  };
}

/** Options of {@link ColSplitter}. */
export interface ColSplitterOptions {
  /**
   * Validation rows are those whose column equals this value (or one of these values);
   * when absent, those whose column is true (`true`, `'True'`, `'true'`, `1`, `'1'`). A number
   * also matches its text, as CSV cells are text.
   * @defaultValue `undefined`
   */
  on?: string | number | boolean | readonly (string | number | boolean)[];
}

/**
 * fastai's `ColSplitter`: rows whose column `col` is true are validation; with `on`, rows
 * whose column holds that value (or one of those values). A number `col` is a position: in
 * array rows, or among an object row's columns (fastai's `iloc`).
 * @param col - Column name (or position).
 * @param options - The value(s) to split on.
 * @returns The splitter.
 * @throws {@link DataError} at split time if a row lacks the column.
 * @example
 * ```ts
 * const splitter = tsf.ColSplitter('is_valid');
 * tsf.ColSplitter('fold', { on: ['3', '4'] });
 * ```
 */
export function ColSplitter(
  col: string | number = 'is_valid',
  options: ColSplitterOptions = {},
): DataSplitter {
  checkOptionKeys('ColSplitter', options, ['on']);
  const on = options.on;
  const targets = on === undefined ? undefined : (Array.isArray(on) ? on : [on]).map(String);
  return FuncSplitter((row) => {
    const key =
      typeof col === 'number' && typeof row === 'object' && row !== null && !Array.isArray(row)
        ? Object.keys(row)[col]
        : col;
    if (typeof row !== 'object' || row === null || key === undefined || !(key in row)) {
      throw new DataError(`ColSplitter: row ${JSON.stringify(row)} has no column "${col}".`);
    }
    const v = (row as Record<string | number, unknown>)[key];
    if (targets) return targets.includes(String(v));
    return (
      v === true || v === 1 || (typeof v === 'string' && ['true', '1'].includes(v.toLowerCase()))
    );
  });
}

/** Options of {@link TrainTestSplitter}. */
export interface TrainTestSplitterOptions {
  /**
   * Fraction for validation.
   * @defaultValue `0.2`
   */
  testSize?: number;
  /**
   * Seed; when absent, drawn from the global generator.
   * @defaultValue `undefined`
   */
  randomState?: number;
  /**
   * Labels to stratify on (one per item): each label keeps its proportion in both splits.
   * @defaultValue `undefined`
   */
  stratify?: readonly unknown[];
}

/**
 * fastai's `TrainTestSplitter` (scikit-learn's `train_test_split`), optionally stratified:
 * each label group is shuffled and `round(testSize * groupSize)` of it goes to validation.
 * @param options - Fraction, seed and labels.
 * @returns The splitter.
 * @throws {@link ValueError} if `testSize` is not in (0, 1), {@link DataError} if `stratify`
 *   has the wrong length.
 * @example
 * ```ts
 * const labels = ['cat', 'dog', 'cat', 'dog', 'cat', 'dog', 'cat', 'dog', 'cat', 'dog'];
 * const splitter = tsf.TrainTestSplitter({ testSize: 0.2, randomState: 42, stratify: labels });
 * const [train, valid] = splitter(labels); // 8 and 2 indices, one of each class in valid
 * ```
 */
export function TrainTestSplitter(options: TrainTestSplitterOptions = {}): DataSplitter {
  checkOptionKeys('TrainTestSplitter', options, ['testSize', 'randomState', 'stratify']);
  const testSize = options.testSize ?? 0.2;
  if (!(testSize > 0 && testSize < 1))
    throw invalidValue('testSize', 'a number in (0, 1)', testSize);
  return (items) => {
    const rng: RandomGenerator = randomFor(options.randomState);
    const labels = options.stratify;
    if (labels && labels.length !== items.length) {
      throw new DataError(
        `TrainTestSplitter: stratify has ${labels.length} labels for ${items.length} items.`,
      );
    }
    const groups = new Map<string, number[]>();
    items.forEach((_, i) => {
      const key = labels ? String(labels[i]) : '';
      const g = groups.get(key) ?? [];
      g.push(i);
      groups.set(key, g);
    });
    const train: number[] = [];
    const valid: number[] = [];
    for (const key of [...groups.keys()].sort()) {
      const g = rng.shuffle(groups.get(key)!);
      const cut = Math.round(testSize * g.length);
      valid.push(...g.slice(0, cut));
      train.push(...g.slice(cut));
    }
    return [train.sort((a, b) => a - b), valid.sort((a, b) => a - b)];
  };
}
