import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { DataError } from '../../../src/core/errors.js';
import type { NamedArray } from '../../../src/vision/models/safetensors.js';
import { assignNamedWeights, torchNaming } from '../../../src/vision/models/weight-map.js';

/** A model named like a PyTorch module: conv, depthwise conv, BN, linear. */
function tinyTorchLike(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 2] });
  let x = tf.layers
    .conv2d({ filters: 3, kernelSize: [2, 3], useBias: true, name: 'features.0' })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, useBias: false, name: 'features.1' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'features.2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 4, name: 'classifier' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

const arange = (n: number, scale = 1) =>
  Float32Array.from({ length: n }, (_, i) => i * scale + 0.5);
const named = (shape: number[], scale = 1): NamedArray => ({
  shape,
  data: arange(
    shape.reduce((a, b) => a * b, 1),
    scale,
  ),
  dtype: 'F32',
});

function stateDict(): Map<string, NamedArray> {
  return new Map<string, NamedArray>([
    ['features.0.weight', named([3, 2, 2, 3])], // [out, in, kh, kw]
    ['features.0.bias', named([3])],
    ['features.1.weight', named([6, 1, 3, 3])], // [channels * multiplier, 1, kh, kw]
    ['features.2.weight', named([6], 0.1)],
    ['features.2.bias', named([6], 0.2)],
    ['features.2.running_mean', named([6], 0.3)],
    ['features.2.running_var', named([6], 0.4)],
    ['features.2.num_batches_tracked', { shape: [], data: new Float32Array([7]), dtype: 'I64' }],
    ['classifier.weight', named([4, 6])], // [out, in]
    ['classifier.bias', named([4])],
  ]);
}

describe('checked name map (PyTorch naming)', () => {
  it('transposes conv, depthwise and linear kernels from PyTorch layout to tfjs layout', async () => {
    await ready();
    const model = tinyTorchLike();
    const sd = stateDict();
    const report = assignNamedWeights(model, sd, torchNaming, 'sd');
    assert.equal(report.loaded.length, 9);
    const conv = model.getLayer('features.0').getWeights()[0]?.arraySync() as number[][][][];
    const torchConv = sd.get('features.0.weight')?.data as Float32Array;
    // torch [o, i, y, x] at flat index ((o * 2 + i) * 2 + y) * 3 + x == tfjs [y][x][i][o]
    for (const [o, i, y, x] of [
      [0, 0, 0, 0],
      [2, 1, 1, 2],
      [1, 0, 1, 1],
    ] as const) {
      assert.equal(conv[y]?.[x]?.[i]?.[o], torchConv[((o * 2 + i) * 2 + y) * 3 + x]);
    }
    const dw = model.getLayer('features.1').getWeights()[0]?.arraySync() as number[][][][];
    const torchDw = sd.get('features.1.weight')?.data as Float32Array;
    // torch output channel c * m + j (m = 2) at [y, x] == tfjs [y][x][c][j]
    for (const [c, j, y, x] of [
      [0, 0, 0, 0],
      [2, 1, 2, 1],
      [1, 0, 1, 2],
    ] as const) {
      assert.equal(dw[y]?.[x]?.[c]?.[j], torchDw[((c * 2 + j) * 3 + y) * 3 + x]);
    }
    const [gamma, beta, mean, variance] = model.getLayer('features.2').getWeights();
    assert.deepEqual(gamma?.dataSync(), sd.get('features.2.weight')?.data);
    assert.deepEqual(beta?.dataSync(), sd.get('features.2.bias')?.data);
    assert.deepEqual(mean?.dataSync(), sd.get('features.2.running_mean')?.data);
    assert.deepEqual(variance?.dataSync(), sd.get('features.2.running_var')?.data);
    const fc = model.getLayer('classifier').getWeights()[0]?.arraySync() as number[][];
    const torchFc = sd.get('classifier.weight')?.data as Float32Array;
    assert.equal(fc[5]?.[3], torchFc[3 * 6 + 5]);
    model.dispose();
  });

  it('lists every missing, unexpected and mis-shaped tensor and writes nothing', async () => {
    await ready();
    const model = tinyTorchLike();
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const sd = stateDict();
    sd.delete('features.2.running_var');
    sd.set('classifier.weight', named([4, 7]));
    sd.set('extra.weight', named([2]));
    assert.throws(
      () => assignNamedWeights(model, sd, torchNaming, 'bad.safetensors'),
      (err: Error) => {
        assert.ok(err instanceof DataError);
        assert.match(err.message, /"bad\.safetensors"/);
        assert.match(err.message, /1 missing in the file: "features\.2\.running_var" \[6\]/);
        assert.match(
          err.message,
          /"classifier\.weight" is \[4, 7\] in the file, the model needs \[4, 6\]/,
        );
        assert.match(err.message, /1 unexpected .*"?extra\.weight/);
        return true;
      },
    );
    const after = model.getWeights().map((w) => w.dataSync());
    after.forEach((a, i) => {
      assert.deepEqual(a, before[i]);
    });
    // Unused tensors are accepted on request (a body without its classifier).
    const ok = stateDict();
    ok.set('extra.weight', named([2]));
    const report = assignNamedWeights(model, ok, torchNaming, 'ok', { allowUnexpected: true });
    assert.deepEqual(report.unexpected, ['extra.weight']);
    model.dispose();
  });
});
