/**
 * Atomic writes for what a user keeps: a file or a whole folder is first written under a
 * temporary name beside its destination (same file system), then renamed into place, so a
 * crash or an error never leaves a half-written export where a reader would find it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempBeside(path: string, tag: string): string {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return join(dirname(path), `.${basename(path)}.${tag}-${suffix}`);
}

/**
 * Writes `data` to `file` through a temporary file beside it and a rename.
 * @param file - Destination; its folder is created if needed.
 * @param data - The bytes or text.
 * @returns Resolves once the file is in place.
 * @example
 * ```ts
 * await writeFileAtomic('out/model.safetensors', bytes);
 * ```
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempBeside(file, 'tmp');
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Fills a fresh temporary folder beside `dir` with `fill`, then swaps it in for `dir`
 * (an existing `dir` is moved aside first and removed once the new one is in place).
 * @param dir - Destination folder.
 * @param fill - Writes the folder's content into the temporary folder it receives.
 * @returns Resolves once `dir` holds the new content.
 * @example
 * ```ts
 * await writeFolderAtomic('out/web', async (tmp) => writeFile(join(tmp, 'a.json'), '{}'));
 * ```
 */
export async function writeFolderAtomic(
  dir: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tempBeside(dir, 'tmp');
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = tempBeside(dir, 'old');
  let movedAside = false;
  try {
    await rename(dir, old);
    movedAside = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  try {
    await rename(tmp, dir);
  } catch (err) {
    if (movedAside) await rename(old, dir);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (movedAside) await rm(old, { recursive: true, force: true });
}
