/**
 * `dls.testDl` (fastai's `test_dl`) and `learn.getPreds({ dl })` on real photos. fastai's
 * documented behaviour restated: a test set is processed as the validation set (so predicting
 * on the validation items gives the validation predictions), `with_labels` adds the targets
 * encoded with the training vocab, and without labels `get_preds` returns no targets.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { DataError, ValueError } from '../../src/core/errors.js';
import type { DataLoaders } from '../../src/data/data-loaders.js';
import type { Learner } from '../../src/learner/learner.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';
import { hymenopteraDls, hymenopteraFiles, tinyImageLearner } from '../support/tiny-image.js';

const skip = skipUnlessShared('data', 'hymenoptera');

describe('testDl and getPreds({ dl })', { skip }, () => {
  let dls: DataLoaders;
  let learn: Learner;
  before(async () => {
    await ready();
    dls = await hymenopteraDls(32);
    learn = tinyImageLearner(dls);
  });

  it('unlabelled: predictions equal the validation ones, no targets, no leak', async () => {
    const items = dls.validDs.items;
    const dl = dls.testDl(items, { bs: 3 });
    assert.equal(dl.hasTargets, false);
    assert.equal(dl.numItems, items.length);
    assert.equal(dl.numBatches, Math.ceil(items.length / 3));
    const test = await expectNoLeaks(() => learn.getPreds({ dl }), 1);
    const valid = await learn.getPreds();
    assert.equal(test.targs, undefined);
    assert.deepEqual(test.preds.shape, [items.length, 2]);
    const a = test.preds.arraySync() as number[][];
    const b = valid.preds.arraySync() as number[][];
    for (const [i, row] of a.entries()) {
      for (const [j, v] of row.entries()) assert.ok(Math.abs(v - b[i]![j]!) < 1e-5, `${i},${j}`);
    }
    tf.dispose([test.preds, valid.preds, valid.targs]);
    await assert.rejects(
      learn.getPreds({ dl, withLoss: true }),
      (e: unknown) => e instanceof ValueError && /withLabels: true/.test(e.message),
    );
  });

  it('withLabels: targets are the parent folders encoded with the training vocab', async () => {
    const items = [...hymenopteraFiles('val', 6)].reverse();
    const dl = dls.testDl(items, { withLabels: true });
    assert.equal(dl.hasTargets, true);
    const r = await expectNoLeaks(() => learn.getPreds({ dl, withLoss: true }), 3);
    const want = items.map((f) => (f.includes('/bees/') ? 1 : 0));
    assert.deepEqual(Array.from(r.targs!.dataSync()), want);
    assert.deepEqual(dls.vocab, ['ants', 'bees']);
    // per-item cross-entropy = -ln p[target]
    const p = r.preds.arraySync() as number[][];
    for (const [i, l] of Array.from(r.losses!.dataSync()).entries()) {
      assert.ok(Math.abs(l + Math.log(p[i]![want[i]!]!)) < 1e-4, `item ${i}`);
    }
    tf.dispose([r.preds, r.targs, r.losses]);
  });

  it('names a label the vocab lacks, an empty list and unknown options', () => {
    const pet = `${SHARED_DIR}/data/pets/images/Abyssinian_1.jpg`;
    assert.throws(
      () => dls.testDl([pet], { withLabels: true }),
      (e: unknown) =>
        e instanceof DataError && /"images"/.test(e.message) && /Abyssinian_1/.test(e.message),
    );
    assert.doesNotThrow(() => dls.testDl([pet]));
    assert.throws(() => dls.testDl([]), ValueError);
    assert.throws(
      () => dls.testDl([pet], { labels: true } as never),
      (e: unknown) => e instanceof ValueError && /labels/.test(e.message),
    );
  });
});
