import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as tf from '@tensorflow/tfjs';
import { heapOrFallback, type KernelFn } from '../../../src/backend/wasm-kernels/dispatch.js';
import type { KernelArgs } from '../../../src/backend/wasm-kernels/tensor-kernel.js';

const HEAP_OUT: tf.TensorInfo = { dataId: {}, shape: [1], dtype: 'float32' };
const OPS_OUT: tf.TensorInfo = { dataId: {}, shape: [2], dtype: 'float32' };

/** A backend that looks like tfjs-backend-wasm to the dispatch (heap and data map). */
const wasmLike = { wasm: { HEAPF32: new Float32Array(4) }, dataIdMap: new Map() };
const cpuLike = {};

function call(fn: tf.KernelFunc, backend: object, attrs: tf.NamedAttrMap = {}) {
  return (fn as unknown as KernelFn)({
    inputs: {},
    backend: backend as tf.KernelBackend,
    attrs,
  } as KernelArgs);
}

describe('heapOrFallback: the one heap-or-ops dispatch of the wasm kernels', () => {
  const seen: string[] = [];
  const kernel = heapOrFallback(
    (args, backend) => {
      seen.push(`heap ${backend === (wasmLike as unknown) ? 'wasm' : '?'}`);
      return args.attrs?.take ? HEAP_OUT : undefined;
    },
    () => {
      seen.push('ops');
      return OPS_OUT;
    },
  );

  it('runs the heap code on the wasm backend for the cases it takes', () => {
    seen.length = 0;
    assert.equal(call(kernel, wasmLike, { take: true }), HEAP_OUT);
    assert.deepEqual(seen, ['heap wasm']);
  });

  it('falls back when the heap code declines the case', () => {
    seen.length = 0;
    assert.equal(call(kernel, wasmLike, { take: false }), OPS_OUT);
    assert.deepEqual(seen, ['heap wasm', 'ops']);
  });

  it('never calls the heap code on a backend without a wasm heap', () => {
    seen.length = 0;
    assert.equal(call(kernel, cpuLike, { take: true }), OPS_OUT);
    assert.deepEqual(seen, ['ops']);
  });
});
