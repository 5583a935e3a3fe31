/** Atomic writes: the destination holds either the old or the complete new content. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempPathBeside, writeFileAtomic, writeFolderAtomic } from '../../src/core/atomic-write.js';

describe('atomic writes', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tsfast-atomic-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('replaces a folder only once it is complete; a failed fill keeps the old one', async () => {
    const dir = join(work, 'out', 'model');
    await writeFolderAtomic(dir, async (tmp) => writeFile(join(tmp, 'a.txt'), 'one'));
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'one');
    await assert.rejects(
      writeFolderAtomic(dir, async (tmp) => {
        await writeFile(join(tmp, 'a.txt'), 'half');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'one', 'old content kept');
    await writeFolderAtomic(dir, async (tmp) => writeFile(join(tmp, 'b.txt'), 'two'));
    assert.deepEqual(readdirSync(dir), ['b.txt'], 'the old folder is gone');
    assert.deepEqual(readdirSync(join(work, 'out')), ['model'], 'no temporary folder left');
  });

  it('writes a file through a temporary name', async () => {
    const file = join(work, 'f', 'w.bin');
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(file, 'text');
    assert.equal(readFileSync(file, 'utf8'), 'text');
    assert.deepEqual(readdirSync(join(work, 'f')), ['w.bin']);
  });
});

describe('writeFileAtomic', () => {
  it('creates the folder, replaces the file and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-atomic-'));
    const file = join(dir, 'sub', 'a.json');
    await writeFileAtomic(file, '{"v":1}');
    await writeFileAtomic(file, new Uint8Array([123, 125]));
    assert.equal(readFileSync(file, 'utf8'), '{}');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.json']);
  });

  it('a failed write leaves the old file as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-atomic-'));
    const file = join(dir, 'keep.txt');
    writeFileSync(file, 'old');
    // A folder where the new file should go: the rename fails after the data was written.
    const target = join(dir, 'dir-target');
    await writeFileAtomic(join(target, 'x'), 'x');
    await assert.rejects(writeFileAtomic(target, 'new'));
    assert.deepEqual(readdirSync(dir).sort(), ['dir-target', 'keep.txt']);
    assert.equal(readFileSync(file, 'utf8'), 'old');
    assert.match(tempPathBeside(file), /\.keep\.txt\.tmp-\d+-[0-9a-f]{8}$/);
  });
});
