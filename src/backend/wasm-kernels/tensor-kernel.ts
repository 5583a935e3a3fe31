/**
 * Writing a backend kernel as a composition of tf ops. Inside a kernel, tf ops run on the
 * active backend and are never recorded for gradients (the engine keeps its tape off while a
 * kernel runs), so a kernel body can be ordinary tfjs code. This module owns the reference
 * counting that makes the body's result the kernel's output without a copy or a leak.
 */
import * as tf from '@tensorflow/tfjs';

/** What a kernel function receives, as tfjs-core passes it. */
export interface KernelArgs {
  /** Input tensors by name. */
  inputs: tf.NamedTensorInfoMap;
  /** The backend running the kernel. */
  backend: tf.KernelBackend;
  /** The kernel's attributes. */
  attrs?: tf.NamedAttrMap;
}

/** The tensors a kernel body receives, by input name. */
export type TensorMap = Record<string, tf.Tensor>;

/**
 * Wraps a tf-op body as a kernel function: inputs arrive as tensors, every intermediate the
 * body creates is disposed, and the body's result becomes the kernel output (sharing its data,
 * reference-counted like `Reshape` does).
 *
 * @param body - Computes the output from the inputs and the kernel's attributes.
 * @returns A kernel function for `tf.registerKernel`.
 * @internal
 */
export function tensorKernel(
  body: (inputs: TensorMap, attrs: tf.NamedAttrMap) => tf.Tensor,
): (args: KernelArgs) => tf.TensorInfo {
  return ({ inputs, backend, attrs }) => {
    const wrapped: tf.Tensor[] = [];
    const tensors: TensorMap = {};
    for (const [name, info] of Object.entries(inputs)) {
      if (info === undefined) continue;
      if (info instanceof tf.Tensor) {
        tensors[name] = info;
      } else {
        // A raw TensorInfo: take a reference so that disposing the wrapper leaves the data.
        backend.incRef(info.dataId);
        const t = tf.engine().makeTensorFromTensorInfo(info, backend);
        wrapped.push(t);
        tensors[name] = t;
      }
    }
    try {
      const out = tf.tidy(() => body(tensors, attrs ?? {}));
      backend.incRef(out.dataId);
      const info: tf.TensorInfo = {
        dataId: out.dataId,
        shape: out.shape.slice(),
        dtype: out.dtype,
      };
      if (!Object.values(tensors).includes(out)) out.dispose();
      return info;
    } finally {
      for (const t of wrapped) t.dispose();
    }
  };
}

/** Reads a numeric pair attribute (`strides`, `dilations`) given as a number or a pair. */
export function pairAttr(value: unknown, fallback: number): [number, number] {
  if (value == null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  const arr = value as number[];
  return [arr[0] ?? fallback, arr[1] ?? arr[0] ?? fallback];
}
