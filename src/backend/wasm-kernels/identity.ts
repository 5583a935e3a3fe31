/**
 * wasm `Identity` that shares the input's memory instead of copying it.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelArgs } from './tensor-kernel.js';

/**
 * wasm `Identity` that shares the input's memory (reference-counted, as the cpu backend and
 * `Reshape` do) instead of copying it. tfjs-core clones every tensor it saves for the backward
 * pass, so the package's copying kernel re-writes every saved activation each training step.
 * Tensors are immutable, so sharing is safe.
 * @internal
 */
export const sharingIdentityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: KernelArgs) => {
    const x = inputs.x!;
    if (x.dtype === 'string') {
      throw new Error('tsfast wasm Identity: string tensors are not supported on wasm.');
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  }) as unknown as tf.KernelFunc,
};
