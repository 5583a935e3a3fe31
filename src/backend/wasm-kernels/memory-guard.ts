/**
 * A guard on wasm memory. WebAssembly (wasm32) addresses at most 4 GB; when a training step
 * needs more, the wasm package's `malloc` returns 0 or XNNPACK aborts the whole module, and
 * tfjs reports "memory access out of bounds" or `Aborted()` with every tensor lost. The guard
 * counts the bytes of live wasm tensors and throws a {@link BackendError} before an
 * allocation would pass the limit, leaving headroom for XNNPACK's own buffers, so the step
 * fails early, cleanly (tfjs unwinds its scopes) and says which batch size fits.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../../core/errors.js';

/** How the guard's refusal starts; {@link isOutOfEngineMemory} recognises it. */
const LIMIT_REACHED = 'wasm memory limit reached';

/**
 * Whether an error is the memory guard refusing an allocation: the step does not fit the
 * engine's memory, and a smaller batch may (the learner's automatic micro-batching).
 * @param err - Any thrown value.
 * @returns `true` for the guard's refusal.
 * @internal
 */
export function isOutOfEngineMemory(err: unknown): boolean {
  return err instanceof BackendError && err.message.startsWith(LIMIT_REACHED);
}

/** Default limit on live tensor bytes: 3 GiB, leaving ~1 GiB of the 4 GiB for XNNPACK. */
export const DEFAULT_WASM_TENSOR_LIMIT = 3 * 2 ** 30;

