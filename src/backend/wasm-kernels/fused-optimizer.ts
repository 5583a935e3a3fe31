/**
 * Fused optimizer updates for the wasm backend. On wasm a tensor's values live in the module's
 * heap, which JavaScript can read and write directly; an Adam step written as tensor ops
 * dispatches about ten kernels per parameter (each with the engine's bookkeeping), which for a
 * MobileNet is ~1,000 kernel calls per step for a few hundred thousand numbers. Here one
 * JavaScript loop per parameter computes the new parameter and updates its buffers.
 *
 * Values are bit-identical to the tensor-op formulation: every intermediate is rounded to
 * float32 (`Math.fround`) exactly where a float32 kernel would round it (wasm SIMD has no fused
 * multiply-add, and float32 `sqrt` and `/` are correctly rounded, which the double result
 * rounded once to float32 reproduces).
 *
 * The new parameter values go to fresh memory (one allocation per parameter, then `assign`):
 * tfjs-backend-wasm's XNNPACK kernels cache operators, with the weights packed into them, by the
 * data id of the weight tensor, assuming tensors never change; a weight rewritten in place would
 * be used stale by the next convolution or dense product. The optimizer's own buffers are never
 * kernel weights and are written in place, when the buffer is the sole owner of its memory
 * (reference count 1): a clone (`Identity` shares memory on wasm), or a snapshot assigned into a
 * buffer, keeps its values because such a buffer receives fresh memory too.
 */
import * as tf from '@tensorflow/tfjs';
import { type HeapBackend, isHeapBackend } from './heap.js';

/**
 * One parameter of a fused update: the variable, its gradient and its optimizer buffers.
 * @internal
 */
export interface FusedParam {
  /** The parameter (updated). */
  param: tf.Variable;
  /** Its gradient (read only). */
  grad: tf.Tensor;
  /** Its buffers in the optimizer's order (Adam: `gradAvg`, `sqrAvg`; SGD: `gradAvg`), updated. */
  buffers: readonly tf.Variable[];
  /** The parameter's step count, already incremented for this step. */
  step: number;
  /** Whether weight decay applies to it. */
  doWd: boolean;
}

/**
 * Hyper-parameters of a fused Adam step (as {@link fusedAdamStep} reads them).
 * @internal
 */
export interface FusedAdamHypers {
  lr: number;
  mom: number;
  sqrMom: number;
  eps: number;
  wd: number;
  decoupleWd: boolean;
}

/**
 * Hyper-parameters of a fused SGD step.
 * @internal
 */
export interface FusedSgdHypers {
  lr: number;
  mom: number;
  wd: number;
  decoupleWd: boolean;
}

/** Heap offsets (in floats) of one parameter: where to read and where to write each tensor. */
interface Layout {
  size: number;
  grad: number;
  /** Read offsets of param then buffers. */
  read: number[];
  /** Write offsets of param then buffers (equal to `read` when in place). */
  write: number[];
}

/** Environment variable that turns the fused optimizer updates on (`1`). */
export const FUSED_OPTIMIZER_ENV_VAR = 'TSFAST_FUSED_OPTIMIZER';

/**
 * Whether Adam and SGD should try the fused wasm update. Off unless
 * `TSFAST_FUSED_OPTIMIZER=1`: with it, fine-tuning MobileNet v1 on the pets photos at 224 px
 * reached a NaN loss within 20 batches of unfreezing (at learning rates of 1e-6 to 1e-4),
 * while the same seeded run on the tensor-op path trained normally; the cause is not found
 * yet, and the fused update saves only ~1 % of a MobileNet step (docs/benchmarks.md).
 * @returns `true` when the environment variable is `1`.
 * @internal
 */
export function fusedOptimizerEnabled(): boolean {
  return process.env[FUSED_OPTIMIZER_ENV_VAR] === '1';
}

function heapBackend(): HeapBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  // While tf.profile records (kernel audits such as expectKernelsSupported), run the tensor-op
  // path, so the profile lists the kernels this update needs on every other backend.
  if ((tf.engine().state as { profiling?: boolean }).profiling === true) return undefined;
  const backend = tf.backend();
  return isHeapBackend(backend) ? backend : undefined;
}

/**
 * Checks every tensor (float32, on the wasm heap, matching sizes), allocates fresh memory for
 * variables that share theirs, and returns the heap layout; `undefined` (nothing changed) when
 * the fused path does not apply.
 */
