/**
 * `ImageDataLoaders`: fastai's one-line factories for image classification data. Each builds a
 * `DataBlock` from public pieces (`ImageBlock`, `CategoryBlock`, `getImageFiles`, splitters,
 * labellers, `ColReader`) and calls its `dataloaders`: nothing here that a user could not write.
 */
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DataError, invalidValue } from '../core/errors.js';
import {
  type BlockLike,
  CategoryBlock,
  MultiCategoryBlock,
  RegressionBlock,
} from '../data/blocks.js';
import { readCsv } from '../data/csv.js';
import { DataBlock } from '../data/data-block.js';
import type { DataLoaders, DataLoadersOptions } from '../data/data-loaders.js';
import type { Getter } from '../data/datasets.js';
import { getImageFiles } from '../data/getters.js';
import { ColReader, parentLabel, RegexLabeller, usingAttr } from '../data/labellers.js';
import {
  ColSplitter,
  type DataSplitter,
  GrandparentSplitter,
  RandomSplitter,
} from '../data/splitters.js';
import type { BatchTransform, Transform } from '../data/transforms.js';
import { ImageBlock } from './image/image-block.js';

/**
 * Options every {@link ImageDataLoaders} factory takes: the transforms, plus any
 * {@link DataLoadersOptions} (`bs` 64, `validBs`, `seed` of shuffling, ...).
 * @example
 * ```ts
 * const o: tsf.ImageDataLoadersOptions = { itemTfms: tsf.Resize(224), bs: 32 };
 * ```
 */
export interface ImageDataLoadersOptions extends DataLoadersOptions {
  /**
   * Per-item transforms (e.g. `Resize(224)`).
   * @defaultValue `[]`
   */
  itemTfms?: Transform | readonly Transform[];
  /**
   * Per-batch transforms (e.g. `augTransforms()`).
   * @defaultValue `[]`
   */
  batchTfms?: BatchTransform | readonly BatchTransform[];
}

/**
 * Options of the factories that split at random ({@link ImageDataLoaders.fromPathFunc} and
 * those built on it, {@link ImageDataLoaders.fromLists}).
 * @example
 * ```ts
 * const o: tsf.RandomSplitImageOptions = { validPct: 0.2, seed: 42, itemTfms: tsf.Resize(224) };
 * ```
 */
export interface RandomSplitImageOptions extends ImageDataLoadersOptions {
  /**
   * Fraction of the items for validation.
   * @defaultValue `0.2`
   */
  validPct?: number;
  /**
   * Also the seed of the split (the `RandomSplitter`'s), as in fastai; when absent, the split
   * is drawn from the global generator (`setSeed`).
   * @defaultValue `undefined`
   */
  seed?: number;
}

/**
 * Options of {@link ImageDataLoaders.fromFolder}.
 * @example
 * ```ts
 * const o: tsf.FromFolderOptions = { valid: 'val', itemTfms: tsf.Resize(224) };
 * ```
 */
export interface FromFolderOptions extends ImageDataLoadersOptions {
  /**
   * Sub-folder of the training images.
   * @defaultValue `'train'`
   */
  train?: string;
  /**
   * Sub-folder of the validation images.
   * @defaultValue `'valid'`
   */
  valid?: string;
  /**
   * Split every image under `path` at random with this validation fraction instead of using
   * the `train`/`valid` folders.
   * @defaultValue `undefined`
   */
  validPct?: number;
  /**
   * Seed of the random split (with `validPct`) and of shuffling.
   * @defaultValue `undefined`
   */
  seed?: number;
  /**
   * Fixed class list.
   * @defaultValue the sorted parent-folder names of the training images
   */
  vocab?: readonly string[];
}

/** A column of a row: its name, or its position in the row (0 = first column). */
export type ColumnRef = string | number;

/**
 * Options of {@link ImageDataLoaders.fromDf} and {@link ImageDataLoaders.fromCsv}.
 * @example
 * ```ts
 * const o: tsf.FromDfOptions = { folder: 'train', suff: '.jpg', labelDelim: ' ' };
 * ```
 */
