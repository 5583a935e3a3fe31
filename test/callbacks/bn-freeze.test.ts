import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ready } from '../../src/backend/ready.js';
import { BnFreeze } from '../../src/callbacks/bn-freeze.js';
import { ValueError } from '../../src/core/errors.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { blobsLearner, disposeAll, optStateToAllocate, weightValues } from '../learner/fixtures.js';

const changed = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
/** Indices in model.weights of the fixture's BatchNorm (in the body group, not the head). */
const GAMMA = 2;
const BETA = 3;
const MEAN = 8;
const VARIANCE = 9;

describe('BnFreeze({ body: true })', () => {
  before(async () => {
    await ready();
  });

  it('keeps the body BatchNorm statistics once unfrozen while its scale and shift train', async () => {
    const { learn, dls, model } = blobsLearner(4, { trainBn: false });
    learn.unfreeze();
    let before = weightValues(model);
    await expectNoLeaks(
      () => learn.fit(1, 1e-2, { cbs: [new BnFreeze({ body: true })] }),
      optStateToAllocate(learn),
    );
    let after = weightValues(model);
    for (const i of [MEAN, VARIANCE]) {
      assert.ok(!changed(before[i]!, after[i]!), `statistic ${i} changed under BnFreeze({ body })`);
    }
    for (const i of [GAMMA, BETA]) {
      assert.ok(changed(before[i]!, after[i]!), `unfrozen BatchNorm weight ${i} did not train`);
    }
    // fastai's BnFreeze leaves an unfrozen group's BatchNorm in training mode.
    before = after;
    await learn.fit(1, 1e-2, { cbs: [new BnFreeze()] });
    after = weightValues(model);
    for (const i of [MEAN, VARIANCE]) {
      assert.ok(changed(before[i]!, after[i]!), `statistic ${i} did not update under BnFreeze()`);
    }
    disposeAll(learn, dls);
  });

  it('rejects bad options by name', () => {
    assert.throws(() => new BnFreeze({ body: 'yes' as unknown as boolean }), ValueError);
    assert.throws(
      () => new BnFreeze({ bodyy: true } as unknown as { body: boolean }),
      (e: Error) => e instanceof ValueError && /bodyy/.test(e.message),
    );
  });
});
