import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataError, ValueError } from '../../src/core/errors.js';
import { setSeed } from '../../src/core/random.js';
import {
  ColSplitter,
  FileSplitter,
  FuncSplitter,
  GrandparentSplitter,
  IndexSplitter,
  RandomSplitter,
  TrainTestSplitter,
} from '../../src/data/splitters.js';

const items = Array.from({ length: 940 }, (_, i) => `/data/img_${i}.jpg`);

function assertPartition(train: number[], valid: number[], n: number): void {
  const all = new Set([...train, ...valid]);
  assert.equal(all.size, train.length + valid.length, 'train and valid overlap');
  assert.equal(all.size, n, 'not every item is in a split');
}

describe('RandomSplitter', () => {
  it('gives 752/188 of 940, disjoint, identical for the same seed', () => {
    const [train, valid] = RandomSplitter({ seed: 42 })(items);
    assert.equal(train.length, 752);
    assert.equal(valid.length, 188);
    assertPartition(train, valid, 940);
    const [train2, valid2] = RandomSplitter({ seed: 42 })(items);
    assert.deepEqual(train2, train);
    assert.deepEqual(valid2, valid);
    const [, valid3] = RandomSplitter({ seed: 43 })(items);
    assert.notDeepEqual(valid3, valid);
  });

  it('cuts floor(validPct * n) as fastai does and follows setSeed without a seed', () => {
    const [train, valid] = RandomSplitter({ validPct: 0.25 })(items.slice(0, 10));
    assert.equal(valid.length, 2);
    assert.equal(train.length, 8);
    setSeed(7);
    const a = RandomSplitter()(items);
    setSeed(7);
    assert.deepEqual(RandomSplitter()(items), a);
  });

  it('rejects a bad validPct and unknown options', () => {
    assert.throws(() => RandomSplitter({ validPct: 1 }), ValueError);
    assert.throws(() => RandomSplitter({ validpct: 0.1 } as never), /unknown option `validpct`/);
  });
});

describe('other splitters', () => {
  it('FuncSplitter and IndexSplitter', () => {
    assert.deepEqual(FuncSplitter((f) => String(f).endsWith('_3.jpg'))(items.slice(0, 5)), [
      [0, 1, 2, 4],
      [3],
    ]);
    assert.deepEqual(IndexSplitter([4, 1])(items.slice(0, 5)), [
      [0, 2, 3],
      [1, 4],
    ]);
    assert.throws(() => IndexSplitter([9])(items.slice(0, 5)), /index 9 is out of range for 5/);
  });

  it('GrandparentSplitter splits on the folder two levels up', () => {
    const files = [
      '/d/train/ants/1.jpg',
      '/d/val/bees/2.jpg',
      '/d/train/bees/3.jpg',
      '/d/x/a/4.jpg',
    ];
    assert.deepEqual(GrandparentSplitter({ validName: 'val' })(files), [[0, 2], [1]]);
  });

  it('ColSplitter reads is_valid as fastai does', () => {
    const rows = [
      { f: 'a', is_valid: 'True' },
      { f: 'b', is_valid: 'False' },
      { f: 'c', is_valid: true },
      { f: 'd', is_valid: '0' },
    ];
    assert.deepEqual(ColSplitter()(rows), [
      [1, 3],
      [0, 2],
    ]);
    assert.throws(
      () => ColSplitter('valid')(rows),
      (e: unknown) => e instanceof DataError && /no column "valid"/.test(e.message),
    );
  });

  it('FileSplitter reads the validation names from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-split-'));
    const file = join(dir, 'valid.txt');
    writeFileSync(file, 'img_2.jpg\nimg_4.jpg\n');
    assert.deepEqual(FileSplitter(file)(items.slice(0, 5)), [
      [0, 1, 3],
      [2, 4],
    ]);
    assert.throws(() => FileSplitter(join(dir, 'none.txt'))(items), /cannot read ".*none.txt"/);
  });

  it('TrainTestSplitter keeps each label proportion when stratified', () => {
    const labels = items.map((_, i) => (i < 800 ? 'a' : i < 900 ? 'b' : 'c'));
    const [train, valid] = TrainTestSplitter({ testSize: 0.2, randomState: 1, stratify: labels })(
      items,
    );
    assertPartition(train, valid, 940);
    const count = (idx: number[], l: string) => idx.filter((i) => labels[i] === l).length;
    assert.deepEqual([count(valid, 'a'), count(valid, 'b'), count(valid, 'c')], [160, 20, 8]);
    assert.deepEqual(
      TrainTestSplitter({ testSize: 0.2, randomState: 1, stratify: labels })(items),
      [train, valid],
    );
  });
});
