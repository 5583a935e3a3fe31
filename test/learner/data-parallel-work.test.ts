import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import type { DataLoadersLike } from '../../src/data/batch.js';
import {
  closeTrainingThreads,
  DataParallel,
} from '../../src/learner/data-parallel/data-parallel.js';
import {
  estimateMacsPerSample,
  MIN_PARALLEL_SLICE_MACS,
} from '../../src/learner/data-parallel/work-estimate.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { visionLearner } from '../../src/vision/learner.js';
import { mobilenetV1 } from '../../src/vision/models/archs.js';
import { buildMobilenetV1 } from '../../src/vision/models/mobilenet.js';

function denseNet(): tf.LayersModel {
  const input = tf.input({ shape: [256] });
  let x = tf.layers.dense({ units: 256, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 128, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** What `visionLearner` needs of the data to build a 37-class model at 224 px, without images. */
function noImages(): DataLoadersLike {
  const empty = { length: 0, bs: 8, items: [] } as unknown as DataLoadersLike['train'];
  return {
    train: empty,
    valid: empty,
    vocab: Array.from({ length: 37 }, (_, i) => `breed${i}`),
    c: 37,
    toConfig: () => ({
      itemTfms: [{ name: 'Resize', size: [224, 224], method: 'squish', padMode: 'zeros' }],
      batchTfms: [],
    }),
  };
}

function disposeWeights(model: tf.LayersModel): void {
  tf.dispose(model.weights.map((w) => w.read()));
}

describe('data-parallel: which batches are worth splitting', () => {
  after(() => closeTrainingThreads());

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
      { threads: 2, explicit: false, batchShape: [64, 256] },
      model,
      new CrossEntropyLossFlat(),
      [],
      [],
    );
    assert.equal(split, false);
    tf.dispose(model.weights.map((w) => w.read()));
  });

  it('sizes a body built without a fixed height and width from the batch it is about to see', () => {
    // visionLearner builds its body for any image size: every convolution's outputShape is
    // [null, null, null, c], which once made MobileNet read as its head alone (~0.8 M).
    const open = buildMobilenetV1({ alpha: 0.75, includeTop: false, seed: 1 });
    const fixed = buildMobilenetV1({
      alpha: 0.75,
      includeTop: false,
      inputShape: [224, 224, 3],
      seed: 1,
    });
    assert.equal(estimateMacsPerSample(open), 0);
    const atSize = estimateMacsPerSample(open, [8, 224, 224, 3]);
    assert.equal(atSize, estimateMacsPerSample(fixed));
    // The MobileNet paper's table: 325 M multiply-adds for 0.75 at 224 px.
    assert.ok(Math.abs(atSize - 325e6) / 325e6 < 0.02, `MobileNet v1 0.75: ${atSize}`);
    // Work per pixel: four times the pixels (448 = 32 x 14, so every stride divides it), four
    // times the work.
    const twice = estimateMacsPerSample(open, [8, 448, 448, 3]);
    assert.ok(Math.abs(twice / atSize - 4) < 1e-9, `448 px / 224 px: ${twice / atSize}`);
    disposeWeights(open);
    disposeWeights(fixed);
  });

  it('walks into nested models (a Sequential head inside a functional model)', () => {
    const input = tf.input({ shape: [null, null, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' });
    const head = tf.sequential({
      layers: [
        tf.layers.globalAveragePooling2d({ inputShape: [null, null, 4] }),
        tf.layers.dense({ units: 5 }),
      ],
    });
    const out = head.apply(conv.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    // conv: 8*8*4 outputs x 3*3*3 taps at 16 px (stride 2); dense: 5 outputs x 4 inputs.
    assert.equal(estimateMacsPerSample(model, [2, 16, 16, 3]), 8 * 8 * 4 * 27 + 5 * 4);
    disposeWeights(model);
  });

  it('splits a MobileNet built as visionLearner builds it by default (2 threads, bs 8, 224 px)', async (t) => {
    const { backend } = await ready();
    if (backend !== 'wasm') return t.skip(`engine is ${backend}; data-parallel runs on wasm only`);
    const learn = await visionLearner(noImages(), mobilenetV1({ alpha: 0.75 }), {
      pretrained: false,
      seed: 3,
    });
    const log: string[] = [];
    const dp = new DataParallel((line) => log.push(line));
    const split = await dp.prepare(
      { threads: 2, explicit: false, batchShape: [8, 224, 224, 3] },
      learn.model,
      learn.lossFunc,
      [],
      [],
    );
    assert.equal(split, true, 'a 325 M multiply-add model in slices of 4 is worth two threads');
    assert.deepEqual(log, []);
    await closeTrainingThreads();
    disposeWeights(learn.model);
  });
});
