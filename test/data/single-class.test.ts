import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../../src/core/errors.js';
import { CategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import { getImageFiles } from '../../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../../src/data/labellers.js';
import { RandomSplitter } from '../../src/data/splitters.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';

describe('a single-class dataset', () => {
  it('fails when the data is built, with an error saying there is one class', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-one-class-'));
    for (let i = 0; i < 6; i++) {
      const jpg = await sharp({
        create: { width: 16, height: 16, channels: 3, background: { r: 40 * i, g: 90, b: 9 } },
      })
        .jpeg()
        .toBuffer();
      writeFileSync(join(dir, `cat_${i}.jpg`), jpg);
    }
    const block = new DataBlock({
      blocks: [ImageBlock, CategoryBlock],
      getItems: getImageFiles,
      splitter: RandomSplitter({ seed: 1, validPct: 0.34 }),
      getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
      itemTfms: Resize(16),
    });
    await assert.rejects(
      block.datasets(dir),
      (e: unknown) =>
        e instanceof DataError &&
        /4 training labels hold a single class \(\["cat"\]\)/.test(e.message) &&
        /at least two/.test(e.message),
    );
  });

  it('a vocab of one class passed by hand is refused too', () => {
    assert.throws(
      () => CategoryBlock({ vocab: ['only'] }).setup(['only', 'only']),
      (e: unknown) =>
        e instanceof DataError && /`vocab` passed holds a single class/.test(e.message),
    );
  });
});
