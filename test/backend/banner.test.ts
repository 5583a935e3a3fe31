/**
 * tfjs's "install our node backend" banner is silenced once tsfast has chosen the engine, and
 * still printed when a user sets a backend themselves (tsfast does not hide it then).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BANNER = /Hi, looks like you are running TensorFlow\.js in Node\.js/;

function runChild(body: string): { stdout: string; stderr: string; status: number | null } {
  const src = join(REPO, 'src', 'index.ts');
  const script = `import * as tf from '@tensorflow/tfjs';
const tsf = await import(${JSON.stringify(src)});
${body}
// The banner comes with the cpu backend's first tensor.
tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1).arraySync());
const cpu = tf.findBackend('cpu');
cpu.write(new Float32Array([1]), [1], 'float32');
console.log('backend', tf.getBackend());`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, TSFAST_BACKEND: '' },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe("tfjs's node-backend banner", () => {
  it('is not printed after tsf.ready() chose the engine', () => {
    const r = runChild('await tsf.ready();');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend (wasm|cpu|tensorflow)/);
    assert.doesNotMatch(r.stderr + r.stdout, BANNER);
  });

  it('is not printed when a DataLoader makes the first tensors (it chooses the engine first)', () => {
    const r = runChild(`
const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
const { join } = await import('node:path');
const { tmpdir } = await import('node:os');
const sharp = (await import('sharp')).default;
const dir = mkdtempSync(join(tmpdir(), 'tsfast-banner-'));
for (let i = 0; i < 4; i++) {
  for (const [name, r] of [['red', 220], ['blue', 20]]) {
    const img = sharp({ create: { width: 20, height: 20, channels: 3, background: { r: r, g: 0, b: 255 - r } } });
    writeFileSync(join(dir, name + '_' + i + '.png'), await img.png().toBuffer());
  }
}
const block = new tsf.DataBlock({
  blocks: [tsf.ImageBlock, tsf.CategoryBlock],
  getItems: tsf.getImageFiles,
  splitter: tsf.IndexSplitter([0]),
  getY: tsf.usingAttr(tsf.RegexLabeller(/(.+)_\\d+.png$/), 'name'),
  itemTfms: tsf.Resize(16),
});
const dls = await block.dataloaders(dir, { bs: 2 });
const b = await dls.oneBatch();
tf.dispose([b.xs, b.ys]);
rmSync(dir, { recursive: true, force: true });`);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, BANNER);
  });

  it('is still printed when the user picks the cpu backend without tsfast', () => {
    const r = runChild("await tf.setBackend('cpu');");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr + r.stdout, BANNER);
  });
});
