/**
 * Safe file references: every path read from a file a user was handed (a `model.json`
 * manifest, an exported learner, a checkpoint, an archive entry) is resolved here, and
 * refused when it leaves the folder it came with. Such files are untrusted input: without
 * this check a manifest listing `../../etc/passwd` makes a loader read any file.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve, sep, win32 } from 'node:path';
import { DataError } from './errors.js';

function refused(source: string, ref: unknown, dir: string, why: string): DataError {
  return new DataError(
    `"${source}" refers to ${JSON.stringify(ref)}, which ${why}; tsfast reads only files ` +
      `inside "${dir}". The file is damaged or was crafted: do not load it.`,
  );
}

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/**
 * Checks a relative file reference without touching the disk: a non-empty string, no NUL
 * byte, not absolute (POSIX, drive letter or UNC), no `..` segment.
 *
 * @param ref - The reference as read from the file.
 * @param source - The file it was read from, for the message.
 * @param dir - The folder it must stay in, for the message.
 * @returns `ref`, typed as a string.
 * @throws {@link DataError} naming `source` and the offending `ref`.
 * @example
 * ```ts
 * checkRelativeRef('weights.bin', 'model.json', 'models/net'); // 'weights.bin'
 * ```
 * @example
 * ```ts no-run (throws)
 * checkRelativeRef('../secret', 'model.json', 'models/net'); // throws DataError
 * ```
 */
export function checkRelativeRef(ref: unknown, source: string, dir: string): string {
  if (typeof ref !== 'string' || ref === '') {
    throw refused(source, ref, dir, 'is not a file name');
  }
  if (ref.includes('\0')) throw refused(source, ref, dir, 'holds a NUL byte');
  if (posix.isAbsolute(ref) || win32.isAbsolute(ref) || /^[a-zA-Z]:/.test(ref)) {
    throw refused(source, ref, dir, 'is an absolute path');
  }
  if (ref.split(/[\\/]/).includes('..')) {
    throw refused(source, ref, dir, 'climbs out with ".."');
  }
  return ref;
}

/**
 * Resolves a file reference read from `source` against `dir`, refusing anything that leaves
 * `dir` by its name (`..`, an absolute path). Does not look at the disk: use
 * {@link resolveInsideReal} before reading, so a symbolic link cannot lead outside either.
 *
 * @param dir - The folder the reference is relative to.
 * @param ref - The reference as read from the file.
 * @param source - The file it was read from, for the message.
 * @returns The absolute path.
 * @throws {@link DataError} naming `source` and the offending `ref`.
 * @example
 * ```ts
 * resolveInside('models/net', 'group1-shard1of2.bin', 'models/net/model.json');
 * ```
 */
export function resolveInside(dir: string, ref: unknown, source: string): string {
  const checked = checkRelativeRef(ref, source, dir);
  const root = resolve(dir);
  const target = resolve(root, checked);
  if (!inside(root, target)) throw refused(source, ref, dir, 'lies outside the folder');
  return target;
}

/**
 * {@link resolveInside}, then follows symbolic links: the real path of the file (when it
 * exists) must lie inside the real path of `dir`. A missing file is returned as resolved, so
 * the caller reports it as missing.
 *
 * @param dir - The folder the reference is relative to.
 * @param ref - The reference as read from the file.
 * @param source - The file it was read from, for the message.
 * @returns The absolute path to read.
 * @throws {@link DataError} naming `source` and the offending `ref` (or the link target).
 * @example
 * ```ts
 * import { readFile, writeFile } from 'node:fs/promises';
 * await writeFile(`${dir}/weights.bin`, new Uint8Array(4));
 * const shard = await resolveInsideReal(dir, 'weights.bin', `${dir}/model.json`);
 * const bytes = await readFile(shard);
 * ```
 */
export async function resolveInsideReal(
  dir: string,
  ref: unknown,
  source: string,
): Promise<string> {
  const target = resolveInside(dir, ref, source);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return target;
  }
  const root = await realpath(resolve(dir)).catch(() => resolve(dir));
  if (!inside(root, real)) {
    throw refused(source, ref, dir, `is a symbolic link to "${real}", outside the folder`);
  }
  return real;
}

/**
 * Checks one entry of an archive before anything is extracted: its path must stay in the
 * extraction folder, and a link's target too (resolved from the link's own folder; a hard
 * link's target from the archive root).
 *
 * @param archive - The archive, for the message.
 * @param path - The entry's path.
 * @param type - The entry's tar type (`File`, `Directory`, `SymbolicLink`, `Link`, ...).
 * @param linkpath - The link target, for links.
 * @throws {@link DataError} naming the archive and the entry.
 * @example
 * ```ts
 * checkArchiveEntry('pets.tgz', 'pets/images/a.jpg', 'File');
 * ```
 */
export function checkArchiveEntry(
  archive: string,
  path: string,
  type: string,
  linkpath?: string,
): void {
  const root = resolve('/archive-root');
  const where = `${archive}" entry "${path}`;
  resolveInside(root, path.replace(/^\.\//, '') || '.', where);
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = linkpath ?? '';
    if (posix.isAbsolute(target) || win32.isAbsolute(target)) {
      throw refused(where, target, 'the extraction folder', 'is an absolute link target');
    }
    const from = type === 'SymbolicLink' ? posix.dirname(resolve(root, path)) : root;
    if (!inside(root, resolve(from, target))) {
      throw refused(where, target, 'the extraction folder', 'is a link that leads outside');
    }
  }
}
