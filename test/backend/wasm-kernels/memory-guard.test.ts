import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { mobileNetV1, trainStep } from '../../../bench/support/models.js';
import {
  DEFAULT_WASM_TENSOR_LIMIT,
  installWasmMemoryGuard,
  wasmTensorBytes,
} from '../../../src/backend/wasm-kernels/index.js';
import { BackendError } from '../../../src/core/errors.js';
import { wasmReady } from './parity.js';

describe('wasm memory guard', () => {
  before(wasmReady);
  after(() => installWasmMemoryGuard(DEFAULT_WASM_TENSOR_LIMIT));

  it('counts live tensor bytes', () => {
    const before = wasmTensorBytes()!;
    const t = tf.zeros([1000]);
    assert.equal(wasmTensorBytes(), before + 4000);
    t.dispose();
    assert.equal(wasmTensorBytes(), before);
  });

  it('fails a too-large training step early with a clear error, then trains a smaller batch', () => {
    const model = mobileNetV1(64, 0.25, 10);
    const optimizer = tf.train.adam(1e-3);
    const y = (n: number) => tf.oneHot(tf.zeros([n], 'int32') as tf.Tensor1D, 10);
    const [x16, y16, x2, y2] = [tf.ones([16, 64, 64, 3]), y(16), tf.ones([2, 64, 64, 3]), y(2)];
    trainStep(model, optimizer, x2, y2); // Adam slots exist before we count
    const tensorsBefore = tf.memory().numTensors;
    installWasmMemoryGuard(wasmTensorBytes()! + 24 * 2 ** 20);
    assert.throws(
      () => trainStep(model, optimizer, x16, y16),
      (err: unknown) =>
        err instanceof BackendError &&
        /wasm memory limit reached/.test(err.message) &&
        /If the batch size is 16, use a batch size of at most ~\d+ \(with the GradientAccumulation callback, `\{ nAcc: 16 \}`/.test(
          err.message,
        ),
    );
    assert.equal(tf.memory().numTensors, tensorsBefore, 'the failed step leaked tensors');
    installWasmMemoryGuard(DEFAULT_WASM_TENSOR_LIMIT);
    assert.ok(Number.isFinite(trainStep(model, optimizer, x2, y2)));
    assert.equal(tf.memory().numTensors, tensorsBefore);
    tf.dispose([x16, y16, x2, y2]);
    optimizer.dispose();
    model.dispose();
  });
});
