/**
 * `ImageDataLoaders` factories on the real photos of `../shared`. Expected values restate
 * fastai's documented behaviour: `from_folder` labels by parent folder and splits on the
 * `train`/`valid` grandparent folders (or at random with `valid_pct`); the name/path factories
 * split at random with `valid_pct=0.2` and label with `using_attr(f, 'name')` or the full path;
 * `from_df` reads `fn_col=0` / `label_col=1` with `path/folder` prefix and `suff`, multi-label
 * with `label_delim`, `ColSplitter(valid_col)`; `from_lists` picks the target block from the
 * labels; `bs=64`.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { DataError, ValueError } from '../../src/core/errors.js';
import type { DataLoaders } from '../../src/data/data-loaders.js';
import { getImageFiles } from '../../src/data/getters.js';
import { parentLabel } from '../../src/data/labellers.js';
import { RandomSplitter } from '../../src/data/splitters.js';
import { Resize } from '../../src/vision/image/resize.js';
import { ImageDataLoaders } from '../../src/vision/image-data-loaders.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';
import { HYMENOPTERA } from '../support/tiny-image.js';

const PETS = join(SHARED_DIR, 'data', 'pets', 'images');
const skip = skipUnlessShared('data', 'hymenoptera') || skipUnlessShared('data', 'pets', 'images');

/** Labels of every item of a split, read back through the fitted target block. */
function labelsOf(dls: DataLoaders, split: 'train' | 'valid'): string[] {
  const ds = split === 'train' ? dls.trainDs : dls.validDs;
  const target = dls.dsets.blocks[1]!;
  const getY = dls.dsets.getters[1]!;
  return ds.items.map((item) => {
    const ys = target.collate([target.encode(getY(item), item, NO_CTX)], [item]);
    const [label] = target.describe(ys);
    ys.dispose();
    return label!;
  });
}
const NO_CTX = {
  training: false,
  itemTfms: [],
  get rng(): never {
    throw new Error('no randomness');
  },
};

/** The first `n` photos of each breed, in file order. */
function firstOfEachBreed(files: readonly string[], n: number): string[] {
  const seen = new Map<string, number>();
  return files.filter((f) => {
    const k = seen.get(breedOf(f)) ?? 0;
    seen.set(breedOf(f), k + 1);
    return k < n;
  });
}

const breedOf = (f: string) => basename(f).slice(0, basename(f).lastIndexOf('_'));

