/**
 * Downloading files into the tsfast cache: resumable, checksummed, atomic.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { checkOptionKeys, DataError, invalidValue, TsfastError } from '../core/errors.js';

/**
 * Environment variable overriding the cache folder (default `~/.cache/tsfast`).
 * @example
 * ```ts
 * process.env[tsf.CACHE_ENV_VAR] = '/data/tsfast-cache';
 * tsf.cacheDir(); // '/data/tsfast-cache'
 * ```
 */
export const CACHE_ENV_VAR = 'TSFAST_CACHE';

/**
 * A download failed: the network, the server or the received bytes. The message names the URL
 * and says how to use a local copy instead.
 *
 * @example
 * ```ts
 * try {
 *   await tsf.downloadFile('https://example.com/weights.bin');
 * } catch (err) {
 *   if (err instanceof tsf.DownloadError) console.error(err.message);
 * }
 * ```
 */
export class DownloadError extends TsfastError {
  /** The URL that failed. */
  readonly url: string;

  /**
   * @param url - The URL that failed.
   * @param message - What failed and how to get the file another way.
   */
  constructor(url: string, message: string, options?: ErrorOptions) {
    super('DOWNLOAD', message, options);
    this.url = url;
  }
}

/**
 * Options of {@link downloadFile}.
 *
 * @example
 * ```ts
 * const opts: tsf.DownloadOptions = { cacheDir: '/data/cache', force: false };
 * ```
 */
export interface DownloadOptions {
  /**
   * Cache root; files go to `<cacheDir>/downloads/<host>/<url path>`.
   * @defaultValue `$TSFAST_CACHE`, else `~/.cache/tsfast`
   */
  cacheDir?: string;
  /**
   * Name of the cached file, replacing the last segment of the URL path.
   * @defaultValue the URL's last path segment
   */
  fileName?: string;
  /**
   * Expected SHA-256 of the whole file (hex). A cached file that does not match is
   * downloaded again; a download that does not match is deleted and reported.
   * @defaultValue no check
   */
  sha256?: string;
  /**
   * Download again even when the file is cached (also discards a partial download).
   * @defaultValue false
   */
  force?: boolean;
  /**
   * Called as bytes arrive with the bytes received so far (including a resumed part) and the
   * total size when the server says it. When omitted, a progress bar is drawn on stderr if
   * it is a terminal.
   * @defaultValue a progress bar on a TTY, nothing otherwise
   */
  onProgress?: (received: number, total: number | undefined) => void;
}

const OPTION_KEYS = ['cacheDir', 'fileName', 'sha256', 'force', 'onProgress'] as const;
const MAX_ATTEMPTS = 4;

/**
 * The tsfast cache folder: `cacheDir` if given, else `$TSFAST_CACHE`, else `~/.cache/tsfast`.
 *
 * @param cacheDir - An explicit folder, which wins.
 * @returns An absolute path (not created).
 *
 * @example
 * ```ts
 * console.log(tsf.cacheDir()); // e.g. /home/me/.cache/tsfast
 * ```
 */
export function cacheDir(cacheDir?: string): string {
  const env = process.env[CACHE_ENV_VAR];
  return resolve(
    cacheDir ?? (env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'tsfast')),
  );
}

/**
 * Whether a source is downloaded: true for `http:` and `https:` URLs only.
 * @param source - A URL or a local path.
 * @returns True for an `http:`/`https:` URL.
 * @example
 * ```ts
 * isRemoteUrl('https://example.com/a.tgz'); // true
 * isRemoteUrl('file:///data/a.tgz'); // false
 * ```
 */
export function isRemoteUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Local path for a `file://` URL or a plain path.
 * @param source - A `file://` URL or a path (resolved against the working directory).
 * @returns An absolute path.
 * @example
 * ```ts
 * localPath('file:///data/pets.tgz'); // '/data/pets.tgz'
 * localPath('data/pets.tgz'); // '<cwd>/data/pets.tgz'
 * ```
 */
export function localPath(source: string): string {
  return source.startsWith('file://') ? fileURLToPath(source) : resolve(source);
}