function layout(
  backend: HeapBackend,
  items: readonly FusedParam[],
  bufferCount: number,
): { layouts: Layout[]; fresh: [tf.Variable, tf.TensorInfo][] } | undefined {
  const entry = (t: tf.Tensor) =>
    t.dtype === 'float32' ? backend.dataIdMap.get(t.dataId) : undefined;
  // A variable listed twice would be updated twice in sequence by the tensor path: leave that to it.
  const seen = new Set<tf.Variable>();
  for (const item of items) {
    for (const v of [item.param, ...item.buffers]) {
      if (seen.has(v)) return undefined;
      seen.add(v);
    }
  }
  for (const item of items) {
    if (item.buffers.length !== bufferCount || item.param.isDisposed || item.grad.isDisposed) {
      return undefined;
    }
    const size = item.param.size;
    for (const t of [item.param, item.grad, ...item.buffers]) {
      if (t.size !== size || entry(t) === undefined) return undefined;
    }
  }
  const fresh: [tf.Variable, tf.TensorInfo][] = [];
  const writeInfo = new Map<tf.Variable, tf.TensorInfo>();
  for (const item of items) {
    for (const v of [item.param, ...item.buffers]) {
      // Parameters always get fresh memory (a new data id): XNNPACK caches operators with
      // packed weights by the weight's data id, so a weight changed in place would be stale.
      const inPlace = v !== item.param && entry(v)?.refCount === 1;
      if (inPlace || writeInfo.has(v)) continue;
      const info = backend.makeOutput(v.shape.slice(), 'float32');
      writeInfo.set(v, info);
      fresh.push([v, info]);
    }
  }
  // Offsets are read after every allocation (allocating may grow the heap; offsets stay valid).
  const offset = (id: tf.DataId) => (backend.dataIdMap.get(id)?.memoryOffset as number) >> 2;
  const layouts = items.map((item) => {
    const vars = [item.param, ...item.buffers];
    const read = vars.map((v) => offset(v.dataId));
    const write = vars.map((v, i) => {
      const info = writeInfo.get(v);
      return info === undefined ? (read[i] as number) : offset(info.dataId);
    });
    return { size: item.param.size, grad: offset(item.grad.dataId), read, write };
  });
  return { layouts, fresh };
}

/** Points each variable that got fresh memory at it (the old buffer stays with its other owners). */
function commit(backend: HeapBackend, fresh: readonly [tf.Variable, tf.TensorInfo][]): void {
  for (const [v, info] of fresh) {
    const t = tf.engine().makeTensorFromTensorInfo(info, backend);
    v.assign(t);
    t.dispose();
  }
}

const f = Math.fround;

/**
 * One Adam step (fastai's, with decoupled or L2 weight decay, see `Adam`) for a group of
 * parameters, computed in place on the wasm heap. Does nothing and returns `false` unless the
 * active backend is wasm and every tensor is a float32 tensor of that backend with matching
 * sizes; the caller then runs its tensor-op path.
 *
 * @param items - Parameters with their gradients and buffers (`gradAvg`, `sqrAvg`).
 * @param h - The group's hyper-parameters.
 * @returns Whether the update was applied.
 * @internal
 * @example
 * ```ts
 * const done = fusedAdamStep([{ param: w, grad: g, buffers: [m, v], step: 1, doWd: true }],
 *   { lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01, decoupleWd: true });
 * ```
 */
export function fusedAdamStep(items: readonly FusedParam[], h: FusedAdamHypers): boolean {
  const backend = heapBackend();
  if (backend === undefined) return false;
  const plan = layout(backend, items, 2);
  if (plan === undefined) return false;
  const heap = backend.wasm.HEAPF32;
  const mom = f(h.mom);
  const mom1 = f(1 - h.mom);
  const sqr = f(h.sqrMom);
  const sqr1 = f(1 - h.sqrMom);
  items.forEach((item, k) => {
    const { size, grad, read, write } = plan.layouts[k] as Layout;
    const [pr, mr, vr] = read as [number, number, number];
    const [pw, mw, vw] = write as [number, number, number];
    const sd2 = Math.sqrt(debiasFactor(h.sqrMom, item.step));
    const d1 = debiasFactor(h.mom, item.step);
    const stepSize = f((h.lr * sd2) / d1);
    const epsD = f(h.eps * sd2);
    const wd = item.doWd && h.wd !== 0;
    const decay = wd && h.decoupleWd ? f(1 - h.lr * h.wd) : 1;
    const l2 = wd && !h.decoupleWd ? f(h.wd) : 0;
    adamLoop(
      heap,
      size,
      grad,
      pr,
      mr,
      vr,
      pw,
      mw,
      vw,
      decay,
      l2,
      mom,
      mom1,
      sqr,
      sqr1,
      stepSize,
      epsD,
    );
  });
  commit(backend, plan.fresh);
  return true;
}

