import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { demoCommand } from '../../src/cli/demo-command.js';
import type { DemoResult } from '../../src/demo/run-demo.js';

describe('tsfast demo', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('--quick runs pretrain -> transfer -> scratch offline and writes the plots', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tsfast-demo-'));
    dirs.push(out);
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(' '));
    let code: number;
    try {
      code = await demoCommand(['--quick', '--out', out, '--json', '--seed', '3']);
    } finally {
      console.log = log;
    }
    assert.equal(code, 0);
    const result = JSON.parse(lines.at(-1)!) as DemoResult;
    for (const v of [result.pretrainAccuracy, result.pretrainedAccuracy, result.scratchAccuracy]) {
      assert.ok(v >= 0 && v <= 1, String(v));
    }
    assert.equal(result.curves.pretrained.length, result.transferEpochs);
    assert.equal(result.curves.scratch.length, result.transferEpochs);
    assert.equal(result.pretrainedAccuracy, result.curves.pretrained.at(-1));
    const text = lines.join('\n');
    assert.match(text, /pretrained body, fine-tuned : \d+\.\d%/);
    assert.match(text, /same network from scratch {3}: \d+\.\d%/);
    assert.deepEqual(
      result.plots.map((p) => p.slice(out.length + 1)),
      ['pretrain-loss.png', 'transfer-accuracy.png', 'transfer-confusion.png'],
    );
    for (const p of result.plots) {
      assert.equal((await sharp(await readFile(p)).metadata()).format, 'png');
    }
  });

  it('rejects bad arguments with the usage', async () => {
    const err = console.error;
    const msgs: string[] = [];
    console.error = (...a: unknown[]) => msgs.push(a.join(' '));
    try {
      assert.equal(await demoCommand(['--bogus']), 2);
      assert.equal(await demoCommand(['--seed', 'x']), 2);
    } finally {
      console.error = err;
    }
    assert.match(msgs.join('\n'), /Usage: tsfast demo/);
  });
});
