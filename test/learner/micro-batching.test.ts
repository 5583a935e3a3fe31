import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import {
  DEFAULT_WASM_TENSOR_LIMIT,
  installWasmMemoryGuard,
  resetWasmTensorPeak,
  wasmTensorBytes,
  wasmTensorPeakBytes,
} from '../../src/backend/wasm-kernels/memory-guard.js';
import { GradientAccumulation } from '../../src/callbacks/gradient-accumulation.js';
import { BackendError } from '../../src/core/errors.js';
import { Learner } from '../../src/learner/learner.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { syntheticDataLoaders } from '../../src/testing/synthetic-data.js';
import { BatchNorm } from '../../src/vision/models/batch-norm.js';
import { ReLU6 } from '../../src/vision/models/relu6.js';

const SIZE = 32;

/** conv-BN-ReLU6 twice, pooling, dense: the same weights on every call. */
function model(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = input;
  for (const [i, filters] of [16, 16].entries()) {
    x = tf.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 10 + i }),
      })
      .apply(x) as tf.SymbolicTensor;
    x = new BatchNorm({ momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
    x = new ReLU6().apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 20 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function data(bs: number) {
  return syntheticDataLoaders({
    xTrain: tf.randomUniform([16, SIZE, SIZE, 3], -1, 1, 'float32', 3),
    yTrain: tf.tensor1d([0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 1, 1, 2, 2, 3, 3], 'int32'),
    xValid: tf.randomUniform([4, SIZE, SIZE, 3], -1, 1, 'float32', 4),
    yValid: tf.tensor1d([0, 1, 2, 3], 'int32'),
    bs,
    vocab: ['a', 'b', 'c', 'd'],
    shuffle: false,
  });
}

describe('automatic micro-batching', () => {
  before(async () => {
    await ready();
  });
  after(() => {
    if (tf.getBackend() === 'wasm') installWasmMemoryGuard(DEFAULT_WASM_TENSOR_LIMIT);
  });

  // One thread: the memory guard it sets is the main thread's (data-parallel workers have
  // their own heaps and guards), and the reference is one thread's GradientAccumulation.
  it('splits a batch the wasm heap refuses: the weights of GradientAccumulation, one message, no leak', async (t) => {
    if (tf.getBackend() !== 'wasm') {
      t.skip('the wasm memory guard decides what fits');
      return;
    }
    // Reference: loader batches of 4, one step per 8 samples.
    const dlsRef = data(4);
    const ref = new Learner(dlsRef, model(), {
      logger: () => {},
      autoMicroBatch: false,
      threads: 1,
    });
    const before = wasmTensorBytes()!;
    resetWasmTensorPeak();
    await ref.fit(1, 1e-2, { cbs: [new GradientAccumulation({ nAcc: 8 })] });
    const stepOf4 = wasmTensorPeakBytes()! - before;

    const lines: string[] = [];
    const dls = data(8);
    const learn = new Learner(dls, model(), { logger: (l) => lines.push(l), threads: 1 });
    // Room for a step of 4 images, not of 8.
    installWasmMemoryGuard(wasmTensorBytes()! + 1.5 * stepOf4);
    await learn.fit(1, 1e-2);
    const notes = lines.filter((l) => /does not fit the wasm heap/.test(l));
    assert.deepEqual(notes.length, 1, lines.join('\n'));
    assert.match(notes[0]!, /bs 8 does not fit the wasm heap at 32x32 px: 2 micro-batches of 4/);
    assert.match(notes[0]!, /BatchNorm sees 4 images at a time/);

    // Trainable weights and BatchNorm's moving statistics: the same operations, the same values.
    const a = learn.model.getWeights();
    const b = ref.model.getWeights();
    assert.equal(a.length, b.length);
    a.forEach((w, i) => {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(w, b[i]!))).dataSync()[0]!);
      assert.ok(d === 0, `weight ${i} differs by ${d}`);
    });
    // The optimizer stepped once per batch of 8, as the reference once per 8 samples.
    assert.deepEqual(learn.recorder.losses.length, 2);

    // Later batches of that shape go straight to micro-batches: no second message, no leak.
    await expectNoLeaks(() => learn.fit(1, 1e-2));
    assert.equal(lines.filter((l) => /does not fit the wasm heap/.test(l)).length, 1);

    // Turned off, the memory error comes through.
    const dlsOff = data(8);
    const off = new Learner(dlsOff, model(), {
      logger: () => {},
      autoMicroBatch: false,
      threads: 1,
    });
    await assert.rejects(() => off.fit(1, 1e-2), BackendError);
    installWasmMemoryGuard(DEFAULT_WASM_TENSOR_LIMIT);
    for (const l of [ref, learn, off]) {
      l.opt.dispose();
      l.model.dispose();
    }
    for (const d of [dlsRef, dls, dlsOff]) d.dispose();
  });
});
