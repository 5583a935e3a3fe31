import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PYTHON = '/usr/bin/python3';

/** `false` when Debian's PyTorch imports under /usr/bin/python3, else the reason to skip. */
export function skipUnlessTorch(): false | string {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  return r.status === 0
    ? false
    : `needs PyTorch under ${PYTHON} (apt-get install python3-torch python3-torchvision)`;
}

/**
 * Runs a fixture generator from test/vision/fixtures into test/.fixtures/<name>-<hash of the
 * script>, once: a changed script regenerates, an unchanged one reuses the files.
 */
export function torchFixtures(script: string, args: readonly string[] = []): string {
  const path = join(ROOT, 'test', 'vision', 'fixtures', script);
  const hash = createHash('sha256')
    .update(readFileSync(path))
    .update(args.join(' '))
    .digest('hex')
    .slice(0, 12);
  const out = join(ROOT, 'test', '.fixtures', `${script.replace(/\.py$/, '')}-${hash}`);
  const done = join(out, 'DONE');
  if (existsSync(done)) return out;
  const r = spawnSync(PYTHON, [path, out, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${script} failed:\n${r.stdout}\n${r.stderr}`);
  writeFileSync(done, '');
  return out;
}
