import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { TsfastError } from '../../src/core/errors.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';

describe('expectNoLeaks', () => {
  before(async () => {
    await ready();
  });

  it('passes a function that disposes what it makes and returns its result', async () => {
    const value = await expectNoLeaks(() => tf.tidy(() => tf.ones([3]).sum().arraySync()));
    assert.equal(value, 3);
  });

  it('fails with the counts when a tensor is left behind', async () => {
    let leaked: tf.Tensor | undefined;
    await assert.rejects(
      expectNoLeaks(() => {
        leaked = tf.ones([2]);
      }),
      (err: unknown) =>
        err instanceof TsfastError && err.code === 'LEAK' && /1 not disposed/.test(err.message),
    );
    leaked?.dispose();
  });

  it('accepts returned tensors counted by `keep`', async () => {
    const t = await expectNoLeaks(() => tf.tidy(() => tf.ones([2]).add(1)), 1);
    assert.deepEqual(Array.from(t.dataSync()), [2, 2]);
    t.dispose();
  });
});
