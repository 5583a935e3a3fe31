import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { wasmReady } from './parity.js';

describe('wasm Identity shares memory safely', () => {
  before(wasmReady);

  it('a clone outlives its source and frees the buffer with the last reference', () => {
    const start = tf.memory();
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    assert.equal(tf.memory().numDataBuffers, start.numDataBuffers + 1, 'clone copied the data');
    a.dispose();
    assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
    const c = tf.add(b, 1);
    assert.deepEqual(Array.from(c.dataSync()), [2, 3, 4]);
    b.dispose();
    c.dispose();
    assert.equal(tf.memory().numTensors, start.numTensors);
    assert.equal(tf.memory().numDataBuffers, start.numDataBuffers);
  });

  it('variables assigned from a clone keep their own value', () => {
    const v = tf.variable(tf.tensor1d([5, 6]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8]));
    assert.deepEqual(Array.from(snapshot.dataSync()), [5, 6]);
    assert.deepEqual(Array.from(v.dataSync()), [7, 8]);
    snapshot.dispose();
    v.dispose();
  });
});
