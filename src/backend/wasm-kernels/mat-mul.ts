/**
 * Wrappers around the wasm `BatchMatMul` and `_FusedMatMul` kernels. With `transposeA` or
 * `transposeB` set, the wasm package multiplies with a strided loop that was measured ~30 x
 * slower than transposing explicitly (a fast wasm kernel) and multiplying plainly (XNNPACK).
 * Every gradient of a dense layer sets one of them, so the wrappers transpose first.
 */
import type * as tf from '@tensorflow/tfjs';
import type { KernelFn } from './dispatch.js';
import type { KernelArgs } from './tensor-kernel.js';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Builds a kernel config that transposes the `a`/`b` inputs explicitly, then calls the
 * original wasm kernel with both transpose flags off.
 *
 * @param original - The wasm package's kernel config (`BatchMatMul` or `_FusedMatMul`).
 * @param transpose - The wasm `Transpose` kernel config.
 * @returns The wrapping config (keeps the original's setup and dispose functions).
 * @internal
 */
export function explicitTransposeMatMul(
  original: tf.KernelConfig,
  transpose: tf.KernelConfig,
): tf.KernelConfig {
  const run = original.kernelFunc as unknown as KernelFn;
  const transposeFn = transpose.kernelFunc as unknown as KernelFn;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const attrs = args.attrs ?? {};
    const { transposeA, transposeB } = attrs;
    if (!transposeA && !transposeB) return run(args);
    const { backend } = args;
    const temps: tf.TensorInfo[] = [];
    const explicit = (t: tf.TensorInfo): tf.TensorInfo => {
      const out = transposeFn({
        inputs: { x: t },
        backend,
        attrs: { perm: swapLastTwo(t.shape.length) },
      }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    const inputs = { ...args.inputs };
    if (transposeA) inputs.a = explicit(inputs.a!);
    if (transposeB) inputs.b = explicit(inputs.b!);
    try {
      return run({ inputs, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
