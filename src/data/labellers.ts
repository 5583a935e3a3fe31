/**
 * Labellers: functions from an item to its label (fastai's `RegexLabeller`, `parent_label`,
 * `ColReader`, `using_attr`).
 */
import { basename, dirname, extname } from 'node:path';
import { checkOptionKeys, DataError, invalidValue } from '../core/errors.js';

/** Path attributes {@link usingAttr} can read, as on fastai's `Path` items. */
export type PathAttr = 'name' | 'stem' | 'suffix' | 'parent';

/** Options of {@link RegexLabeller}. */
export interface RegexLabellerOptions {
  /**
   * Match at the start of the item only (Python's `re.match`) instead of searching anywhere
   * in it (`re.search`).
   * @defaultValue `false`
   */
  match?: boolean;
}

/**
 * fastai's `RegexLabeller`: the first capture group of a search of `pattern` in the item
 * (with `match`, of a match at its start). No match is an error naming the item and the pattern.
 *
 * @param pattern - A RegExp (or its source) with at least one capture group.
 * @param options - Search or match.
 * @returns A labeller `(item: string) => string`.
 * @throws {@link ValueError} if the pattern has no capture group or on an unknown option.
 * @example
 * ```ts
 * const getY = tsf.usingAttr(tsf.RegexLabeller(/(.+)_\d+.jpg$/), 'name');
 * getY('/data/pets/great_pyrenees_12.jpg'); // 'great_pyrenees'
 * try {
 *   tsf.RegexLabeller(/\/(\d)\//, { match: true })('/a/3/b.png');
 * } catch (e) {
 *   console.log((e as Error).message); // no match at the start
 * }
 * ```
 */
export function RegexLabeller(
  pattern: RegExp | string,
  options: RegexLabellerOptions = {},
): (item: unknown) => string {
  checkOptionKeys('RegexLabeller', options, ['match']);
  const match = options.match ?? false;
  const given = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
  if (new RegExp(`${given.source}|`).exec('')!.length < 2) {
    throw invalidValue('pattern', 'a regular expression with a capture group', String(given));
  }
  // A sticky copy from lastIndex 0 matches only at the start, as Python's re.match.
  const re = match
    ? new RegExp(given.source, `${given.flags.replace(/[gy]/g, '')}y`)
    : new RegExp(given.source, given.flags);
  const labeller = (item: unknown): string => {
    const text = String(item);
    re.lastIndex = 0;
    const m = re.exec(text);
    re.lastIndex = 0;
    if (!m || m[1] === undefined) {
      throw new DataError(
        `RegexLabeller: pattern ${String(given)} matched nothing ${match ? 'at the start of' : 'in'} ` +
          `"${text}"; check the pattern or pass another getY.`,
      );
    }
    return m[1];
  };
  Object.defineProperty(labeller, 'name', { value: 'RegexLabeller' });
  return labeller;
}

/**
 * fastai's `parent_label`: the name of the folder holding the file.
 * @param item - A file path.
 * @returns The parent folder's name.
 * @example
 * ```ts
 * tsf.parentLabel('/data/hymenoptera/train/ants/1.jpg'); // 'ants'
 * ```
 */
export function parentLabel(item: unknown): string {
  return basename(dirname(String(item)));
}

/**
 * Reads an attribute of a path as fastai's `Path` does.
 * @param item - A file path.
 * @param attr - `'name'` (file name with extension), `'stem'` (without), `'suffix'`
 *   (extension with the dot) or `'parent'` (the folder path).
 * @returns The attribute.
 * @example
 * ```ts
 * tsf.pathAttr('/a/b/cat_1.jpg', 'stem'); // 'cat_1'
 * ```
 */
export function pathAttr(item: unknown, attr: PathAttr): string {
  const p = String(item);
  switch (attr) {
    case 'name':
      return basename(p);
    case 'stem':
      return basename(p, extname(p));
    case 'suffix':
      return extname(p);
    case 'parent':
      return dirname(p);
    default:
      throw invalidValue('attr', "one of 'name', 'stem', 'suffix', 'parent'", attr);
  }
}

/**
 * fastai's `using_attr`: applies `f` to an attribute of the item. On path items (what
 * {@link getImageFiles} returns) the attributes are those of fastai's `Path`; on objects
 * (rows), any property.
 *
 * @param f - Function of the attribute, e.g. a {@link RegexLabeller}.
 * @param attr - `'name'`, `'stem'`, `'suffix'`, `'parent'`, or a property name of object items.
 * @returns `(item) => f(item[attr])`.
 * @example
 * ```ts
 * const getY = tsf.usingAttr(tsf.RegexLabeller(/(.+)_\d+.jpg$/), 'name');
 * ```
 */
export function usingAttr<T>(f: (value: unknown) => T, attr: string): (item: unknown) => T {
  if (attr.length === 0) {
    throw invalidValue('attr', 'an attribute name', attr);
  }
  return (item: unknown): T => {
    if (typeof item === 'string') return f(pathAttr(item, attr as PathAttr));
    if (typeof item === 'object' && item !== null && attr in item) {
      return f((item as Record<string, unknown>)[attr]);
    }
    throw new DataError(`usingAttr: item ${JSON.stringify(item)} has no attribute "${attr}".`);
  };
}

/** Options of {@link ColReader}. */
export interface ColReaderOptions {
  /**
   * Prefix added to the value (e.g. a folder for file names).
   * @defaultValue `''`
   */
  pref?: string;
  /**
   * Suffix added to the value (e.g. `'.jpg'`).
   * @defaultValue `''`
   */
  suff?: string;
  /**
   * Split the value on this delimiter into a label list (multi-label).
   * @defaultValue `undefined`
   */
  labelDelim?: string;
}

/**
 * fastai's `ColReader`: reads column(s) of a row (an object from a CSV, or an array).
 * @param cols - Column name or index, or several (giving an array).
 * @param options - Prefix, suffix and label delimiter.
 * @returns `(row) => value`.
 * @throws {@link DataError} at call time naming the missing column and the row.
 * @example
 * ```ts
 * const getX = tsf.ColReader('fname', { pref: 'images/' });
 * const getY = tsf.ColReader('labels', { labelDelim: ' ' });
 * ```
 */
export function ColReader(
  cols: string | number | readonly (string | number)[],
  options: ColReaderOptions = {},
): (row: unknown) => unknown {
  checkOptionKeys('ColReader', options, ['pref', 'suff', 'labelDelim']);
  const pref = options.pref ?? '';
  const suff = options.suff ?? '';
  const read1 = (row: unknown, col: string | number): unknown => {
    if (typeof row !== 'object' || row === null || !(col in row)) {
      throw new DataError(`ColReader: row ${JSON.stringify(row)} has no column "${col}".`);
    }
    let v = (row as Record<string | number, unknown>)[col];
    if (pref || suff) v = `${pref}${String(v)}${suff}`;
    if (options.labelDelim !== undefined) {
      return String(v)
        .split(options.labelDelim)
        .filter((s) => s.length > 0);
    }
    return v;
  };
  return (row: unknown): unknown =>
    Array.isArray(cols)
      ? (cols as (string | number)[]).map((c) => read1(row, c))
      : read1(row, cols as string | number);
}
