import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataError } from '../../src/core/errors.js';
import {
  checkArchiveEntry,
  checkRelativeRef,
  resolveInside,
  resolveInsideReal,
} from '../../src/core/safe-path.js';

describe('safe paths', () => {
  it('resolves names inside the folder and refuses the ways out, naming file and path', () => {
    assert.equal(resolveInside('/m', 'a/b.bin', 'model.json'), '/m/a/b.bin');
    const refused: [unknown, RegExp][] = [
      ['../x', /climbs out/],
      ['a/../../x', /climbs out/],
      ['a\\..\\x', /climbs out/],
      ['/etc/passwd', /absolute path/],
      ['C:\\Windows\\x', /absolute path/],
      ['\\\\server\\share', /absolute path/],
      ['a\0b', /NUL byte/],
      ['', /not a file name/],
      [null, /not a file name/],
      [7, /not a file name/],
    ];
    for (const [ref, pattern] of refused) {
      assert.throws(
        () => resolveInside('/m', ref, 'model.json'),
        (e: unknown) =>
          e instanceof DataError &&
          e.message.startsWith(`"model.json" refers to ${JSON.stringify(ref)}`) &&
          pattern.test(e.message),
        String(ref),
      );
    }
    assert.equal(checkRelativeRef('w.bin', 'm.json', '/m'), 'w.bin');
  });

  it('follows symbolic links: inside is fine, a link leading out is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsfast-safe-'));
    const dir = join(root, 'model');
    mkdirSync(dir);
    writeFileSync(join(dir, 'real.bin'), 'in');
    writeFileSync(join(root, 'secret.bin'), 'out');
    symlinkSync(join(dir, 'real.bin'), join(dir, 'alias.bin'));
    symlinkSync(join(root, 'secret.bin'), join(dir, 'escape.bin'));
    assert.ok((await resolveInsideReal(dir, 'alias.bin', 'm.json')).endsWith('real.bin'));
    assert.equal(await resolveInsideReal(dir, 'missing.bin', 'm.json'), join(dir, 'missing.bin'));
    await assert.rejects(
      resolveInsideReal(dir, 'escape.bin', 'm.json'),
      (e: unknown) => e instanceof DataError && /symbolic link to ".*secret.bin"/.test(e.message),
    );
  });

  it('checks archive entries and link targets', () => {
    checkArchiveEntry('a.tgz', 'ds/', 'Directory');
    checkArchiveEntry('a.tgz', './ds/x.txt', 'File');
    checkArchiveEntry('a.tgz', 'ds/sub/l', 'SymbolicLink', '../x.txt');
    checkArchiveEntry('a.tgz', 'ds/h', 'Link', 'ds/x.txt');
    assert.throws(
      () => checkArchiveEntry('a.tgz', 'ds/l', 'SymbolicLink', '../../x'),
      /leads outside/,
    );
    assert.throws(
      () => checkArchiveEntry('a.tgz', 'ds/l', 'SymbolicLink', '/etc'),
      /absolute link/,
    );
    assert.throws(() => checkArchiveEntry('a.tgz', '../x', 'File'), /"a.tgz" entry "..\/x"/);
  });
});