interface WasmBackendInternals {
  move(
    dataId: object,
    values: unknown,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void;
  disposeData(dataId: object, force?: boolean): boolean;
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
}

interface GuardState {
  limit: number;
  bytes: number;
  /** High-water mark of `bytes` since the guard was installed or the peak was reset. */
  peak: number;
  sizes: WeakMap<object, number>;
  /** Leading dimension and bytes of the last rank-4 allocations. */
  recentLeading: [number, number][];
}

const GUARD = Symbol.for('tsfast.wasmMemoryGuard');

function stateOf(backend: tf.KernelBackend): GuardState | undefined {
  return (backend as unknown as { [GUARD]?: GuardState })[GUARD];
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}

interface EngineTapeState {
  state: { activeTape: { saved?: tf.Tensor[] }[] | null };
}

/**
 * Frees the tensors the gradient tape saved for the backward pass: the step is abandoned, and
 * tfjs-core only frees them when backprop completes.
 */
function releaseTape(): void {
  const tape = (tf.engine() as unknown as EngineTapeState).state.activeTape;
  if (!tape) return;
  for (const node of tape) {
    for (const t of node.saved ?? []) t.dispose();
    node.saved = [];
  }
}

/**
 * The leading dimension (> 1) holding the most bytes among recent rank-4 allocations: the batch
 * size of the activations, usually (weights are rank 4 too, but small).
 */
function likelyBatch(state: GuardState): number | undefined {
  const bytes = new Map<number, number>();
  for (const [d, b] of state.recentLeading) {
    // Leading 1s are views (kernels that fold the batch into other axes, e.g. BatchNorm's
    // `[1, N*H, W, C]`), and a batch of 1 cannot be made smaller anyway.
    if (d > 1) bytes.set(d, (bytes.get(d) ?? 0) + b);
  }
  let best: number | undefined;
  for (const [d, b] of bytes) if (best === undefined || b > bytes.get(best)!) best = d;
  return best;
}

function memoryError(state: GuardState, request: number, shape: number[]): BackendError {
  const needed = state.bytes + request;
  const inUse = state.bytes;
  releaseTape();
  const batch = likelyBatch(state);
  // The step fails part-way: its peak lies beyond what is in use now, so the proportional
  // estimate is halved. MobileNet v1 0.25 at 224x224: batch 64 and 40 fail, suggesting 32 and
  // 20, which train (32 peaks just under the limit).
  const fits = batch !== undefined ? Math.floor((batch * state.limit * 0.5) / needed) : undefined;
  const advice =
    batch !== undefined && fits !== undefined && fits < batch
      ? ` If the batch size is ${batch}, use a batch size of at most ~${Math.max(1, fits)}` +
        ` (with the GradientAccumulation callback, \`{ nAcc: ${batch} }\`, to keep stepping ` +
        `once per ${batch} samples) or a smaller image size.`
      : ' Reduce the batch size or the image size.';
  return new BackendError(
    `${LIMIT_REACHED}: the step needs more than ${mb(state.limit)} of tensors ` +
      `(${mb(inUse)} in use, ${mb(request)} more requested for a tensor of shape ` +
      `[${shape.join(', ')}]); WebAssembly can address 4 GB in all.${advice}`,
  );
}

/**
 * Installs the guard on the active wasm backend (once; later calls only update the limit).
 *
 * @param limit - Largest number of bytes live wasm tensors may hold.
 *   Defaults to {@link DEFAULT_WASM_TENSOR_LIMIT}.
 * @returns Whether the active backend is wasm (and so is now guarded).
 * @internal
 */
export function installWasmMemoryGuard(limit = DEFAULT_WASM_TENSOR_LIMIT): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend();
  const existing = stateOf(backend);
  if (existing) {
    existing.limit = limit;
    return true;
  }
  const internals = backend as unknown as WasmBackendInternals;
  const state: GuardState = {
    limit,
    bytes: 0,
    peak: 0,
    sizes: new WeakMap(),
    recentLeading: [],
  };
  const move = internals.move.bind(internals);
  const disposeData = internals.disposeData.bind(internals);
  internals.move = (dataId, values, shape, dtype, refCount) => {
    const bytes =
      dtype === 'string' ? 0 : tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
    if (shape.length === 4) {
      state.recentLeading.push([shape[0]!, bytes]);
      if (state.recentLeading.length > 64) state.recentLeading.shift();
    }
    if (bytes > 0 && state.bytes + bytes > state.limit) throw memoryError(state, bytes, shape);
    // Allocate first and copy the values only once the allocation is known to have succeeded:
    // the package copies them to whatever malloc returned, and a failed malloc returns 0, so
    // the values would overwrite the module's own data at address 0 and the next
    // `disposeData` dies with "memory access out of bounds" (the heap can fail to grow below
    // the guard's limit: fragmentation, XNNPACK's buffers).
    const copy = bytes > 0 && values != null;
    move(dataId, copy ? null : values, shape, dtype, refCount);
    const offset = internals.dataIdMap.get(dataId)?.memoryOffset;
    if (bytes > 0 && offset === 0) {
      // malloc failed: the heap could not grow. Undo and report instead of corrupting memory.
      disposeData(dataId, true);
      throw memoryError(state, bytes, shape);
    }
    if (copy && offset != null) {
      const v = values as ArrayBufferView;
      internals.wasm.HEAPU8.set(new Uint8Array(v.buffer, v.byteOffset, bytes), offset);
    }
    state.bytes += bytes;
    if (state.bytes > state.peak) state.peak = state.bytes;
    state.sizes.set(dataId, bytes);
  };
  internals.disposeData = (dataId, force) => {
    const freed = disposeData(dataId, force);
    const bytes = state.sizes.get(dataId);
    if (freed && bytes !== undefined) {
      state.bytes -= bytes;
      state.sizes.delete(dataId);
    }
    return freed;
  };
  (backend as unknown as { [GUARD]?: GuardState })[GUARD] = state;
  return true;
}

/**
 * Bytes held by live wasm tensors as the guard counts them (tensors created before the guard
 * was installed are not counted), or `undefined` if wasm is not active or not guarded.
 * @internal
 */
export function wasmTensorBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return stateOf(tf.backend())?.bytes;
}

/**
 * The most bytes live wasm tensors held at once since the guard was installed or since the
 * last {@link resetWasmTensorPeak} (as {@link wasmTensorBytes} counts them), or `undefined`
 * if wasm is not active or not guarded.
 * @internal
 */
export function wasmTensorPeakBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return stateOf(tf.backend())?.peak;
}

/**
 * Restarts {@link wasmTensorPeakBytes} from the bytes live now.
 * @internal
 */
export function resetWasmTensorPeak(): void {
  if (tf.getBackend() !== 'wasm') return;
  const state = stateOf(tf.backend());
  if (state) state.peak = state.bytes;
}