function safeSegment(seg: string, url: string): string {
  const s = decodeURIComponent(seg).replace(/[\\/:*?"<>|\0]/g, '_');
  if (s === '' || s === '.' || s === '..') {
    throw invalidValue('url', 'a URL whose path has no empty, "." or ".." segments', url);
  }
  return s;
}

/**
 * Where {@link downloadFile} stores `url`: `<cache>/downloads/<host>/<path segments>`, so files
 * that reference each other by relative name (a tfjs `model.json` and its weight shards) stay
 * side by side.
 *
 * @param url - An http(s) URL.
 * @param options - `cacheDir` and `fileName` as in {@link downloadFile}.
 * @returns The absolute path of the cached file (which may not exist yet).
 * @throws {@link ValueError} when the URL cannot be parsed or has no file name.
 *
 * @example
 * ```ts
 * tsf.cachedPath('https://s3.amazonaws.com/fast-ai-imageclas/oxford-iiit-pet.tgz');
 * // ~/.cache/tsfast/downloads/s3.amazonaws.com/fast-ai-imageclas/oxford-iiit-pet.tgz
 * ```
 */
export function cachedPath(
  url: string,
  options: Pick<DownloadOptions, 'cacheDir' | 'fileName'> = {},
): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidValue('url', 'an http(s) URL', url);
  }
  const segs = parsed.pathname.split('/').filter((s) => s !== '');
  if (options.fileName !== undefined) {
    if (segs.length > 0) segs.pop();
    segs.push(options.fileName);
  }
  if (segs.length === 0) {
    throw invalidValue('url', 'a URL ending in a file name (or pass `fileName`)', url);
  }
  const host = safeSegment(parsed.host, url);
  return join(
    cacheDir(options.cacheDir),
    'downloads',
    host,
    ...segs.map((s) => safeSegment(s, url)),
  );
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * SHA-256 of a file, as lowercase hex.
 *
 * @param path - The file.
 * @returns The hex digest.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('weights.bin', 'abc');
 * const digest = await tsf.sha256File('weights.bin'); // 'ba7816bf...'
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function localHint(dest: string): string {
  return (
    `If you have the file already, pass its local path (or the extracted folder) instead of ` +
    `the URL, or copy it to "${dest}"`
  );
}

/** A terminal progress bar on stderr, redrawn at most every 100 ms. */
function ttyProgress(
  label: string,
): ((received: number, total: number | undefined) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (received, total) => {
    const now = Date.now();
    const done = total !== undefined && received >= total;
    if (!done && now - last < 100) return;
    last = now;
    const mb = (n: number) => (n / 1048576).toFixed(1);
    let line: string;
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, received / total);
      const w = 30;
      const bar = '#'.repeat(Math.round(frac * w)).padEnd(w, '.');
      line = `${label} [${bar}] ${(frac * 100).toFixed(0)}% ${mb(received)}/${mb(total)} MB`;
    } else {
      line = `${label} ${mb(received)} MB`;
    }
    process.stderr.write(`\r${line}${done ? '\n' : ''}`);
  };
}

function totalFrom(res: Response, offset: number): number | undefined {
  const range = res.headers.get('content-range');
  if (range) {
    const m = /\/(\d+)\s*$/.exec(range);
    if (m) return Number(m[1]);
  }
  const len = res.headers.get('content-length');
  if (len !== null && /^\d+$/.test(len)) return Number(len) + (res.status === 206 ? offset : 0);
  return undefined;
}

interface Attempt {
  complete: boolean;
  total: number | undefined;
}

