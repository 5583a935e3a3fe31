import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ValueError } from '../../src/core/errors.js';
import { RandomGenerator } from '../../src/core/random.js';
import { SHAPES, shapeSvg, writeShapeImages } from '../../src/demo/shapes.js';

describe('synthetic shapes', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes <dir>/<class>/<class>_<n>.png RGB images, the same bytes for the same seed', async () => {
    const a = await mkdtemp(join(tmpdir(), 'tsfast-shapes-'));
    const b = await mkdtemp(join(tmpdir(), 'tsfast-shapes-'));
    dirs.push(a, b);
    const files = await writeShapeImages(a, {
      classes: ['circle', 'star'],
      perClass: 3,
      size: 32,
      seed: 5,
    });
    await writeShapeImages(b, { classes: ['circle', 'star'], perClass: 3, size: 32, seed: 5 });
    assert.deepEqual(
      files.map((f) => [f.file.slice(a.length + 1), f.label]),
      [
        ['circle/circle_0.png', 'circle'],
        ['circle/circle_1.png', 'circle'],
        ['circle/circle_2.png', 'circle'],
        ['star/star_0.png', 'star'],
        ['star/star_1.png', 'star'],
        ['star/star_2.png', 'star'],
      ].map(([f, l]) => [join(...f!.split('/')), l]),
    );
    for (const f of files) {
      const meta = await sharp(f.file).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 32, 32, 3]);
      assert.deepEqual(await readFile(f.file), await readFile(f.file.replace(a, b)));
    }
  });

  it('draws every shape differently: the foreground covers a shape-specific area', async () => {
    // Same colours/position/rotation draws (same seed) for each shape, on a plain background:
    // the count of pixels that differ from the background depends on the shape.
    const areas = new Map<string, number>();
    for (const shape of SHAPES) {
      const svg = shapeSvg(shape, new RandomGenerator(11), 64);
      const { data } = await sharp(Buffer.from(svg))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const corner = [data[0]!, data[1]!, data[2]!];
      let fg = 0;
      for (let i = 0; i < data.length; i += 3) {
        const d =
          Math.abs(data[i]! - corner[0]!) +
          Math.abs(data[i + 1]! - corner[1]!) +
          Math.abs(data[i + 2]! - corner[2]!);
        if (d > 60) fg++;
      }
      areas.set(shape, fg);
    }
    assert.equal(new Set(areas.values()).size, SHAPES.length, JSON.stringify([...areas]));
    // A ring has a hole; a circle of the same radius does not.
    assert.ok(areas.get('ring')! < areas.get('circle')!);
  });

  it('rejects unknown shapes and bad counts', async () => {
    await assert.rejects(
      writeShapeImages('/nonexistent', { classes: ['blob' as never], perClass: 1 }),
      ValueError,
    );
    await assert.rejects(
      writeShapeImages('/nonexistent', { classes: ['circle'], perClass: 0 }),
      /perClass/,
    );
  });
});
