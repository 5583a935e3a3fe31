/**
 * `untarData`: a dataset archive from a URL (or a local archive/folder) to an extracted folder.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { extract, list } from 'tar';
import { checkOptionKeys, DataError, invalidValue } from '../core/errors.js';
import { checkArchiveEntry } from '../core/safe-path.js';
import {
  cacheDir,
  DownloadError,
  type DownloadOptions,
  downloadFile,
  isRemoteUrl,
  localPath,
} from './download.js';
import { KNOWN_ARCHIVES } from './urls.js';

/**
 * Options of {@link untarData}.
 *
 * @example
 * ```ts
 * const opts: tsf.UntarDataOptions = { dest: '/data', force: false };
 * ```
 */
export interface UntarDataOptions {
  /**
   * Parent folder of the extracted dataset (as fastai's `dest`): the dataset lands in
   * `<dest>/<archive name without .tgz>`.
   * @defaultValue `<cache>/data`, i.e. `~/.cache/tsfast/data` (see {@link cacheDir})
   */
  dest?: string;
  /**
   * Download and extract again even if the folder exists. The old folder is replaced only
   * once the new one is complete.
   * @defaultValue false
   */
  force?: boolean;
  /**
   * Cache root for the downloaded archive and the default `dest`.
   * @defaultValue `$TSFAST_CACHE`, else `~/.cache/tsfast`
   */
  cacheDir?: string;
  /**
   * Expected SHA-256 of the archive, checked after download.
   * @defaultValue no SHA-256 check (fastai's size and first-MiB MD5 are checked for the
   *   {@link URLs} it publishes)
   */
  sha256?: string;
  /**
   * Download progress, as in {@link DownloadOptions.onProgress}.
   * @defaultValue a progress bar on a TTY, nothing otherwise
   */
  onProgress?: DownloadOptions['onProgress'];
}

const OPTION_KEYS = ['dest', 'force', 'cacheDir', 'sha256', 'onProgress'] as const;
const ARCHIVE_EXT = /\.(tgz|tar\.gz|tar|tar\.bz2|tbz2?)$/i;

async function kind(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

async function md5FirstMiB(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return createHash('md5').update(buf.subarray(0, bytesRead)).digest('hex');
  } finally {
    await fh.close();
  }
}

/** Whether an archive matches fastai's published size/MD5 (true when nothing is known). */
async function matchesKnown(url: string, file: string): Promise<boolean> {
  const known = KNOWN_ARCHIVES[url];
  if (known === undefined) return true;
  const s = await stat(file);
  return s.size === known.size && (await md5FirstMiB(file)) === known.md5FirstMiB;
}

/**
 * Extracts `archive` into a hidden temporary folder next to `out`, then renames it into place,
 * so `out` exists only once extraction has fully succeeded.
 */
async function extractAtomically(archive: string, out: string): Promise<void> {
  const parent = join(out, '..');
  const tmp = join(parent, `.${basename(out)}.partial-${process.pid}-${Date.now()}`);
  // Read the whole archive once without writing anything: a truncated or corrupt archive,
  // or one with an entry that would land outside the folder (`..`, an absolute path, a link
  // leading out), fails here, before a single file lands on disk.
  const unsafe: string[] = [];
  await list({
    file: archive,
    strict: true,
    onReadEntry: (entry) => {
      try {
        checkArchiveEntry(archive, entry.path, entry.type, entry.linkpath);
      } catch (err) {
        unsafe.push((err as Error).message);
      }
    },
  });
  if (unsafe.length > 0) {
    throw new UnsafeArchiveError(
      `${unsafe.length} entr${unsafe.length === 1 ? 'y' : 'ies'} would be written outside the ` +
        `dataset folder, so nothing was extracted: ${unsafe.slice(0, 3).join(' ')}`,
    );
  }
  await mkdir(tmp, { recursive: true });
  try {
    await extract({ file: archive, cwd: tmp, strict: true });
    const entries = (await readdir(tmp)).filter((e) => e !== '.DS_Store');
    // Archives usually hold one top-level folder (oxford-iiit-pet/...): that folder is the dataset.
    const single = entries.length === 1 ? join(tmp, entries[0]!) : undefined;
    const src = single !== undefined && (await kind(single)) === 'dir' ? single : tmp;
    if ((await kind(out)) !== undefined) {
      const old = join(parent, `.${basename(out)}.old-${process.pid}-${Date.now()}`);
      await rename(out, old);
      await rename(src, out);
      await rm(old, { recursive: true, force: true });
    } else {
      try {
        await rename(src, out);
      } catch (err) {
        // Another process finished the same extraction first: its folder is complete.
        if ((await kind(out)) !== 'dir') throw err;
      }
    }
  } catch (err) {
    // The clean-up must not hide why the extraction failed; it is reported alongside.
    await removeSettled(tmp).catch(() => undefined);
    if ((await kind(tmp)) !== undefined) {
      (err as Error).message +=
        ` (the partial folder "${tmp}" could not be removed: delete it by hand)`;
    }
    throw err;
  }
  await removeSettled(tmp).catch(() => undefined);
}

