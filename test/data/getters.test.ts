import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataError } from '../../src/core/errors.js';
import { getFiles, getImageFiles } from '../../src/data/getters.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';

describe('getters', () => {
  it('lists the 940 pet photos, absolute and sorted', {
    skip: skipUnlessShared('data', 'pets', 'images'),
  }, async () => {
    const files = await getImageFiles(join(SHARED_DIR, 'data', 'pets', 'images'));
    assert.equal(files.length, 940);
    assert.ok(files.every((f) => f.startsWith('/')));
    assert.deepEqual(files, [...files].sort());
  });

  it('skips dot-files and dot-folders, recurses, filters extensions and folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsfast-get-'));
    for (const d of ['train/a', 'valid/b', '.hidden'])
      mkdirSync(join(root, d), { recursive: true });
    for (const f of [
      'train/a/1.JPG',
      'train/a/.2.jpg',
      'valid/b/3.png',
      '.hidden/4.jpg',
      'notes.txt',
      'top.jpeg',
    ]) {
      writeFileSync(join(root, f), 'x');
    }
    const rel = (fs: string[]) => fs.map((f) => f.slice(root.length + 1));
    assert.deepEqual(rel(await getImageFiles(root)), [
      'top.jpeg',
      'train/a/1.JPG',
      'valid/b/3.png',
    ]);
    assert.deepEqual(rel(await getImageFiles(root, { recurse: false })), ['top.jpeg']);
    assert.deepEqual(rel(await getImageFiles(root, { folders: ['valid'] })), ['valid/b/3.png']);
    assert.deepEqual(rel(await getFiles(root, { extensions: ['txt'] })), ['notes.txt']);
    const empty = mkdtempSync(join(tmpdir(), 'tsfast-empty-'));
    assert.deepEqual(await getImageFiles(empty), []);
    await assert.rejects(
      getImageFiles(join(root, 'nope')),
      (e: unknown) => e instanceof DataError && /is not a folder/.test(e.message),
    );
  });
});
