import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import {
  checkWasmPackageVersion,
  registerWasmTrainingKernels,
  WASM_PACKAGE_VERSION,
} from '../../../src/backend/wasm-kernels/index.js';
import { installedWasmPackageVersion } from '../../../src/backend/wasm-kernels/register.js';
import { BackendError } from '../../../src/core/errors.js';

describe('the wasm package version the kernels were written for', () => {
  it('accepts the installed package (package.json pins it)', () => {
    assert.equal(version_wasm, WASM_PACKAGE_VERSION);
    assert.doesNotThrow(() => checkWasmPackageVersion(version_wasm));
  });

  it('refuses another release, naming both versions and the fix', () => {
    assert.throws(
      () => checkWasmPackageVersion('4.23.0'),
      (err: unknown) =>
        err instanceof BackendError &&
        err.message.includes('4.23.0 is installed') &&
        err.message.includes(`@tensorflow/tfjs-backend-wasm ${WASM_PACKAGE_VERSION}`) &&
        err.message.includes('TSFAST_BACKEND=cpu'),
    );
  });

  it('registering the kernels checks the installed package first and registers nothing for another', () => {
    assert.equal(installedWasmPackageVersion(), version_wasm);
    const before = tf.getKernelsForBackend('wasm').map((k) => k.kernelName);
    assert.throws(
      () => registerWasmTrainingKernels('4.21.0'),
      (err: unknown) =>
        err instanceof BackendError &&
        err.message.includes('4.21.0 is installed') &&
        err.message.includes(`written for @tensorflow/tfjs-backend-wasm ${WASM_PACKAGE_VERSION}`),
    );
    assert.deepEqual(
      tf.getKernelsForBackend('wasm').map((k) => k.kernelName),
      before,
      'a refused registration must leave the wasm kernels as they were',
    );
  });
});
