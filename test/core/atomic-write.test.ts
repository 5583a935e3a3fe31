/** Atomic writes: the destination holds either the old or the complete new content. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic, writeFolderAtomic } from '../../src/core/atomic-write.js';

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
