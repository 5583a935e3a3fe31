import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataError } from '../../src/core/errors.js';
import { untarData } from '../../src/external/untar.js';

// A ustar archive written byte by byte: the tar package refuses to create such entries.
type Entry = { name: string; type?: '0' | '1' | '2' | '5'; body?: string; link?: string };
function ustar(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    h.write(e.link ?? '', 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('untarData refuses archives whose entries leave the dataset folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'tsfast-untar-unsafe-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const outside = join(work, 'outside');

  const cases: [string, Entry[], RegExp][] = [
    [
      'a ".." entry',
      [
        { name: 'ds/ok.txt', body: 'ok' },
        { name: 'ds/../../outside/evil.txt', body: 'x' },
      ],
      /"ds\/..\/..\/outside\/evil.txt".*climbs out/,
    ],
    [
      'an absolute path',
      [
        { name: 'ds/ok.txt', body: 'ok' },
        { name: `${outside}/abs.txt`, body: 'x' },
      ],
      /is an absolute path/,
    ],
    [
      'a symbolic link leading out, then a file written through it',
      [
        { name: 'ds/', type: '5' },
        { name: 'ds/link', type: '2', link: '../../outside' },
        { name: 'ds/link/pwned.txt', body: 'x' },
      ],
      /"ds\/link".*"..\/..\/outside".*link that leads outside/,
    ],
    [
      'a hard link to an absolute path',
      [{ name: 'ds/passwd', type: '1', link: '/etc/passwd' }],
      /"\/etc\/passwd".*absolute link target/,
    ],
  ];

  for (const [what, entries, pattern] of cases) {
    it(`${what}: nothing is written, inside or out, and the entry is named`, async () => {
      const name = what.replace(/[^a-z]+/g, '-');
      const archive = join(work, `${name}.tar`);
      writeFileSync(archive, ustar(entries));
      const dest = join(work, `dest-${name}`);
      await assert.rejects(
        untarData(archive, { dest }),
        (e: unknown) =>
          e instanceof DataError &&
          e.message.includes(`refusing "${archive}"`) &&
          pattern.test(e.message),
      );
      assert.equal(await exists(outside), false, 'nothing written outside');
      assert.equal(await exists(join(dest, name)), false, 'no dataset folder');
      const left = (await exists(dest)) ? readdirSync(dest) : [];
      assert.deepEqual(left, [], `no partial folder left: ${left.join(', ')}`);
    });
  }

  it('a safe archive written the same way extracts (the writer is sound)', async () => {
    const archive = join(work, 'safe.tar');
    writeFileSync(
      archive,
      ustar([
        { name: 'safe/', type: '5' },
        { name: 'safe/a.txt', body: 'alpha' },
        { name: 'safe/inner', type: '2', link: 'a.txt' },
      ]),
    );
    const dir = await untarData(archive, { dest: join(work, 'dest-safe') });
    assert.deepEqual(readdirSync(dir).sort(), ['a.txt', 'inner']);
  });
});
