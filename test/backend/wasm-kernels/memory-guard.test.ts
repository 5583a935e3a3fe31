import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { mobileNetV1, trainableVariables } from '../../../bench/support/models.js';
import {
  DEFAULT_WASM_TENSOR_LIMIT,
  installWasmMemoryGuard,
  isOutOfEngineMemory,
  wasmTensorBytes,
} from '../../../src/backend/wasm-kernels/index.js';
import { BackendError } from '../../../src/core/errors.js';
import { Adam } from '../../../src/learner/adam.js';
import { lowMemoryApply } from '../../../src/learner/low-memory-forward.js';
import { lowMemoryVariableGrads } from '../../../src/learner/low-memory-grads.js';
import { wasmReady } from './parity.js';

/** One training step as the Learner takes it: returns the loss, leaves no tensors. */
function trainStep(model: tf.LayersModel, opt: Adam, x: tf.Tensor, y: tf.Tensor): number {
  const vars = trainableVariables(model);
  const { value, grads } = lowMemoryVariableGrads(
    () => tf.losses.softmaxCrossEntropy(y, lowMemoryApply(model, x, true)) as tf.Scalar,
    vars,
  );
  opt.step(new Map(vars.map((v) => [v, grads[v.name]!])));
  const loss = value.dataSync()[0]!;
  tf.dispose([value, grads]);
  return loss;
}

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
    const optimizer = new Adam([trainableVariables(model)], { lr: 1e-3 });
    const y = (n: number) => tf.oneHot(tf.zeros([n], 'int32') as tf.Tensor1D, 10);
    const [x16, y16, x2, y2] = [tf.ones([16, 64, 64, 3]), y(16), tf.ones([2, 64, 64, 3]), y(2)];
    trainStep(model, optimizer, x2, y2); // Adam slots exist before we count
    const tensorsBefore = tf.memory().numTensors;
    installWasmMemoryGuard(wasmTensorBytes()! + 6 * 2 ** 20);
    assert.throws(
      () => trainStep(model, optimizer, x16, y16),
      (err: unknown) =>
        err instanceof BackendError &&
        /wasm memory limit reached/.test(err.message) &&
        isOutOfEngineMemory(err) &&
        /If the batch size is 16, use a batch size of at most ~\d+ \(with the GradientAccumulation callback, `\{ nAcc: 16 \}`/.test(
          err.message,
        ),
    );
    assert.equal(tf.memory().numTensors, tensorsBefore, 'the failed step leaked tensors');
    assert.equal(isOutOfEngineMemory(new BackendError('wasm backend failed to load')), false);
    installWasmMemoryGuard(DEFAULT_WASM_TENSOR_LIMIT);
    assert.ok(Number.isFinite(trainStep(model, optimizer, x2, y2)));
    assert.equal(tf.memory().numTensors, tensorsBefore);
    tf.dispose([x16, y16, x2, y2]);
    optimizer.dispose();
    model.dispose();
  });

  it('turns a failed malloc of a tensor with values into a BackendError without touching the heap', () => {
    // When the heap cannot grow (fragmentation, XNNPACK's buffers) malloc returns 0 before the
    // guard's limit is reached; the package then copied the values to address 0, over the
    // module's own data, and the next disposeData died with "memory access out of bounds".
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number } }).wasm;
    const malloc = wasm._malloc;
    const probe = tf.tensor1d([1, 2, 3]);
    const tensorsBefore = tf.memory().numTensors;
    const bytesBefore = wasmTensorBytes();
    const values = new Float32Array(1 << 20).fill(Number.NaN);
    wasm._malloc = () => 0;
    try {
      assert.throws(
        () => tf.tensor1d(values),
        (err: unknown) =>
          err instanceof BackendError && /wasm memory limit reached/.test(err.message),
      );
    } finally {
      wasm._malloc = malloc;
    }
    assert.equal(tf.memory().numTensors, tensorsBefore);
    assert.equal(wasmTensorBytes(), bytesBefore);
    // The module still works: allocations, kernels, reads and frees.
    const sum = tf.add(probe, tf.ones([3]));
    assert.deepEqual(Array.from(sum.dataSync()), [2, 3, 4]);
    tf.dispose([sum, probe]);
    const big = tf.fill([1 << 20], 2);
    assert.equal(tf.sum(big).dataSync()[0], 2 * (1 << 20));
    big.dispose();
  });
});