/**
 * One SGD step (momentum `gradAvg = mom*gradAvg + g`, decoupled or L2 weight decay, see `SGD`)
 * for a group of parameters, in place on the wasm heap; `false` (nothing done) off wasm, as
 * {@link fusedAdamStep}.
 *
 * @param items - Parameters with their gradients and buffers (`gradAvg`).
 * @param h - The group's hyper-parameters.
 * @returns Whether the update was applied.
 * @internal
 * @example
 * ```ts
 * fusedSgdStep([{ param: w, grad: g, buffers: [m], step: 1, doWd: true }],
 *   { lr: 0.1, mom: 0.9, wd: 0, decoupleWd: true });
 * ```
 */
export function fusedSgdStep(items: readonly FusedParam[], h: FusedSgdHypers): boolean {
  const backend = heapBackend();
  if (backend === undefined) return false;
  const plan = layout(backend, items, 1);
  if (plan === undefined) return false;
  const heap = backend.wasm.HEAPF32;
  const mom = f(h.mom);
  const lr = f(h.lr);
  const decay = f(1 - h.lr * h.wd);
  const l2 = f(h.wd);
  const useMom = h.mom !== 0;
  items.forEach((item, k) => {
    const { size, grad, read, write } = plan.layouts[k] as Layout;
    const [pr, mr] = read as [number, number];
    const [pw, mw] = write as [number, number];
    const wd = item.doWd && h.wd !== 0;
    const decoupled = wd && h.decoupleWd;
    const coupled = wd && !h.decoupleWd;
    for (let i = 0; i < size; i++) {
      const p = heap[pr + i] as number;
      let g = heap[grad + i] as number;
      const w = decoupled ? f(p * decay) : p;
      if (coupled) g = f(g + f(p * l2));
      if (useMom) {
        g = f(f((heap[mr + i] as number) * mom) + g);
        heap[mw + i] = g;
      } else if (mw !== mr) {
        heap[mw + i] = heap[mr + i] as number;
      }
      heap[pw + i] = w - f(g * lr);
    }
  });
  commit(backend, plan.fresh);
  return true;
}

/**
 * The Adam loop over one parameter: a separate function of numbers only, which V8 compiles
 * tight (about 4 x faster than the same loop inside the per-item closure). `decay` 1 and `l2` 0
 * mean no weight decay (the multiply or add is then skipped, as the tensor path skips its ops).
 */
function adamLoop(
  heap: Float32Array,
  size: number,
  gr: number,
  pr: number,
  mr: number,
  vr: number,
  pw: number,
  mw: number,
  vw: number,
  decay: number,
  l2: number,
  mom: number,
  mom1: number,
  sqr: number,
  sqr1: number,
  stepSize: number,
  eps: number,
): void {
  const useDecay = decay !== 1;
  const useL2 = l2 !== 0;
  for (let i = 0; i < size; i++) {
    const p = heap[pr + i] as number;
    let g = heap[gr + i] as number;
    if (useL2) g = f(g + f(p * l2));
    const m = f(f((heap[mr + i] as number) * mom) + f(g * mom1));
    const v = f(f((heap[vr + i] as number) * sqr) + f(f(g * g) * sqr1));
    heap[mw + i] = m;
    heap[vw + i] = v;
    const w = useDecay ? f(p * decay) : p;
    heap[pw + i] = w - f(f(m * stepSize) / f(f(Math.sqrt(v)) + eps));
  }
}

/** fastai's `debias(mom, 1 - mom, step)`: `1 - mom^step`. */
function debiasFactor(mom: number, step: number): number {
  return ((1 - mom) * (1 - mom ** step)) / (1 - mom);
}