describe('ImageDataLoaders', { skip }, () => {
  let petFiles: string[];
  let tmp: string;
  before(async () => {
    await ready();
    petFiles = await getImageFiles(PETS);
    tmp = await mkdtemp(join(tmpdir(), 'tsfast-idl-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('fromFolder: train/valid folders, parent labels, bs 64; valid images come out in order', async () => {
    const dls = await ImageDataLoaders.fromFolder(HYMENOPTERA, {
      valid: 'val',
      itemTfms: Resize(16),
    });
    const count = (s: string) =>
      ['ants', 'bees'].reduce((n, c) => n + readdirSync(join(HYMENOPTERA, s, c)).length, 0);
    assert.equal(dls.trainDs.length, count('train'));
    assert.equal(dls.validDs.length, count('val'));
    assert.deepEqual(dls.vocab, ['ants', 'bees']);
    assert.equal(dls.bs, 64);
    for (const s of ['train', 'valid'] as const) {
      const ds = s === 'train' ? dls.trainDs : dls.validDs;
      assert.deepEqual(labelsOf(dls, s), ds.items.map(parentLabel));
      const want = s === 'train' ? 'train' : 'val';
      assert.ok(ds.items.every((f) => basename(dirname(dirname(String(f)))) === want));
    }
    const small = await ImageDataLoaders.fromFolder(HYMENOPTERA, {
      valid: 'val',
      itemTfms: Resize(16),
      bs: 4,
    });
    for await (const { xs, ys } of small.valid) {
      assert.deepEqual(xs.shape, [4, 16, 16, 3]);
      const want = small.validDs.items.slice(0, 4).map((f) => (parentLabel(f) === 'ants' ? 0 : 1));
      assert.deepEqual(Array.from(ys.dataSync()), want);
      tf.dispose([xs, ys]);
      break;
    }
    // With the default folder names there is no `valid` folder here.
    await assert.rejects(
      ImageDataLoaders.fromFolder(HYMENOPTERA),
      (e: unknown) => e instanceof DataError && /no "valid" folder/.test(e.message),
    );
  });

  it('fromFolder with validPct: every image split at random as RandomSplitter(0.2, seed)', async () => {
    const dls = await ImageDataLoaders.fromFolder(HYMENOPTERA, { validPct: 0.2, seed: 42 });
    const all = await getImageFiles(HYMENOPTERA);
    const [train, valid] = RandomSplitter({ validPct: 0.2, seed: 42 })(all);
    assert.equal(valid.length, Math.floor(0.2 * all.length));
    assert.deepEqual(
      dls.validDs.items,
      valid.map((i) => all[i]),
    );
    assert.deepEqual(
      dls.trainDs.items,
      train.map((i) => all[i]),
    );
  });

  it('fromNameRe / fromNameFunc / fromPathRe / fromPathFunc on the pets and hymenoptera', async () => {
    const re = await ImageDataLoaders.fromNameRe(petFiles, /^(.+)_\d+.jpg$/, { seed: 42 });
    assert.equal(re.vocab!.length, 37);
    assert.equal(re.validDs.length, 188); // floor(0.2 * 940)
    assert.equal(re.trainDs.length, 752);
    assert.deepEqual(
      labelsOf(re, 'valid'),
      re.validDs.items.map((f) => breedOf(String(f))),
    );
    // fastai's chapter 1: `is_cat(x) = x[0].isupper()` on the file NAME: 12 cat breeds here,
    // Abyssinian and Bengal with 200 photos, 10 others with 10 = 500 cats of 940.
    const isCat = (name: unknown) => String(/^[A-Z]/.test(String(name)));
    const nf = await ImageDataLoaders.fromNameFunc(petFiles, isCat, { seed: 42 });
    const cats = [...labelsOf(nf, 'train'), ...labelsOf(nf, 'valid')].filter((l) => l === 'true');
    assert.equal(cats.length, 500);
    assert.deepEqual(nf.vocab, ['false', 'true']);
    // The same function on the full PATH sees the leading folder: no cats at all.
    const pf = await ImageDataLoaders.fromPathFunc(petFiles, isCat, { seed: 42 });
    assert.deepEqual(pf.vocab, ['false']);
    // Same seed, same split whatever the labels.
    assert.deepEqual(nf.validDs.items, re.validDs.items);

    const bees = await getImageFiles(HYMENOPTERA, { folders: ['val'] });
    const pr = await ImageDataLoaders.fromPathRe(bees, /\/(ants|bees)\//, { validPct: 0.25 });
    assert.equal(pr.validDs.length, Math.floor(0.25 * bees.length));
    assert.deepEqual(labelsOf(pr, 'train'), pr.trainDs.items.map(parentLabel));
    await assert.rejects(
      ImageDataLoaders.fromNameRe(petFiles, /^(.+)-\d+.jpg$/),
      (e: unknown) => e instanceof DataError && /matched nothing/.test(e.message),
    );
  });

  it('fromDf: fnCol 0 / labelCol 1 under path/folder with suff; labelDelim; validCol', async () => {
    const some = firstOfEachBreed(petFiles, 5);
    const rows = some.map((f, i) => ({
      name: basename(f, '.jpg'),
      breed: breedOf(f),
      tags: `${/^[A-Z]/.test(basename(f)) ? 'cat' : 'dog'} ${breedOf(f)}`,
      is_valid: i % 4 === 0 ? 'True' : 'False',
    }));
    const df = await ImageDataLoaders.fromDf(rows, {
      path: dirname(PETS),
      folder: 'images',
      suff: '.jpg',
      seed: 1,
    });
    const x0 = df.dsets.getters[0]!(df.trainDs.items[0]);
    assert.equal(x0, join(PETS, `${(df.trainDs.items[0] as { name: string }).name}.jpg`));
    assert.equal(df.vocab!.length, 37);
    assert.equal(df.validDs.length, Math.floor(0.2 * rows.length));

    const multi = await ImageDataLoaders.fromDf(rows, {
      path: PETS,
      suff: '.jpg',
      labelCol: 'tags',
      labelDelim: ' ',
      validCol: 'is_valid',
    });
    assert.equal(multi.dsets.blocks[1]!.name, 'MultiCategoryBlock');
    assert.deepEqual(multi.vocab!.slice(0, 3), ['Abyssinian', 'Bengal', 'Birman']);
    assert.ok(multi.vocab!.includes('cat') && multi.vocab!.includes('dog'));
    assert.equal(multi.vocab!.length, 39);
    assert.deepEqual(
      multi.validDs.items,
      rows.filter((_, i) => i % 4 === 0),
    );
    const [first] = labelsOf(multi, 'valid');
    assert.deepEqual(first!.split(';').sort(), rows[0]!.tags.split(' ').sort());

    await assert.rejects(
      ImageDataLoaders.fromDf(rows, { labelCol: 'label' }),
      (e: unknown) =>
        e instanceof DataError && /"label"/.test(e.message) && /"breed"/.test(e.message),
    );
    await assert.rejects(ImageDataLoaders.fromDf([]), DataError);
    await assert.rejects(
      ImageDataLoaders.fromDf(rows, { labelColumn: 1 } as never),
      (e: unknown) => e instanceof ValueError && /labelColumn/.test(e.message),
    );
  });

  it('fromCsv: path/labels.csv, names relative to path', async () => {
    await symlink(PETS, join(tmp, 'train'));
    const some = firstOfEachBreed(petFiles, 5);
    const csv = ['file;label', ...some.map((f) => `${basename(f, '.jpg')};${breedOf(f)}`)];
    await writeFile(join(tmp, 'pets.csv'), `${csv.join('\n')}\n`);
    const dls = await ImageDataLoaders.fromCsv(tmp, {
      csvFname: 'pets.csv',
      delimiter: ';',
      folder: 'train',
      suff: '.jpg',
      validPct: 0.25,
      seed: 3,
      itemTfms: Resize(16),
      bs: 8,
    });
    assert.equal(dls.validDs.length, Math.floor(0.25 * some.length));
    assert.equal(dls.vocab!.length, 37);
    for await (const { xs, ys } of dls.valid) {
      const rows = dls.validDs.items.slice(0, 8) as { label: string }[];
      assert.deepEqual(
        Array.from(ys.dataSync()).map((i) => dls.vocab![i]),
        rows.map((r) => r.label),
      );
      assert.deepEqual(xs.shape, [8, 16, 16, 3]);
      tf.dispose([xs, ys]);
      break;
    }
    await assert.rejects(
      ImageDataLoaders.fromCsv(tmp),
      (e: unknown) => e instanceof DataError && /labels\.csv/.test(e.message),
    );
  });

  it('fromLists: category, multi-label and regression targets from the labels', async () => {
    const files = petFiles.slice(0, 20);
    const cat = await ImageDataLoaders.fromLists(files, files.map(breedOf), { seed: 5 });
    assert.equal(cat.dsets.blocks[1]!.name, 'CategoryBlock');
    assert.equal(cat.validDs.length, 4);
    assert.deepEqual(
      labelsOf(cat, 'train'),
      cat.trainDs.items.map((it) => breedOf((it as { fname: string }).fname)),
    );
    const multi = await ImageDataLoaders.fromLists(
      files,
      files.map((f) => ['pet', breedOf(f)]),
    );
    assert.equal(multi.dsets.blocks[1]!.name, 'MultiCategoryBlock');
    const reg = await ImageDataLoaders.fromLists(
      files,
      files.map((_, i) => i / 2),
    );
    assert.equal(reg.dsets.blocks[1]!.name, 'RegressionBlock');
    assert.equal(reg.c, 1);
    // A bare path is taken as the file, so predict/testDl work on paths.
    assert.equal(cat.dsets.getters[0]!(files[0]), files[0]);
    await assert.rejects(ImageDataLoaders.fromLists(files, ['a']), DataError);
  });
});
