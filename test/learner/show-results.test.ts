/**
 * `learn.showResults()` (fastai's `show_results`) on real ants/bees photos: `max_n` items
 * drawn at random from the validation set, shown with `Normalize` undone, captioned target
 * over prediction (prediction green when right, red when wrong); the PNG is returned and
 * written; renderers are chosen by the target block.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ready } from '../../src/backend/ready.js';
import { ValueError } from '../../src/core/errors.js';
import { randomFor } from '../../src/core/random.js';
import { imagenetStats } from '../../src/data/batch.js';
import { parentLabel } from '../../src/data/labellers.js';
import {
  getResultsRenderer,
  type ResultsBatch,
  registerResultsRenderer,
} from '../../src/learner/show-results.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { skipUnlessShared } from '../support/shared.js';
import { hymenopteraDls, tinyImageLearner } from '../support/tiny-image.js';

const skip = skipUnlessShared('data', 'hymenoptera');

describe('learn.showResults', { skip }, () => {
  let out: string;
  before(async () => {
    await ready();
    out = await mkdtemp(join(tmpdir(), 'tsfast-results-'));
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('draws random validation items with Normalize undone, targets and predictions', async () => {
    const dls = await hymenopteraDls(16);
    dls.normalize(imagenetStats);
    const raw = await hymenopteraDls(16); // the same photos, not normalised
    const learn = tinyImageLearner(dls);
    await learn.fit(1, 1e-2);
    const base = getResultsRenderer('CategoryBlock')!;
    let seen: { images: number[]; targets: number[]; decoded: number[] } | undefined;
    let titles: string[] = [];
    registerResultsRenderer('CategoryBlock', async (b: ResultsBatch) => {
      seen = {
        images: Array.from(b.images.dataSync()),
        targets: Array.from(b.targets.dataSync()),
        decoded: Array.from(b.decoded.dataSync()),
      };
      const tiles = await base(b);
      titles = tiles.map((t) => `${t.title}|${t.lineColors?.join(',')}`);
      return tiles;
    });
    try {
      const file = join(out, 'results.png');
      const png = await expectNoLeaks(() =>
        learn.showResults({ maxN: 4, seed: 7, tileSize: 64, ncols: 2, file }),
      );
      assert.deepEqual(await readFile(file), png);
      // 2 x 2 tiles of 64 px: cells 64 + 2 * 3 wide, 64 + 2 * 3 + two caption lines (31) high.
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 140, 202]);

      // The items: the first 4 of a seed-7 permutation of the validation set (fastai shuffles).
      const pick = randomFor(7).permutation(dls.validDs.length).slice(0, 4);
      const items = pick.map((i) => dls.validDs.items[i]!);
      assert.deepEqual(
        seen!.targets,
        items.map((f) => (parentLabel(f) === 'ants' ? 0 : 1)),
      );
      const plain = raw.testDl(items);
      for await (const { xs, ys } of plain) {
        const want = Array.from(xs.dataSync());
        assert.equal(seen!.images.length, want.length);
        const worst = Math.max(...want.map((v, i) => Math.abs(v - seen!.images[i]!)));
        assert.ok(worst < 1e-4, `largest pixel difference ${worst}`);
        tf.dispose([xs, ys]);
      }
      const { preds } = await learn.getPreds({ dl: dls.testDl(items) });
      assert.deepEqual(seen!.decoded, Array.from(preds.argMax(1).dataSync()));
      preds.dispose();
      assert.deepEqual(
        titles,
        seen!.targets.map((t, k) => {
          const name = (i: number) => ['ants', 'bees'][i];
          const color = t === seen!.decoded[k] ? '#1a7f37' : '#cf222e';
          return `${name(t)}\n${name(seen!.decoded[k]!)}|#111,${color}`;
        }),
      );
    } finally {
      registerResultsRenderer('CategoryBlock', base);
    }
    await assert.rejects(learn.showResults({ maxN: 0 }), ValueError);
    await assert.rejects(learn.showResults({ max_n: 4 } as never), ValueError);
    // Without shuffling, the first items; from the training set too.
    const first = await learn.showResults({ shuffle: false, dsIdx: 0, maxN: 3, tileSize: 32 });
    assert.equal((await sharp(first).metadata()).format, 'png');
  });

  it('multi-label results: target labels over predicted labels, green when the sets agree', async () => {
    const render = getResultsRenderer('MultiCategoryBlock')!;
    const batch = {
      images: tf.zeros([2, 4, 4, 3]) as tf.Tensor4D,
      targets: tf.tensor2d([
        [1, 0, 1],
        [0, 1, 0],
      ]),
      preds: tf.tensor2d([
        [0.9, 0.2, 0.7],
        [0.6, 0.4, 0.1],
      ]),
      decoded: tf.tensor2d([
        [1, 0, 1],
        [1, 0, 0],
      ]),
      vocab: ['cat', 'dog', 'indoor'],
    };
    const tiles = await render(batch);
    assert.deepEqual(
      tiles.map((t) => [t.title, t.lineColors]),
      [
        ['cat;indoor\ncat;indoor', ['#111', '#1a7f37']],
        ['dog\ncat', ['#111', '#cf222e']],
      ],
    );
    tf.dispose([
      ...Object.values(batch).filter((v) => v instanceof tf.Tensor),
      ...tiles.map((t) => t.image as tf.Tensor),
    ]);
  });
});
