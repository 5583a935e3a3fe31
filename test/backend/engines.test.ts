import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  ENGINE_ORDER,
  ENGINES,
  engineAccelerations,
  explainNativeFailure,
} from '../../src/backend/engines.js';
import { ready } from '../../src/backend/index.js';

const PKG = '@tensorflow/tfjs-node-gpu';

describe('explainNativeFailure', () => {
  it('says how to install an absent package', () => {
    const err = Object.assign(new Error(`Cannot find package '${PKG}' imported from x.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    assert.equal(
      explainNativeFailure(PKG, err),
      'package not installed (install it with: npm install @tensorflow/tfjs-node-gpu@4.22.0)',
    );
  });

  it('names missing libtensorflow, CUDA and cuDNN with the versions needed', () => {
    assert.match(
      explainNativeFailure(PKG, new Error('libtensorflow.so.2: cannot open shared object file')),
      /^libtensorflow missing: .*npm rebuild @tensorflow\/tfjs-node-gpu$/,
    );
    assert.match(
      explainNativeFailure(PKG, new Error('libcudnn.so.8: cannot open shared object file')),
      /^cuDNN 8\.1 not found/,
    );
    assert.match(
      explainNativeFailure(PKG, new Error('libcublas.so.11: cannot open shared object file')),
      /^CUDA 11\.2 not found/,
    );
    assert.equal(explainNativeFailure(PKG, new Error('boom\nstack')), 'failed to load: boom');
  });
});

describe('the engine entries', () => {
  it('list every engine once, in the order ready() tries them, with its backend', () => {
    assert.deepEqual(
      ENGINES.map((e) => [e.name, e.backend]),
      [
        ['tfjs-node-gpu', 'tensorflow'],
        ['tfjs-node', 'tensorflow'],
        ['wasm', 'wasm'],
        ['cpu', 'cpu'],
      ],
    );
    assert.deepEqual(ENGINE_ORDER, ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
  });

  it("report the active engine's kernels, tsfast's added kernels included", async () => {
    const { engine } = await ready();
    const entry = ENGINES.find((e) => e.name === engine);
    assert.ok(entry, `no entry for ${engine}`);
    const kernels = entry.kernels();
    assert.deepEqual(
      kernels,
      tf
        .getKernelsForBackend(entry.backend)
        .map((k) => k.kernelName)
        .sort(),
    );
    for (const added of entry.accelerations.addedKernels) assert.ok(kernels.includes(added), added);
  });

  it('say where the fused CPU augmentation pays, and fall back to none for a foreign backend', () => {
    assert.equal(engineAccelerations('wasm').cpuAugmentation, true);
    assert.equal(engineAccelerations('cpu').cpuAugmentation, true);
    assert.equal(engineAccelerations('tensorflow').cpuAugmentation, false);
    assert.equal(engineAccelerations('wasm').batchNormKernels, 'pooling');
    assert.deepEqual(engineAccelerations('webgpu'), {
      addedKernels: [],
      cpuAugmentation: false,
      batchNormKernels: 'reduce',
    });
    assert.ok(engineAccelerations('wasm').addedKernels.includes(tf.Conv2DBackpropFilter));
  });
});
