import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainNativeFailure } from '../../src/backend/engines.js';

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
