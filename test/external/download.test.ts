import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataError, ValueError } from '../../src/core/errors.js';
import {
  CACHE_ENV_VAR,
  cacheDir,
  cachedPath,
  DownloadError,
  downloadFile,
  sha256File,
} from '../../src/external/download.js';
import { deadPort, startServer, type TestServer } from './server.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('downloadFile', () => {
  let server: TestServer;
  let cache: string;
  const body = randomBytes(300_000);

  before(async () => {
    server = await startServer();
    cache = await mkdtemp(join(tmpdir(), 'tsfast-dl-'));
    server.routes.set('/files/model.bin', { body });
  });
  after(async () => {
    await server.close();
    await rm(cache, { recursive: true, force: true });
  });

  it('downloads into <cache>/downloads/<host>/<path>, then serves the cache without a request', async () => {
    const progress: [number, number | undefined][] = [];
    const file = await downloadFile(server.url('/files/model.bin'), {
      cacheDir: cache,
      sha256: sha(body),
      onProgress: (r, t) => progress.push([r, t]),
    });
    assert.equal(file, cachedPath(server.url('/files/model.bin'), { cacheDir: cache }));
    assert.ok(file.startsWith(join(cache, 'downloads', '127.0.0.1_')), file);
    assert.ok(file.endsWith(join('files', 'model.bin')));
    assert.deepEqual(await readFile(file), body);
    assert.equal(await exists(`${file}.part`), false);
    assert.deepEqual(progress.at(-1), [body.length, body.length]);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]![0] >= progress[i - 1]![0]);

    const requests = server.log.length;
    const again = await downloadFile(server.url('/files/model.bin'), { cacheDir: cache });
    assert.equal(again, file);
    assert.equal(server.log.length, requests, 'a cache hit makes no request');

    await downloadFile(server.url('/files/model.bin'), { cacheDir: cache, force: true });
    assert.equal(server.log.length, requests + 1, '`force` downloads again');
  });

  it('resumes with a Range request after the connection is cut', async () => {
    server.routes.set('/cut.bin', { body, cutAfter: 100_000, cutTimes: 1 });
    const file = await downloadFile(server.url('/cut.bin'), { cacheDir: cache, sha256: sha(body) });
    assert.deepEqual(await readFile(file), body);
    const hits = server.log.filter((l) => l.path === '/cut.bin');
    assert.equal(hits.length, 2);
    assert.equal(hits[0]!.range, undefined);
    const resumedFrom = Number(/bytes=(\d+)-/.exec(hits[1]!.range ?? '')?.[1]);
    assert.ok(resumedFrom >= 100_000 && resumedFrom < body.length, `resumed from ${resumedFrom}`);
  });

  it('keeps a partial download when every attempt is cut, and the next call resumes it', async () => {
    server.routes.set('/flaky.bin', { body, cutAfter: 50_000, cutTimes: 4 });
    const url = server.url('/flaky.bin');
    await assert.rejects(
      downloadFile(url, { cacheDir: cache }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.url === url &&
        /bytes kept/.test(e.message) &&
        /resumes/.test(e.message),
    );
    const dest = cachedPath(url, { cacheDir: cache });
    assert.equal(await exists(dest), false, 'no final file from a partial download');
    const kept = (await stat(`${dest}.part`)).size;
    assert.ok(kept >= 150_000, `kept ${kept} bytes`);
    const file = await downloadFile(url, { cacheDir: cache, sha256: sha(body) });
    assert.deepEqual(await readFile(file), body);
    const last = server.log.filter((l) => l.path === '/flaky.bin').at(-1)!;
    assert.equal(last.range, `bytes=${kept}-`);
  });

  it('starts over when the server ignores the Range header', async () => {
    const url = server.url('/norange.bin');
    server.routes.set('/norange.bin', { body, noRange: true });
    const dest = cachedPath(url, { cacheDir: cache });
    await mkdir(join(dest, '..'), { recursive: true });
    await writeFile(`${dest}.part`, body.subarray(0, 1000));
    const file = await downloadFile(url, { cacheDir: cache });
    assert.deepEqual(await readFile(file), body);
    assert.equal(server.log.filter((l) => l.path === '/norange.bin').at(-1)!.range, 'bytes=1000-');
  });

  it('deletes a download whose checksum does not match, and says so', async () => {
    const url = server.url('/files/model.bin');
    const wrong = '0'.repeat(64);
    await assert.rejects(
      downloadFile(url, { cacheDir: cache, fileName: 'other.bin', sha256: wrong }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.message.includes(`expected sha256 ${wrong}, got ${sha(body)}`) &&
        e.message.includes(url),
    );
    const dest = cachedPath(url, { cacheDir: cache, fileName: 'other.bin' });
    assert.equal(await exists(dest), false);
    assert.equal(await exists(`${dest}.part`), false);
  });

  it('re-downloads a cached file that fails its checksum', async () => {
    const url = server.url('/files/model.bin');
    const dest = cachedPath(url, { cacheDir: cache, fileName: 'stale.bin' });
    await downloadFile(url, { cacheDir: cache, fileName: 'stale.bin' });
    await writeFile(dest, 'corrupted');
    await downloadFile(url, { cacheDir: cache, fileName: 'stale.bin', sha256: sha(body) });
    assert.equal(await sha256File(dest), sha(body));
  });

  it('reports an HTTP error with the status, the URL and the local-file alternative', async () => {
    const url = server.url('/nope.bin');
    await assert.rejects(
      downloadFile(url, { cacheDir: cache }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.code === 'DOWNLOAD' &&
        /HTTP 404/.test(e.message) &&
        e.message.includes(`"${url}"`) &&
        /local path/.test(e.message),
    );
  });

  it('reports offline (nothing listening) clearly, without retry loops', async () => {
    const url = `http://127.0.0.1:${await deadPort()}/weights.bin`;
    await assert.rejects(
      downloadFile(url, { cacheDir: cache }),
      (e: unknown) =>
        e instanceof DownloadError &&
        /connection refused/.test(e.message) &&
        e.message.includes(url) &&
        /pass its local path/.test(e.message),
    );
  });

  it('returns an existing local file or file:// URL unchanged', async () => {
    const local = join(cache, 'local.bin');
    await writeFile(local, 'abc');
    assert.equal(await downloadFile(local), local);
    assert.equal(await downloadFile(`file://${local}`), local);
    await assert.rejects(downloadFile(join(cache, 'missing.bin')), DataError);
  });

  it('validates its options', async () => {
    await assert.rejects(
      downloadFile(server.url('/x'), { sha: 'a' } as never),
      /unknown option `sha`/,
    );
    await assert.rejects(downloadFile(server.url('/x'), { sha256: 'abc' }), ValueError);
    assert.throws(() => cachedPath('http://h/a/../'), ValueError);
  });

  it('takes the cache folder from the option, then TSFAST_CACHE, then ~/.cache/tsfast', () => {
    const saved = process.env[CACHE_ENV_VAR];
    try {
      process.env[CACHE_ENV_VAR] = '/tmp/envcache';
      assert.equal(cacheDir(), '/tmp/envcache');
      assert.equal(cacheDir('/tmp/opt'), '/tmp/opt');
      delete process.env[CACHE_ENV_VAR];
      assert.equal(cacheDir(), join(homedir(), '.cache', 'tsfast'));
    } finally {
      if (saved === undefined) delete process.env[CACHE_ENV_VAR];
      else process.env[CACHE_ENV_VAR] = saved;
    }
  });
});