/** One HTTP request appending to `part`; resolves when the body ends or rejects on failure. */
async function fetchInto(
  url: string,
  part: string,
  report: (received: number, total: number | undefined) => void,
): Promise<Attempt> {
  const offset = (await fileSize(part)) ?? 0;
  const headers: Record<string, string> = { 'user-agent': 'tsfast' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await fetch(url, { headers, redirect: 'follow' });
  if (res.status === 416 && offset > 0) {
    // The part is already as long as (or longer than) the file: start over.
    await res.body?.cancel();
    await rm(part, { force: true });
    return fetchInto(url, part, report);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new HttpStatusError(res.status, res.statusText);
  }
  const resumed = res.status === 206 && offset > 0;
  if (!resumed && offset > 0) await truncate(part, 0);
  const start = resumed ? offset : 0;
  const total = totalFrom(res, start);
  let received = start;
  report(received, total);
  if (!res.body) throw new Error('the response has no body');
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      report(received, total);
      cb(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
    counter,
    createWriteStream(part, { flags: 'a' }),
  );
  return { complete: total === undefined || received >= total, total };
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the machine offline?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return 'the host name does not resolve (offline?)';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'the connection timed out';
  return e.cause?.message ?? e.message ?? String(err);
}

/**
 * Downloads `url` into the tsfast cache and returns the cached path; later calls return the
 * cached file without touching the network.
 *
 * The bytes go to `<file>.part`, renamed to the final name only once complete (and verified
 * when `sha256` is given), so an interrupted download is never taken for a finished one. A
 * cut connection is resumed with an HTTP `Range` request, within this call (up to 3 times)
 * or by the next call. A local path or `file://` URL is returned as is if it exists.
 *
 * @param url - An http(s) URL, or a local file path / `file://` URL to use as is.
 * @param options - Cache folder, file name, checksum, `force`, progress callback.
 * @returns The absolute path of the downloaded (or local) file.
 * @throws {@link DownloadError} (code `DOWNLOAD`) when offline, on an HTTP error, on a
 *   truncated body or a checksum mismatch; the message names the URL and how to use a local
 *   copy instead. {@link DataError} when a local path does not exist. {@link ValueError} on
 *   bad options.
 *
 * @example
 * ```ts no-run (network)
 * const file = await tsf.downloadFile('https://example.com/model/model.json', {
 *   onProgress: (got, total) => console.log(got, total),
 * });
 * ```
 */
export async function downloadFile(url: string, options: DownloadOptions = {}): Promise<string> {
  checkOptionKeys('downloadFile', options, OPTION_KEYS);
  if (typeof url !== 'string' || url === '')
    throw invalidValue('url', 'a URL or a local path', url);
  const sha256 = options.sha256?.toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    throw invalidValue('sha256', 'a 64-character hex SHA-256 digest', options.sha256);
  }
  if (!isRemoteUrl(url)) {
    const path = localPath(url);
    if ((await fileSize(path)) === undefined) {
      throw new DataError(
        `downloadFile: "${url}" is neither an http(s) URL nor an existing local file; ` +
          'check the path, or pass the URL to download',
      );
    }
    return path;
  }
  const dest = cachedPath(url, options);
  const part = `${dest}.part`;
  const force = options.force ?? false;

  if (!force && (await fileSize(dest)) !== undefined) {
    if (sha256 === undefined || (await sha256File(dest)) === sha256) return dest;
    await rm(dest, { force: true }); // stale or corrupted copy: fetch it again
  }
  if (force) await rm(part, { force: true });
  await mkdir(join(dest, '..'), { recursive: true });

  const report = options.onProgress ?? ttyProgress(`Downloading ${url.split('/').pop() ?? url}`);
  const onProgress = report ?? (() => {});
  let lastError: unknown;
  let attempt: Attempt | undefined;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const before = (await fileSize(part)) ?? 0;
    try {
      attempt = await fetchInto(url, part, onProgress);
      if (attempt.complete) break;
      lastError = new Error(
        `the server sent ${(await fileSize(part)) ?? 0} of ${attempt.total} bytes`,
      );
    } catch (err) {
      lastError = err;
      if (err instanceof HttpStatusError) break;
    }
    attempt = undefined;
    // Retry only when the attempt made progress: a refused connection will not heal.
    if (((await fileSize(part)) ?? 0) <= before) break;
  }
  if (attempt === undefined) {
    const kept = (await fileSize(part)) ?? 0;
    const why =
      lastError instanceof HttpStatusError
        ? `the server answered ${lastError.message}`
        : describeNetworkError(lastError);
    const resume = kept > 0 ? ` (${kept} bytes kept in "${part}"; calling again resumes)` : '';
    throw new DownloadError(url, `Cannot download "${url}": ${why}${resume}. ${localHint(dest)}`, {
      cause: lastError,
    });
  }
  if (sha256 !== undefined) {
    const got = await sha256File(part);
    if (got !== sha256) {
      await rm(part, { force: true });
      throw new DownloadError(
        url,
        `Checksum mismatch for "${url}": expected sha256 ${sha256}, got ${got}. The download ` +
          'was deleted; check the URL and the expected checksum, then try again. ' +
          localHint(dest),
      );
    }
  }
  await rename(part, dest);
  return dest;
}
