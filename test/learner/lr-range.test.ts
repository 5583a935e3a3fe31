import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evenMults, expandHyper, lrRange } from '../../src/learner/lr-range.js';

const close = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => Math.abs(v / (b[i] as number) - 1) < 1e-12);

describe('lrRange', () => {
  it('lrRange(a, b) is log-spaced from a to b over the groups (fastai even_mults)', () => {
    assert.ok(close(expandHyper(lrRange(1e-5, 1e-3), 3), [1e-5, 1e-4, 1e-3]));
    assert.ok(close(expandHyper(lrRange(1e-6, 1e-2), 5), [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]));
    // two groups: the ends only; one group: the end
    assert.ok(close(expandHyper(lrRange(2e-4, 8e-3), 2), [2e-4, 8e-3]));
    assert.deepEqual(expandHyper(lrRange(1e-5, 1e-3), 1), [1e-3]);
    assert.ok(close(evenMults(1, 8, 4), [1, 2, 4, 8]));
  });

  it('lrRange(b) gives b/10 to every group but the last', () => {
    assert.ok(close(expandHyper(lrRange(3e-3), 3), [3e-4, 3e-4, 3e-3]));
    assert.deepEqual(expandHyper(lrRange(1e-2), 1), [1e-2]);
  });

  it('numbers broadcast, arrays must match the groups', () => {
    assert.deepEqual(expandHyper(0.1, 3), [0.1, 0.1, 0.1]);
    assert.deepEqual(expandHyper([0.1, 0.2], 2), [0.1, 0.2]);
    assert.throws(() => expandHyper([0.1, 0.2], 3), /one per parameter group \(3\)/);
    assert.throws(() => lrRange(-1), /`end` must be a positive number/);
  });
});
