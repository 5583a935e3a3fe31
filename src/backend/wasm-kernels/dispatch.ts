/**
 * The one place a tsfast wasm kernel chooses between its heap implementation (JavaScript or
 * SIMD code reading tfjs-backend-wasm's linear memory) and its fallback (tf ops, or the
 * package's own kernel). Each kernel only says which cases its heap code handles.
 */
import type * as tf from '@tensorflow/tfjs';
import { type HeapBackend, isHeapBackend } from './heap.js';
import type { KernelArgs } from './tensor-kernel.js';

/** A kernel function as tfjs-core calls it. @internal */
export type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/**
 * The heap implementation of a kernel for the cases it handles: returns `undefined` to
 * decline one (a dtype, layout or shape it was not written for, or no SIMD module).
 * @internal
 */
export type HeapKernel = (
  args: KernelArgs,
  backend: HeapBackend,
) => tf.TensorInfo | tf.TensorInfo[] | undefined;

/**
 * A kernel function that runs `heap` when the kernel runs on the wasm backend and `heap`
 * takes the case, and `fallback` otherwise.
 * @param heap - The heap implementation.
 * @param fallback - tf ops or the package's own kernel, for every other case.
 * @returns The kernel function to register.
 * @internal
 */
export function heapOrFallback(heap: HeapKernel, fallback: KernelFn): tf.KernelFunc {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] =>
    (isHeapBackend(args.backend) ? heap(args, args.backend) : undefined) ?? fallback(args);
  return kernelFunc as unknown as tf.KernelFunc;
}