/** An archive refused before extraction because of an entry that would escape its folder. */
class UnsafeArchiveError extends Error {}

/**
 * Removes a folder that a failed extraction may still be writing to (tar rejects on the
 * first error while queued writes finish): remove, wait, and remove again until it stays gone.
 */
async function removeSettled(dir: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await new Promise((ok) => setTimeout(ok, i === 0 ? 0 : 25));
    if ((await kind(dir)) === undefined) return;
  }
}

/**
 * Downloads a dataset archive (if needed) and extracts it, returning the dataset folder, as
 * fastai's `untar_data`. A second call finds the folder and returns at once.
 *
 * - `url` may be an http(s) URL (e.g. {@link URLs}`.PETS`), a local archive (`.tgz`,
 *   `.tar.gz`, `.tar`), or a local folder, which is returned unchanged: the way to use data
 *   you already have, or to work offline.
 * - Downloads are cached, resumable and verified (see {@link downloadFile}); fastai's
 *   published size and MD5 are checked for its URLs.
 * - Extraction (with the `tar` package) goes to a temporary folder renamed into place, so a
 *   failed or interrupted extraction never leaves a folder that looks complete.
 *
 * @param url - Archive URL, local archive, or local dataset folder.
 * @param options - `dest`, `force`, `cacheDir`, `sha256`, `onProgress`.
 * @returns The absolute path of the extracted dataset folder.
 * @throws {@link DownloadError} (code `DOWNLOAD`) when offline or the download fails, naming
 *   the URL and how to pass a local folder instead; {@link DataError} when the archive is
 *   corrupt or truncated (a downloaded archive is then deleted so the next call fetches it
 *   afresh) or a local path does not exist; {@link ValueError} on bad options.
 *
 * @example
 * ```ts no-run (network)
 * const path = await tsf.untarData(tsf.URLs.PETS);
 * const files = await tsf.getImageFiles(`${path}/images`);
 * // offline, with the data already on disk:
 * const same = await tsf.untarData('/data/oxford-iiit-pet');
 * ```
 */
export async function untarData(url: string, options: UntarDataOptions = {}): Promise<string> {
  checkOptionKeys('untarData', options, OPTION_KEYS);
  if (typeof url !== 'string' || url === '') {
    throw invalidValue('url', 'a dataset URL, a local archive or a local folder', url);
  }
  const force = options.force ?? false;
  const remote = isRemoteUrl(url);
  let name: string;
  if (remote) {
    name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
  } else {
    const path = localPath(url);
    const k = await kind(path);
    if (k === 'dir') return path;
    if (k === undefined) {
      throw new DataError(
        `untarData: "${url}" is not a URL and no such file or folder exists; pass an http(s) ` +
          'URL, a local .tgz/.tar.gz/.tar archive, or the folder of an extracted dataset',
      );
    }
    name = basename(path);
  }
  if (!ARCHIVE_EXT.test(name)) {
    throw invalidValue('url', 'an archive ending in .tgz, .tar.gz, .tar or .tar.bz2', url);
  }
  const stem = name.replace(ARCHIVE_EXT, '');
  const out = join(options.dest ?? join(cacheDir(options.cacheDir), 'data'), stem);
  if (!force && (await kind(out)) === 'dir') return out;

  const dl: DownloadOptions = { force };
  if (options.cacheDir !== undefined) dl.cacheDir = options.cacheDir;
  if (options.sha256 !== undefined) dl.sha256 = options.sha256;
  if (options.onProgress !== undefined) dl.onProgress = options.onProgress;
  let archive = await downloadFile(url, dl);
  if (remote && !(await matchesKnown(url, archive))) {
    // A cached archive that is not the published one (a new version, or a broken file).
    archive = await downloadFile(url, { ...dl, force: true });
    if (!(await matchesKnown(url, archive))) {
      await rm(archive, { force: true });
      const known = KNOWN_ARCHIVES[url]!;
      throw new DownloadError(
        url,
        `The archive downloaded from "${url}" does not match the published one (expected ` +
          `${known.size} bytes, md5 of the first MiB ${known.md5FirstMiB}); it was deleted. ` +
          'Try again, or download it yourself and pass the local archive or extracted folder.',
      );
    }
  }
  try {
    await extractAtomically(archive, out);
  } catch (err) {
    if (err instanceof UnsafeArchiveError) {
      if (remote) await rm(archive, { force: true });
      throw new DataError(
        `untarData: refusing "${archive}"${remote ? ` (downloaded from "${url}"; deleted)` : ''}: ` +
          `${err.message}. Do not extract this archive.`,
        { cause: err },
      );
    }
    if (remote) await rm(archive, { force: true });
    throw new DataError(
      `untarData: cannot extract "${archive}"${remote ? ` (downloaded from "${url}")` : ''}: ` +
        `${(err as Error).message}. The archive is corrupt or truncated; nothing was left in ` +
        `"${out}". ${remote ? 'The download was deleted: run again to fetch it afresh.' : 'Check the file.'}`,
      { cause: err },
    );
  }
  return out;
}
