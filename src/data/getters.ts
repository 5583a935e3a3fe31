/**
 * Item getters: list the files of a folder (fast-glob), sorted, dot-files skipped.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import fg from 'fast-glob';
import { checkOptionKeys, DataError } from '../core/errors.js';

/** File extensions (lower case, with the dot) that {@link getImageFiles} lists. */
export const imageExtensions: readonly string[] = [
  '.jpg',
  '.jpeg',
  '.png',
  '.gif',
  '.webp',
  '.tif',
  '.tiff',
  '.bmp',
  '.avif',
  '.heic',
  '.heif',
];

/** Options of {@link getFiles}. */
export interface GetFilesOptions {
  /**
   * Extensions to keep (with or without the dot, any case); all files when absent.
   * @defaultValue `undefined`
   */
  extensions?: readonly string[];
  /**
   * Look inside sub-folders.
   * @defaultValue `true`
   */
  recurse?: boolean;
  /**
   * Only these top-level sub-folders (e.g. `['train', 'valid']`).
   * @defaultValue `undefined`
   */
  folders?: readonly string[];
}

/** Options of {@link getImageFiles}. */
export type GetImageFilesOptions = Omit<GetFilesOptions, 'extensions'>;

/**
 * fastai's `get_files`: the files under `path` as absolute paths, sorted; names starting with
 * a dot (and dot-folders) are skipped.
 *
 * @param path - Folder to list.
 * @param options - Extensions, recursion and top-level folders.
 * @returns Absolute file paths, sorted.
 * @throws {@link DataError} if `path` is not a folder.
 * @example
 * ```ts
 * import { mkdir, writeFile } from 'node:fs/promises';
 * await mkdir('data');
 * await writeFile('data/a.csv', 'x\n');
 * const csvs = await tsf.getFiles('data', { extensions: ['.csv'] }); // ['/abs/path/data/a.csv']
 * ```
 */
export async function getFiles(path: string, options: GetFilesOptions = {}): Promise<string[]> {
  checkOptionKeys('getFiles', options, ['extensions', 'recurse', 'folders']);
  const root = resolve(path);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new DataError(`getFiles: "${root}" is not a folder. Pass the folder holding the files.`);
  }
  const recurse = options.recurse ?? true;
  const exts = options.extensions?.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
  const bases = options.folders ? options.folders.map((f) => resolve(root, f)) : [root];
  const out: string[] = [];
  for (const base of bases) {
    if (!existsSync(base)) continue;
    const found = await fg(recurse ? '**/*' : '*', {
      cwd: base,
      absolute: true,
      onlyFiles: true,
      dot: false,
      followSymbolicLinks: true,
    });
    for (const f of found) {
      if (!exts) out.push(f);
      else {
        const dot = f.lastIndexOf('.');
        const slash = f.lastIndexOf('/');
        if (dot > slash && exts.includes(f.slice(dot).toLowerCase())) out.push(f);
      }
    }
  }
  return out.sort();
}

/**
 * fastai's `get_image_files`: the image files under `path` (by extension; decoding later goes
 * by content), absolute, sorted, dot-files skipped.
 *
 * @param path - Folder to list.
 * @param options - Recursion and top-level folders.
 * @returns Absolute file paths, sorted.
 * @throws {@link DataError} if `path` is not a folder.
 * @example
 * ```ts no-run (needs a folder of photos)
 * const files = await tsf.getImageFiles('../shared/data/pets/images');
 * ```
 */
export function getImageFiles(path: string, options: GetImageFilesOptions = {}): Promise<string[]> {
  checkOptionKeys('getImageFiles', options, ['recurse', 'folders']);
  return getFiles(path, { ...options, extensions: imageExtensions });
}
