/**
 * Writing files users keep (plots, prediction tables) so that a crash or a full disk never
 * leaves a half-written file under the final name.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `data` to a temporary file beside `file`, then renames it over `file` (atomic on
 * one file system); the parent folder is created.
 * @param file - Destination path.
 * @param data - The bytes or text.
 * @returns Resolves once `file` holds the whole of `data`.
 * @throws The file-system error; the temporary file is removed.
 * @example
 * ```ts
 * await tsf.writeFileAtomic('out/predictions.csv', 'file,label,probability\n');
 * ```
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
