import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { isHeapBackend } from '../../../src/backend/wasm-kernels/heap.js';
import {
  simdKernels,
  simdModuleBytes,
  useFusedMultiplyAdd,
} from '../../../src/backend/wasm-kernels/simd-kernels.js';
import { sleb, uleb } from '../../../src/backend/wasm-kernels/wasm-assembler.js';
import { wasmReady } from './parity.js';

describe('tsfast SIMD module on the wasm heap', () => {
  before(wasmReady);

  it('LEB128 encodings match the specification examples', () => {
    assert.deepEqual(uleb(0), [0]);
    assert.deepEqual(uleb(127), [0x7f]);
    assert.deepEqual(uleb(128), [0x80, 0x01]);
    assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
    assert.deepEqual(sleb(-1), [0x7f]);
    assert.deepEqual(sleb(63), [0x3f]);
    assert.deepEqual(sleb(64), [0xc0, 0x00]);
    assert.deepEqual(sleb(-64), [0x40]);
    assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  });

  it('validates and binds to the backend memory (so the parity tests run the SIMD path)', () => {
    const wasmApi = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } })
      .WebAssembly;
    assert.ok(wasmApi.validate(simdModuleBytes()));
    const backend = tf.backend();
    assert.ok(isHeapBackend(backend));
    const kernels = simdKernels(backend);
    assert.ok(kernels !== undefined, 'SIMD kernels unavailable on this wasm backend');
    assert.equal(simdKernels(backend), kernels, 'instantiated once per memory');
  });

  it('builds the module with and without fused multiply-adds (relaxed SIMD on Node 20 and 22+)', () => {
    const wasmApi = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } })
      .WebAssembly;
    // This Node (>= 20.19) has relaxed SIMD once its flag is set: the fused module is the default.
    assert.equal(useFusedMultiplyAdd(), process.env.TSFAST_WASM_FMA !== '0');
    assert.ok(wasmApi.validate(simdModuleBytes(true)));
    assert.ok(wasmApi.validate(simdModuleBytes(false)));
    assert.notDeepEqual(simdModuleBytes(true), simdModuleBytes(false));
    assert.equal(simdModuleBytes(), simdModuleBytes(true));
  });

  it('dwFilterTap sums strided products in place, vector part and scalar tail', () => {
    const backend = tf.backend();
    assert.ok(isHeapBackend(backend));
    const kernels = simdKernels(backend)!;
    // x: 2 batches x 3 rows x 4 columns x 6 channels; g: 2 x 2 x 2 x 6. Tap reads x rows 0..1
    // (row step 2: rows 0 and 2) and columns 1, 3 (column step 2).
    const c = 6;
    const xv = Float32Array.from({ length: 2 * 3 * 4 * c }, (_, i) => ((i * 7) % 11) - 5);
    const gv = Float32Array.from({ length: 2 * 2 * 2 * c }, (_, i) => ((i * 5) % 9) - 4);
    const x = tf.tensor(xv);
    const g = tf.tensor(gv);
    const acc = tf.tensor(Float32Array.from({ length: c }, (_, i) => i));
    const heapOf = (t: tf.Tensor): number =>
      (backend.dataIdMap.get(t.dataId)!.memoryOffset as number) >> 0;
    const expected = Float32Array.from({ length: c }, (_, i) => i);
    for (let b = 0; b < 2; b++)
      for (let r = 0; r < 2; r++)
        for (let q = 0; q < 2; q++)
          for (let k = 0; k < c; k++) {
            const xi = ((b * 3 + r * 2) * 4 + 1 + q * 2) * c + k;
            const gi = ((b * 2 + r) * 2 + q) * c + k;
            expected[k] = Math.fround(expected[k]! + Math.fround(xv[xi]! * gv[gi]!));
          }
    kernels.dwFilterTap(
      heapOf(x) + c * 4,
      heapOf(g),
      heapOf(acc),
      2,
      2,
      2,
      16,
      c * 4,
      0,
      3 * 4 * c * 4,
      2 * 4 * c * 4,
      2 * c * 4,
      2 * 2 * c * 4,
      2 * c * 4,
      c * 4,
    );
    assert.deepEqual(acc.dataSync(), expected);
    tf.dispose([x, g, acc]);
  });
});
