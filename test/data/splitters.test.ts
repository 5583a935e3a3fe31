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
import {
  EndSplitter,
  MaskSplitter,
  RandomSubsetSplitter,
} from '../../src/data/subset-splitters.js';

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

  it('GrandparentSplitter takes several names, listing indices name by name as fastai', () => {
    // fastai's test: train/3, valid/7, valid/7, train/3, then test/3, test/7, valid/7.
    const fnames = [
      '/m/train/3/9932.png',
      '/m/valid/7/7463.png',
      '/m/valid/7/21102.png',
      '/m/train/3/8003.png',
    ];
    assert.deepEqual(GrandparentSplitter()(fnames), [
      [0, 3],
      [1, 2],
    ]);
    const fnames2 = [...fnames, '/m/test/3/4256.png', '/m/test/7/2345.png', '/m/valid/7/6467.png'];
    assert.deepEqual(
      GrandparentSplitter({ trainName: ['train', 'valid'], validName: 'test' })(fnames2),
      [
        [0, 3, 1, 2, 6],
        [4, 5],
      ],
    );
  });

  it("ColSplitter's on and column positions, as fastai's tests", () => {
    const df = [0, 1, 2, 3, 4].map((a, i) => ({ a, b: [true, false, true, true, false][i] }));
    assert.deepEqual(ColSplitter('b')(df), [
      [1, 4],
      [0, 2, 3],
    ]);
    assert.deepEqual(ColSplitter(1)(df), [
      [1, 4],
      [0, 2, 3],
    ]);
    const ints = [1, 0, 1, 1, 0].map((v, a) => ({ a, is_valid: v }));
    assert.deepEqual(ColSplitter('is_valid')(ints), [
      [1, 4],
      [0, 2, 3],
    ]);
    const folds = [1, 2, 3, 1, 2, 3].map((b, a) => ({ a, b }));
    assert.deepEqual(ColSplitter('b', { on: 3 })(folds), [
      [0, 1, 3, 4],
      [2, 5],
    ]);
    assert.deepEqual(ColSplitter('b', { on: [2, 3] })(folds), [
      [0, 3],
      [1, 2, 4, 5],
    ]);
    // CSV cells are text: on 3 matches '3'.
    const csv = folds.map((r) => ({ a: String(r.a), b: String(r.b) }));
    assert.deepEqual(ColSplitter('b', { on: 3 })(csv), [
      [0, 1, 3, 4],
      [2, 5],
    ]);
    assert.throws(() => ColSplitter('b', { in: 3 } as never), ValueError);
    assert.throws(() => ColSplitter(5)(df), /no column "5"/);
  });

  it('RandomSubsetSplitter takes int(n * sz) of a seeded permutation, as fastai', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i);
    const [train, valid] = RandomSubsetSplitter(0.3, 0.1, { seed: 1 })(hundred);
    assert.equal(train.length, 30);
    assert.equal(valid.length, 10);
    assert.equal(new Set([...train, ...valid]).size, 40);
    assert.deepEqual(RandomSubsetSplitter(0.3, 0.1, { seed: 1 })(hundred), [train, valid]);
    assert.notDeepEqual(RandomSubsetSplitter(0.3, 0.1, { seed: 2 })(hundred)[0], train);
    setSeed(5);
    const a = RandomSubsetSplitter(0.3, 0.1)(hundred);
    setSeed(5);
    assert.deepEqual(RandomSubsetSplitter(0.3, 0.1)(hundred), a);
    assert.throws(() => RandomSubsetSplitter(0.8, 0.3), /validSz/);
    assert.throws(() => RandomSubsetSplitter(1, 0.1), /trainSz/);
  });

  it('EndSplitter keeps the order: the last (or first) 20% are validation', () => {
    const ten = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(EndSplitter()(ten), [
      [0, 1, 2, 3, 4, 5, 6, 7],
      [8, 9],
    ]);
    assert.deepEqual(EndSplitter({ validLast: false })(ten), [
      [2, 3, 4, 5, 6, 7, 8, 9],
      [0, 1],
    ]);
    assert.deepEqual(EndSplitter({ validPct: 0.35 })(ten), [
      [0, 1, 2, 3, 4, 5, 6],
      [7, 8, 9],
    ]);
    assert.deepEqual(EndSplitter({ validPct: 0.05 })(ten), [ten, []]);
    assert.throws(() => EndSplitter({ validPct: 1 }), ValueError);
  });

  it('MaskSplitter puts the true items in validation', () => {
    const six = Array.from({ length: 6 }, (_, i) => i);
    assert.deepEqual(MaskSplitter([true, false, false, true, false, true])(six), [
      [1, 2, 4],
      [0, 3, 5],
    ]);
    assert.throws(() => MaskSplitter([true])(six), /1 values for 6 items/);
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