export interface FromDfOptions extends RandomSplitImageOptions {
  /**
   * Folder the file names are relative to.
   * @defaultValue `'.'`
   */
  path?: string;
  /**
   * Column of the file names.
   * @defaultValue `0`
   */
  fnCol?: ColumnRef;
  /**
   * Sub-folder of `path` holding the files.
   * @defaultValue `undefined`
   */
  folder?: string;
  /**
   * Suffix added to each file name (e.g. `'.jpg'`).
   * @defaultValue `''`
   */
  suff?: string;
  /**
   * Column(s) of the labels.
   * @defaultValue `1`
   */
  labelCol?: ColumnRef | readonly ColumnRef[];
  /**
   * Split labels on this delimiter (multi-label).
   * @defaultValue `undefined`
   */
  labelDelim?: string;
  /**
   * Target block.
   * @defaultValue `MultiCategoryBlock` with `labelDelim` or several label columns, else
   *   `CategoryBlock`
   */
  yBlock?: BlockLike;
  /**
   * Column whose true values mark validation rows (`ColSplitter`), instead of a random split.
   * @defaultValue `undefined`
   */
  validCol?: ColumnRef;
}

/**
 * Options of {@link ImageDataLoaders.fromCsv}.
 * @example
 * ```ts
 * const o: tsf.FromCsvOptions = { csvFname: 'labels.csv', folder: 'train', suff: '.jpg' };
 * ```
 */
export interface FromCsvOptions extends Omit<FromDfOptions, 'path'> {
  /**
   * CSV file name, relative to `path`.
   * @defaultValue `'labels.csv'`
   */
  csvFname?: string;
  /**
   * Field delimiter.
   * @defaultValue `','`
   */
  delimiter?: string;
}

/**
 * Options of {@link ImageDataLoaders.fromLists}.
 * @example
 * ```ts
 * const o: tsf.FromListsOptions = { validPct: 0.2, seed: 42, yBlock: tsf.RegressionBlock };
 * ```
 */
export interface FromListsOptions extends RandomSplitImageOptions {
  /**
   * Target block.
   * @defaultValue `MultiCategoryBlock` when the first label is a list of several,
   *   `RegressionBlock` when the labels are numbers not all integers, else `CategoryBlock`
   */
  yBlock?: BlockLike;
}

const TFM_KEYS = ['itemTfms', 'batchTfms'] as const;
const RANDOM_KEYS = [...TFM_KEYS, 'validPct', 'seed'] as const;
const FOLDER_KEYS = [...TFM_KEYS, 'train', 'valid', 'validPct', 'seed', 'vocab'] as const;
const DF_KEYS = [
  ...RANDOM_KEYS,
  'path',
  'fnCol',
  'folder',
  'suff',
  'labelCol',
  'labelDelim',
  'yBlock',
  'validCol',
] as const;

/** Splits factory options from the rest, which go to `dataloaders` (it rejects unknown keys). */
function pick<T extends object>(
  options: T,
  keys: readonly string[],
): [Partial<T>, DataLoadersOptions] {
  const own: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (keys.includes(k) ? own : rest)[k] = v;
  // The seed seeds the split (fastai) and the shuffling (tsfast's DataLoaders).
  if ('seed' in own && own.seed !== undefined) rest.seed = own.seed;
  return [own as Partial<T>, rest as DataLoadersOptions];
}

function tfms(o: ImageDataLoadersOptions): Pick<ImageDataLoadersOptions, 'itemTfms' | 'batchTfms'> {
  return {
    ...(o.itemTfms === undefined ? {} : { itemTfms: o.itemTfms }),
    ...(o.batchTfms === undefined ? {} : { batchTfms: o.batchTfms }),
  };
}

function randomSplitter(o: RandomSplitImageOptions): DataSplitter {
  return RandomSplitter({
    validPct: o.validPct ?? 0.2,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
  });
}

/** The name of a column given by position, read from the first row's keys. */
function columnName(rows: readonly object[], col: ColumnRef, option: string): string {
  const first = rows[0] as Record<string, unknown>;
  if (typeof col === 'string') {
    if (!(col in first)) {
      throw new DataError(
        `ImageDataLoaders.fromDf: \`${option}\` names column "${col}", but the rows have ` +
          `${Object.keys(first)
            .map((k) => `"${k}"`)
            .join(', ')}.`,
      );
    }
    return col;
  }
  const keys = Object.keys(first);
  if (!(Number.isInteger(col) && col >= 0 && col < keys.length)) {
    throw invalidValue(option, `a column name or an index below ${keys.length}`, col);
  }
  return keys[col]!;
}

