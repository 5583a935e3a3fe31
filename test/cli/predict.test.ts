/**
 * `tsfast predict --learner DIR --images DIR [--out FILE]` on a small exported learner and real
 * ants/bees photos: one CSV row per readable image (file relative to the folder, label,
 * probability of that label) matching the learner's own predictions, unreadable files
 * reported and left out, bad arguments answered with the usage.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { ready } from '../../src/backend/ready.js';
import { main } from '../../src/cli/main.js';
import { imagenetStats } from '../../src/data/batch.js';
import { BCEWithLogitsLossFlat } from '../../src/learner/losses.js';
import { Resize } from '../../src/vision/image/resize.js';
import { ImageDataLoaders } from '../../src/vision/image-data-loaders.js';
import { skipUnlessShared } from '../support/shared.js';
import { hymenopteraDls, hymenopteraFiles, tinyImageLearner } from '../support/tiny-image.js';

const skip = skipUnlessShared('data', 'hymenoptera');

async function capture(fn: () => Promise<number>) {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await fn(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

describe('tsfast predict', { skip }, () => {
  let tmp: string;
  before(async () => {
    await ready();
    tmp = await mkdtemp(join(tmpdir(), 'tsfast-predict-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('writes file,label,probability for every readable image, as learn.getPreds says', async () => {
    const dls = await hymenopteraDls(16);
    dls.normalize(imagenetStats);
    const learn = tinyImageLearner(dls, { path: tmp });
    await learn.fit(1, 1e-2);
    const exported = await learn.export('model');

    // A folder as a user has it: photos in a sub-folder, one at the top, one broken file.
    const photos = join(tmp, 'photos');
    await mkdir(join(photos, 'garden'), { recursive: true });
    const files = hymenopteraFiles('val', 3);
    for (const f of files.slice(1)) await symlink(f, join(photos, 'garden', basename(f)));
    await symlink(files[0]!, join(photos, 'a, "quoted" name.jpg'));
    await writeFile(join(photos, 'broken.jpg'), 'not an image');
    const csvFile = join(tmp, 'out', 'predictions.csv');

    const run = await capture(() =>
      main(['predict', '--learner', exported, '--images', photos, '--out', csvFile, '--bs', '4']),
    );
    assert.equal(run.code, 0, run.err);
    assert.match(
      run.out,
      /Wrote 6 predictions to .*predictions\.csv \(1 unreadable images left out\)\./,
    );
    assert.match(run.err, /skipped broken\.jpg: /);
    const rows = parse(await readFile(csvFile, 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    const source = new Map([
      ['a, "quoted" name.jpg', files[0]!],
      ...files.slice(1).map((f) => [`garden/${basename(f)}`, f] as const),
    ]);
    assert.deepEqual(
      rows.map((r) => r.file),
      [...source.keys()].sort(),
    );
    // The same photos through the in-memory learner.
    const order = rows.map((r) => source.get(r.file!)!);
    const { preds } = await learn.getPreds({ dl: dls.testDl(order) });
    const p = preds.arraySync() as number[][];
    preds.dispose();
    rows.forEach((r, i) => {
      const k = p[i]![0]! >= p[i]![1]! ? 0 : 1;
      assert.equal(r.label, ['ants', 'bees'][k], `row ${i}`);
      assert.ok(Math.abs(Number(r.probability) - p[i]![k]!) < 2e-6, `row ${i}`);
      assert.match(r.probability!, /^0\.\d{6}$|^1\.000000$/);
    });
    learn.model.dispose();
  });

  it('multi-label learners: the labels over the threshold and their probabilities, ;-joined', async () => {
    const files = [...hymenopteraFiles('train', 4), ...hymenopteraFiles('val', 2)];
    const labels = files.map((f) => [f.includes('/ants/') ? 'ant' : 'bee', 'insect']);
    const dls = await ImageDataLoaders.fromLists(files, labels, {
      itemTfms: Resize(16),
      validPct: 0.25,
      seed: 2,
      bs: 4,
    });
    assert.deepEqual(dls.vocab, ['ant', 'bee', 'insect']);
    const learn = tinyImageLearner(dls, { path: tmp, lossFunc: new BCEWithLogitsLossFlat() });
    await learn.fit(10, 0.05); // enough for 'insect' (on every photo) to pass the threshold
    const dir = await learn.export('multi');
    const photos = join(tmp, 'multi-photos');
    await mkdir(photos, { recursive: true });
    for (const f of files.slice(0, 3)) await symlink(f, join(photos, basename(f)));
    const csvFile = join(tmp, 'multi.csv');
    const run = await capture(() =>
      main(['predict', '--learner', dir, '--images', photos, '--out', csvFile]),
    );
    assert.equal(run.code, 0, run.err);
    const rows = parse(await readFile(csvFile, 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    const order = rows.map((r) => join(photos, r.file!));
    const { preds } = await learn.getPreds({ dl: dls.testDl(order) });
    const p = preds.arraySync() as number[][];
    preds.dispose();
    assert.equal(rows.length, 3);
    rows.forEach((r, i) => {
      const on = [0, 1, 2].filter((k) => p[i]![k]! > 0.5);
      assert.equal(r.label, on.map((k) => dls.vocab![k]).join(';'));
      const got = r.probability === '' ? [] : r.probability!.split(';').map(Number);
      assert.equal(got.length, on.length);
      for (const [j, v] of got.entries()) assert.ok(Math.abs(v - p[i]![on[j]!]!) < 2e-6);
    });
    assert.ok(
      rows.some((r) => r.label!.includes(';')),
      'some row has several labels',
    );
    learn.model.dispose();
  });

  it('answers bad arguments with the usage and bad folders with a message', async () => {
    const noLearner = await capture(() => main(['predict', '--images', tmp]));
    assert.equal(noLearner.code, 2);
    assert.match(noLearner.err, /--learner DIR is required[\s\S]*Usage: tsfast predict/);
    const badBs = await capture(() =>
      main(['predict', '--learner', tmp, '--images', tmp, '--bs', '0']),
    );
    assert.equal(badBs.code, 2);
    const empty = join(tmp, 'empty');
    await mkdir(empty, { recursive: true });
    const none = await capture(() => main(['predict', '--learner', tmp, '--images', empty]));
    assert.equal(none.code, 1);
    assert.match(none.err, /no images found under/);
    const notLearner = await capture(() =>
      main(['predict', '--learner', empty, '--images', join(tmp, 'photos')]),
    );
    assert.equal(notLearner.code, 1);
    assert.match(notLearner.err, /is not an exported learner/);
    const help = await capture(() => main(['--help']));
    assert.match(help.out, /predict +classify a folder of images/);
  });
});
