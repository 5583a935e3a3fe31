import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { heapIndex, isHeapBackend } from '../../../src/backend/wasm-kernels/heap.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { assertClose, type InputSpec, randomValues, runKernelOn, wasmReady } from './parity.js';

// fastai's bs 64 at 224 px takes the wasm heap past 2 GiB; tensors there have byte offsets
// >= 2^31, where a signed shift turns the float index negative (typed arrays then count from the
// end and reads return undefined: NaN losses). A filler keeps the heap's first 2 GiB busy so the
// kernels' tensors land above it, and each kernel is checked against the cpu backend there.
const TWO_GIB = 2 ** 31;
const rng = new RandomGenerator(31);
const spec = (shape: number[]): InputSpec => ({ shape, values: randomValues(rng, shape) });

/** Byte offset on the wasm heap of a fresh tensor of `n` floats (disposed again). */
function probeOffset(n: number): number {
  const backend = tf.backend();
  assert.ok(isHeapBackend(backend), 'the wasm backend is not active');
  const t = tf.zeros([n]);
  try {
    return heapIndex(backend, t.dataId) * 4;
  } finally {
    t.dispose();
  }
}

describe('wasm kernels on tensors past 2 GiB of heap', () => {
  let filler: tf.Tensor | undefined;
  before(async () => {
    await wasmReady();
    const backend = tf.backend() as unknown as {
      makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
    };
    // Not written: only reserves the heap's lower part (untouched pages cost no memory).
    const info = backend.makeOutput([TWO_GIB / 4 + 1024], 'float32');
    filler = tf.engine().makeTensorFromTensorInfo(info, tf.backend());
  });
  after(() => filler?.dispose());

  it('places new tensors above 2 GiB (so the checks below run where the bug was)', () => {
    assert.ok(probeOffset(4096) >= TWO_GIB, `offset ${probeOffset(4096)} is below 2 GiB`);
  });

  it('gradient kernels, transpose, reduction and depth-to-space match the cpu backend', () => {
    const x = spec([2, 9, 8, 8]);
    const dy = spec([2, 9, 8, 12]);
    const cases: [string, Record<string, InputSpec>, tf.NamedAttrMap][] = [
      ['Transpose', { x: spec([3, 8, 12]) }, { perm: [0, 2, 1] }],
      ['Sum', { x: spec([2, 5, 3, 8]) }, { axis: [0, 1], keepDims: false }],
      [
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 12] },
      ],
      [
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy: spec([2, 9, 8, 8]) },
        { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 8, 1] },
      ],
      [
        'DepthwiseConv2dNativeBackpropInput',
        { dy: spec([2, 5, 4, 8]), filter: spec([3, 3, 8, 1]) },
        { strides: 2, dilations: 1, pad: 'same', inputShape: [2, 9, 8, 8] },
      ],
      ['DepthToSpace', { x: spec([2, 3, 4, 16]) }, { blockSize: 2, dataFormat: 'NHWC' }],
    ];
    for (const [kernel, inputs, attrs] of cases) {
      assertClose(
        runKernelOn('wasm', kernel, inputs, attrs),
        runKernelOn('cpu', kernel, inputs, attrs),
        `${kernel} above 2 GiB`,
      );
    }
    const pool = { filterSize: 3, strides: 2, pad: 'same' as const };
    const input = spec([2, 8, 8, 4]);
    const output = runKernelOn('cpu', 'MaxPool', { x: input }, pool);
    const gradInputs = { dy: spec([2, 4, 4, 4]), input, output };
    assertClose(
      runKernelOn('wasm', 'MaxPoolGrad', gradInputs, pool),
      runKernelOn('cpu', 'MaxPoolGrad', gradInputs, pool),
      'MaxPoolGrad above 2 GiB',
    );
  });
});