/** Reads the file of a row, and takes a bare path as the file (for `predict` and `testDl`). */
function fileOrRow(read: Getter): Getter {
  return (item) => (typeof item === 'string' ? item : read(item));
}

/**
 * fastai's `ImageDataLoaders`: image classification data in one line, from a folder tree,
 * file names, a table or lists. Each factory is a `DataBlock` (`ImageBlock` + a target block)
 * with fastai's getters, splitter and defaults, so what it builds can be rebuilt by hand.
 *
 * @example
 * ```ts no-run (needs the pets photos)
 * const files = await tsf.getImageFiles('../shared/data/pets/images');
 * const dls = await tsf.ImageDataLoaders.fromNameRe(files, /^(.+)_\d+\.jpg$/, {
 *   itemTfms: tsf.Resize(224), seed: 42,
 * });
 * ```
 */
export const ImageDataLoaders = {
  /**
   * From an ImageNet-style tree: `path/train/<class>/*.jpg` and `path/valid/<class>/*.jpg`
   * (labels are the parent folders; `GrandparentSplitter`), or with `validPct` every image
   * under `path` split at random.
   * @param path - The root folder.
   * @param options - `train` ('train'), `valid` ('valid'), `validPct`, `seed`, `vocab`,
   *   transforms and DataLoaders options.
   * @returns The DataLoaders.
   * @throws {@link DataError} when the `train` or `valid` folder is missing, no image is
   *   found or a validation label is not a training one; {@link ValueError} on a bad option.
   * @example
   * ```ts no-run (needs the hymenoptera photos)
   * const dls = await tsf.ImageDataLoaders.fromFolder('../shared/data/hymenoptera', {
   *   valid: 'val', itemTfms: tsf.Resize(224),
   * });
   * ```
   */
  async fromFolder(path: string, options: FromFolderOptions = {}): Promise<DataLoaders> {
    const [o, dlOptions] = pick(options, FOLDER_KEYS);
    const train = o.train ?? 'train';
    const valid = o.valid ?? 'valid';
    const byFolder = o.validPct === undefined;
    if (byFolder) {
      // fastai would build an empty set here and fail later; say which folder is missing now.
      for (const [key, folder] of [
        ['train', train],
        ['valid', valid],
      ] as const) {
        if (!existsSync(join(path, folder))) {
          throw new DataError(
            `ImageDataLoaders.fromFolder: no "${folder}" folder in "${path}" (the \`${key}\` ` +
              `folder); pass \`${key}: '<name>'\`, or \`validPct\` to split all images at random.`,
          );
        }
      }
    }
    const block = new DataBlock({
      blocks: [ImageBlock, CategoryBlock(o.vocab === undefined ? {} : { vocab: o.vocab })],
      getItems: byFolder ? (p) => getImageFiles(p, { folders: [train, valid] }) : getImageFiles,
      splitter: byFolder
        ? GrandparentSplitter({ trainName: train, validName: valid })
        : randomSplitter(o),
      getY: parentLabel,
      ...tfms(o),
    });
    return block.dataloaders(path, dlOptions);
  },

  /**
   * From file paths and a function of the path giving the label.
   * @param fnames - Image paths.
   * @param labelFunc - Path -> label.
   * @param options - `validPct` (0.2), `seed`, transforms and DataLoaders options.
   * @returns The DataLoaders.
   * @throws {@link DataError} when `labelFunc` fails on an item (named).
   * @example
   * ```ts
   * const dls = await tsf.ImageDataLoaders.fromPathFunc(files, tsf.parentLabel, { seed: 42 });
   * ```
   * @remarks Differs from fastai: no `path` argument (the file names are full paths; the
   *   learner's `path` option says where models go).
   */
  async fromPathFunc(
    fnames: readonly string[],
    labelFunc: Getter,
    options: RandomSplitImageOptions = {},
  ): Promise<DataLoaders> {
    const [o, dlOptions] = pick(options, RANDOM_KEYS);
    const block = new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      splitter: randomSplitter(o),
      getY: labelFunc,
      ...tfms(o),
    });
    return block.dataloaders(fnames, dlOptions);
  },

  /**
   * From file paths and a function of the file NAME giving the label (`usingAttr(f, 'name')`).
   * @param fnames - Image paths.
   * @param labelFunc - File name -> label.
   * @param options - As {@link ImageDataLoaders.fromPathFunc}.
   * @returns The DataLoaders.
   * @throws {@link DataError} when `labelFunc` fails on an item (named).
   * @example
   * ```ts
   * const isCat = (name: unknown) => (/^[A-Z]/.test(String(name)) ? 'cat' : 'dog');
   * const dls = await tsf.ImageDataLoaders.fromNameFunc(files, isCat, { seed: 42 });
   * ```
   */
  async fromNameFunc(
    fnames: readonly string[],
    labelFunc: (name: unknown) => unknown,
    options: RandomSplitImageOptions = {},
  ): Promise<DataLoaders> {
    return ImageDataLoaders.fromPathFunc(fnames, usingAttr(labelFunc, 'name'), options);
  },

  /**
   * From file paths and a regular expression whose first group, searched in the full path,
   * is the label.
   * @param fnames - Image paths.
   * @param pat - Pattern with a capture group.
   * @param options - As {@link ImageDataLoaders.fromPathFunc}.
   * @returns The DataLoaders.
   * @throws {@link DataError} naming a path the pattern does not match.
   * @example
   * ```ts
   * const dls = await tsf.ImageDataLoaders.fromPathRe(files, /\/(ants|bees)\//);
   * ```
   */
  async fromPathRe(
    fnames: readonly string[],
    pat: RegExp | string,
    options: RandomSplitImageOptions = {},
  ): Promise<DataLoaders> {
    return ImageDataLoaders.fromPathFunc(fnames, RegexLabeller(pat), options);
  },

  /**
   * From file paths and a regular expression whose first group, searched in the file name,
   * is the label.
   * @param fnames - Image paths.
   * @param pat - Pattern with a capture group, e.g. `/^(.+)_\d+\.jpg$/` for the pets.
   * @param options - As {@link ImageDataLoaders.fromPathFunc}.
   * @returns The DataLoaders.
   * @throws {@link DataError} naming a file the pattern does not match.
   * @example
   * ```ts
   * const dls = await tsf.ImageDataLoaders.fromNameRe(files, /^(.+)_\d+\.jpg$/, {
   *   itemTfms: tsf.Resize(224),
   * });
   * ```
   */
  async fromNameRe(
    fnames: readonly string[],
    pat: RegExp | string,
    options: RandomSplitImageOptions = {},
  ): Promise<DataLoaders> {
    return ImageDataLoaders.fromNameFunc(fnames, RegexLabeller(pat), options);
  },

  /**
   * From table rows (plain objects, e.g. from `readCsv`): file names in `fnCol` (relative to
   * `path/folder`, plus `suff`), labels in `labelCol`.
   * @param rows - The rows.
   * @param options - `path` ('.'), `fnCol` (0), `folder`, `suff` (''), `labelCol` (1),
   *   `labelDelim`, `yBlock`, `validCol`, `validPct` (0.2), `seed`, transforms and
   *   DataLoaders options.
   * @returns The DataLoaders.
   * @throws {@link DataError} on no rows or a column the rows lack; {@link ValueError} on a
   *   bad option.
   * @example
   * ```ts no-run (needs the planet photos)
   * const rows = tsf.readCsv('planet/labels.csv');
   * const dls = await tsf.ImageDataLoaders.fromDf(rows, {
   *   path: 'planet', folder: 'train', suff: '.jpg', labelDelim: ' ',
   * });
   * ```
   * @remarks Differs from fastai: rows are plain objects rather than a pandas DataFrame; a
   *   numeric column is the position of the key in the first row.
   */
  async fromDf(rows: readonly object[], options: FromDfOptions = {}): Promise<DataLoaders> {
    const [o, dlOptions] = pick(options, DF_KEYS);
    if (!Array.isArray(rows) || rows.length === 0) {
      throw new DataError('ImageDataLoaders.fromDf: `rows` is empty; pass one object per image.');
    }
    const path = o.path ?? '.';
    const pref = `${o.folder === undefined ? path : join(path, o.folder)}${sep}`;
    const labelCols = (
      Array.isArray(o.labelCol) ? o.labelCol : [o.labelCol ?? 1]
    ) as readonly ColumnRef[];
    const yCols = labelCols.map((c) => columnName(rows, c, 'labelCol'));
    const isMulti = yCols.length > 1 || o.labelDelim !== undefined;
    const yBlock = o.yBlock ?? (isMulti ? MultiCategoryBlock : CategoryBlock);
    const readY = ColReader(
      yCols.length === 1 ? yCols[0]! : yCols,
      o.labelDelim === undefined ? {} : { labelDelim: o.labelDelim },
    );
    const block = new DataBlock({
      blocks: [ImageBlock, yBlock],
      getX: fileOrRow(
        ColReader(columnName(rows, o.fnCol ?? 0, 'fnCol'), { pref, suff: o.suff ?? '' }),
      ),
      // Several label columns give one list of labels per row (each may be delimited).
      getY: yCols.length === 1 ? readY : (row) => (readY(row) as unknown[]).flat(),
      splitter:
        o.validCol === undefined
          ? randomSplitter(o)
          : ColSplitter(columnName(rows, o.validCol, 'validCol')),
      ...tfms(o),
    });
    return block.dataloaders(rows, dlOptions);
  },

  /**
   * From a CSV file `path/csvFname` with a header row, as {@link ImageDataLoaders.fromDf}
   * with file names relative to `path`.
   * @param path - Folder of the CSV and the images.
   * @param options - `csvFname` ('labels.csv'), `delimiter` (','), and the options of
   *   {@link ImageDataLoaders.fromDf}.
   * @returns The DataLoaders.
   * @throws {@link DataError} naming the file when it cannot be read or parsed.
   * @example
   * ```ts no-run (needs the planet photos)
   * const dls = await tsf.ImageDataLoaders.fromCsv('planet', {
   *   folder: 'train', suff: '.jpg', labelDelim: ' ',
   * });
   * ```
   */
  async fromCsv(path: string, options: FromCsvOptions = {}): Promise<DataLoaders> {
    const { csvFname, delimiter, ...rest } = options;
    if ('path' in rest) {
      throw invalidValue('path', 'the first argument of fromCsv, not an option', rest.path);
    }
    const rows = readCsv(join(path, csvFname ?? 'labels.csv'), {
      ...(delimiter === undefined ? {} : { delimiter }),
    });
    return ImageDataLoaders.fromDf(rows, { ...rest, path });
  },

  /**
   * From a list of image paths and the list of their labels.
   * @param fnames - Image paths.
   * @param labels - One label (or list of labels, or number) per path.
   * @param options - `validPct` (0.2), `seed`, `yBlock`, transforms and DataLoaders options.
   * @returns The DataLoaders.
   * @throws {@link DataError} when the lists differ in length.
   * @example
   * ```ts
   * const labels = files.map((f) => (f.includes('/cats/') ? 'cat' : 'dog'));
   * const dls = await tsf.ImageDataLoaders.fromLists(files, labels, { seed: 42 });
   * ```
   * @remarks Differs from fastai: JavaScript has one number type, so numeric labels are
   *   regression targets only when one is not an integer (fastai: when they are floats).
   */
  async fromLists(
    fnames: readonly string[],
    labels: readonly unknown[],
    options: FromListsOptions = {},
  ): Promise<DataLoaders> {
    const [o, dlOptions] = pick(options, [...RANDOM_KEYS, 'yBlock']);
    if (fnames.length !== labels.length) {
      throw new DataError(
        `ImageDataLoaders.fromLists: ${fnames.length} file names but ${labels.length} labels; ` +
          'pass one label per file.',
      );
    }
    const first = labels[0];
    const yBlock =
      o.yBlock ??
      (Array.isArray(first) && first.length > 1
        ? MultiCategoryBlock
        : labels.every((l) => typeof l === 'number') && labels.some((l) => !Number.isInteger(l))
          ? RegressionBlock
          : CategoryBlock);
    const items = fnames.map((f, i) => ({ fname: f, label: labels[i] }));
    const block = new DataBlock({
      blocks: [ImageBlock, yBlock],
      getX: fileOrRow((item) => (item as { fname: string }).fname),
      getY: (item) => (item as { label: unknown }).label,
      splitter: randomSplitter(o),
      ...tfms(o),
    });
    return block.dataloaders(items, dlOptions);
  },
} as const;
