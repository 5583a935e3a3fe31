/**
 * Atomic writes for the files and folders a user keeps (checkpoints, exports, logs, plots):
 * the bytes go to a hidden file (or folder) beside the target, are flushed to disk, and are
 * renamed over the target. A crash or a kill at any moment leaves either the old content or
 * the new one, never a mix. Hand-written rather than `write-file-atomic`: it is these few lines, and the
 * npm package adds ownership and queueing logic tsfast does not need.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The hidden temporary name a write to `file` uses (`.<name>.<tag>-<pid>-<random>`).
 * @param file - The target.
 * @param tag - What the name is for (`tmp` for a write, `old` for a folder moved aside).
 * @returns A fresh temporary path in the same folder (so the rename stays on one disk).
 * @example
 * ```ts
 * tempPathBeside('out/loss.png'); // 'out/.loss.png.tmp-1234-9f3a2c1b'
 * ```
 */
export function tempPathBeside(file: string, tag = 'tmp'): string {
  return join(
    dirname(file),
    `.${basename(file)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems refuse fsync on a folder: best effort.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not supported here
  }
}

/**
 * Writes `data` to `file` atomically: beside it, flushed with fsync, then renamed over it.
 * Creates the parent folder. On failure the temporary file is removed and `file` is
 * untouched.
 *
 * @param file - Destination.
 * @param data - Contents (a string is written as UTF-8).
 * @returns Resolves once the file is in place.
 * @throws The file-system error (ENOSPC, EACCES...), unchanged.
 * @example
 * ```ts
 * const meta = { epoch: 3, validLoss: 0.21 };
 * await writeFileAtomic('models/best/meta.json', JSON.stringify(meta));
 * ```
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathBeside(file);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/**
 * Fills a fresh temporary folder beside `dir` with `fill`, then swaps it in for `dir` (an
 * existing `dir` is moved aside first and removed once the new one is in place; if the swap
 * fails the old one is put back).
 * @param dir - Destination folder.
 * @param fill - Writes the folder's content into the temporary folder it receives.
 * @returns Resolves once `dir` holds the new content.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { join } from 'node:path';
 * await writeFolderAtomic('out/web', async (tmp) => writeFile(join(tmp, 'a.json'), '{}'));
 * ```
 */
export async function writeFolderAtomic(
  dir: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tempPathBeside(dir);
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = tempPathBeside(dir, 'old');
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
  await syncDir(dirname(dir));
  if (movedAside) await rm(old, { recursive: true, force: true });
}
