import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { DataParallel } from '../../src/learner/data-parallel/data-parallel.js';
import {
  estimateMacsPerSample,
  MIN_PARALLEL_SLICE_MACS,
} from '../../src/learner/data-parallel/work-estimate.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';

function denseNet(): tf.LayersModel {
  const input = tf.input({ shape: [256] });
  let x = tf.layers.dense({ units: 256, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 128, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('data-parallel: which batches are worth splitting', () => {
  it('counts multiply-adds per sample from output sizes and kernel fan-ins', () => {
    const dense = denseNet();
    assert.equal(estimateMacsPerSample(dense), 256 * 256 + 256 * 128 + 128 * 10);
    const input = tf.input({ shape: [32, 32, 3] });
    const conv = tf.layers
      .conv2d({ filters: 8, kernelSize: 3, padding: 'same' })
      .apply(input) as tf.SymbolicTensor;
    const dw = tf.layers
      .depthwiseConv2d({ kernelSize: 3, padding: 'same' })
      .apply(conv) as tf.SymbolicTensor;
    const cnn = tf.model({ inputs: input, outputs: dw });
    // conv: 32*32*8 outputs x 3*3*3 taps; depthwise: 32*32*8 outputs x 3*3 taps (not x cin).
    assert.equal(estimateMacsPerSample(cnn), 32 * 32 * 8 * 27 + 32 * 32 * 8 * 9);
    tf.dispose([dense.weights.map((w) => w.read()), cnn.weights.map((w) => w.read())].flat());
  });

  it('keeps a small model on one thread by default, without starting workers', async () => {
    const model = denseNet();
    const dp = new DataParallel(() => assert.fail('no message expected'));
    const slice = 64 / 2;
    assert.ok(estimateMacsPerSample(model) * slice < MIN_PARALLEL_SLICE_MACS);
    const split = await dp.prepare(
      { threads: 2, explicit: false, batchSize: 64 },
      model,
      new CrossEntropyLossFlat(),
      [],
      [],
    );
    assert.equal(split, false);
    tf.dispose(model.weights.map((w) => w.read()));
  });
});
