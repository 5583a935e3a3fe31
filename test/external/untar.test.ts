import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from 'tar';
import { DataError } from '../../src/core/errors.js';
import { cachedPath, DownloadError } from '../../src/external/download.js';
import { untarData } from '../../src/external/untar.js';
import { URLs } from '../../src/external/urls.js';
import { deadPort, startServer, type TestServer } from './server.js';

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('untarData', () => {
  let server: TestServer;
  let work: string;
  let cache: string;
  let tgz: Buffer;
  const files: Record<string, string> = {
    'images/Abyssinian_1.txt': 'cat one',
    'images/beagle_2.txt': 'dog two',
    'annotations/list.txt': 'Abyssinian_1 1\nbeagle_2 2\n',
  };

  before(async () => {
    server = await startServer();
    work = await mkdtemp(join(tmpdir(), 'tsfast-untar-'));
    cache = join(work, 'cache');
    // Build a dataset archive the way fastai's are laid out: one top-level folder.
    const src = join(work, 'src', 'minipets');
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(join(src, rel, '..'), { recursive: true });
      await writeFile(join(src, rel), text);
    }
    const archive = join(work, 'minipets.tgz');
    await create({ gzip: true, file: archive, cwd: join(work, 'src') }, ['minipets']);
    tgz = await readFile(archive);
    server.routes.set('/data/minipets.tgz', { body: tgz });
    server.routes.set('/data/truncated.tgz', {
      body: tgz.subarray(0, Math.floor(tgz.length * 0.6)),
    });
    server.routes.set('/data/garbage.tgz', {
      body: Buffer.from('this is not a gzip file'.repeat(50)),
    });
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  async function expectDataset(dir: string) {
    for (const [rel, text] of Object.entries(files)) {
      assert.equal(await readFile(join(dir, rel), 'utf8'), text, rel);
    }
  }

  it('downloads, extracts into <cache>/data/<name>, then returns the folder without a request', async () => {
    const url = server.url('/data/minipets.tgz');
    const sha256 = createHash('sha256').update(tgz).digest('hex');
    const dir = await untarData(url, { cacheDir: cache, sha256 });
    assert.equal(dir, join(cache, 'data', 'minipets'));
    await expectDataset(dir);
    assert.deepEqual(await readdir(join(cache, 'data')), ['minipets'], 'no temporary folder left');
    const n = server.log.length;
    assert.equal(await untarData(url, { cacheDir: cache }), dir);
    assert.equal(server.log.length, n, 'cache hit: no request');
  });

  it('extracts into `dest` and, with `force`, replaces the folder', async () => {
    const url = server.url('/data/minipets.tgz');
    const dest = join(work, 'datasets');
    const dir = await untarData(url, { cacheDir: cache, dest });
    assert.equal(dir, join(dest, 'minipets'));
    await writeFile(join(dir, 'stale.txt'), 'old');
    const n = server.log.length;
    await untarData(url, { cacheDir: cache, dest, force: true });
    assert.equal(server.log.length, n + 1, '`force` downloads again');
    assert.equal(await exists(join(dir, 'stale.txt')), false);
    await expectDataset(dir);
  });

  it('rejects a truncated archive clearly and leaves no folder that looks complete', async () => {
    const url = server.url('/data/truncated.tgz');
    await assert.rejects(
      untarData(url, { cacheDir: cache }),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.includes(url) &&
        /corrupt or truncated/.test(e.message) &&
        /run again/.test(e.message),
    );
    assert.equal(await exists(join(cache, 'data', 'truncated')), false);
    const left = (await readdir(join(cache, 'data'))).filter((e) => e.includes('truncated'));
    assert.deepEqual(left, [], 'no partial extraction left');
    assert.equal(await exists(cachedPath(url, { cacheDir: cache })), false, 'bad archive deleted');
  });

  it('rejects a file that is not an archive at all', async () => {
    await assert.rejects(
      untarData(server.url('/data/garbage.tgz'), { cacheDir: cache }),
      DataError,
    );
    assert.equal(await exists(join(cache, 'data', 'garbage')), false);
  });

  it('offline: names the URL and how to pass a local folder instead', async () => {
    const url = `http://127.0.0.1:${await deadPort()}/x/oxford-iiit-pet.tgz`;
    await assert.rejects(
      untarData(url, { cacheDir: cache }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.message.includes(`"${url}"`) &&
        /extracted folder/.test(e.message),
    );
    assert.equal(await exists(join(cache, 'data', 'oxford-iiit-pet')), false);
  });

  it('passes a local folder straight through and extracts a local archive', async () => {
    const folder = join(work, 'src', 'minipets');
    assert.equal(await untarData(folder), folder);
    const local = join(work, 'minipets.tgz');
    const dir = await untarData(local, { dest: join(work, 'fromlocal') });
    assert.equal(dir, join(work, 'fromlocal', 'minipets'));
    await expectDataset(dir);
    await assert.rejects(untarData(join(work, 'nothing-here')), DataError);
  });

  it('knows fastai URLs', () => {
    assert.equal(URLs.PETS, 'https://s3.amazonaws.com/fast-ai-imageclas/oxford-iiit-pet.tgz');
    assert.equal(URLs.MNIST_TINY, 'https://s3.amazonaws.com/fast-ai-sample/mnist_tiny.tgz');
  });
});
