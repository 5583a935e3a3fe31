import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempPathBeside, writeFileAtomic } from '../../src/core/atomic-write.js';

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
