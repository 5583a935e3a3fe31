import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releasePixels, takePixels } from '../../../src/vision/image/pixel-pool.js';

describe('pixel pool', () => {
  it('reuses a released buffer for a similar size, not for one less than half its size', () => {
    const a = takePixels(500 * 375 * 3);
    assert.equal(a.length, 500 * 375 * 3);
    a.fill(9);
    releasePixels(a);
    const b = takePixels(480 * 360 * 3);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.length, 480 * 360 * 3);
    releasePixels(b);
    const small = takePixels(100 * 100 * 3);
    assert.notEqual(small.buffer, a.buffer);
    const c = takePixels(500 * 375 * 3);
    assert.equal(c.buffer, a.buffer);
    // Taken buffers are not handed out twice.
    const d = takePixels(500 * 375 * 3);
    assert.notEqual(d.buffer, c.buffer);
  });
});
