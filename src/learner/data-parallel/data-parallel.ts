/**
 * Data-parallel training on the wasm engine: a training batch is cut into one slice per
 * thread; worker threads (each with its own tfjs engine and wasm heap, holding a copy of the
 * model) and the main thread run forward and backward on their slices at the same time, and
 * the gradients are summed on the main thread in a fixed order (rank 0, 1, ...), so a run
 * repeats bit for bit at a given thread count and equals one thread up to float rounding.
 * BatchNorm normalises with the whole batch's statistics (synchronised through shared memory
 * at each layer, forward and backward). The optimizer step runs once, on the main thread;
 * its new weights reach the workers through shared memory before the next step.
 */
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { heapValues } from '../../backend/index.js';
import { BackendError, TsfastError } from '../../core/errors.js';
import type { JsonObject } from '../../data/batch.js';
import type { Callback } from '../events.js';
import { isRegisteredLoss, type Loss, lossFromConfig } from '../losses.js';
import type { MicroBatchForward, MicroBatchResult } from '../micro-batching.js';
import { flattenLayers } from '../param-groups.js';
import type { InitMessage, InitResult, StepMessage, StepResult, WireTensor } from './protocol.js';
import { createReducerBuffer, SharedReducer } from './shared-reducer.js';
import { sliceStep } from './slice-step.js';
import { estimateMacsPerSample, MIN_PARALLEL_SLICE_MACS } from './work-estimate.js';

/** How long the main thread waits for a worker's slice before it declares the worker hung. */
const STEP_TIMEOUT_MS = 10 * 60 * 1000;

/** The hooks that run inside the gradient tape on one thread; with slices they would not. */
const TAPE_HOOKS = ['afterPred', 'afterLoss', 'beforeBackward'] as const;

interface Pool {
  threads: number;
  workers: Worker[];
  ports: MessagePort[];
  reducerBuffer: SharedArrayBuffer;
  reducer: SharedReducer;
  done: Int32Array;
  doneBuffer: SharedArrayBuffer;
  weightsBuffer?: SharedArrayBuffer;
  /** Per worker: where it writes its gradients (see `InitMessage.grads`). */
  gradBuffers: SharedArrayBuffer[];
  /** What the workers hold now: model key and model identity. */
  loaded?: { key: number; id: string };
  seq: number;
  broken?: string;
}

let pool: Pool | undefined;
let nextKey = 1;
const modelIds = new WeakMap<tf.LayersModel, number>();

/**
 * Ends the data-parallel worker threads (they are also ended with the process, which they do
 * not keep alive). A later training step starts new ones.
 * @returns When every worker has exited.
 * @example
 * ```ts
 * await learn.fit(1);
 * await tsf.closeTrainingThreads();
 * ```
 */
export async function closeTrainingThreads(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p === undefined) return;
  for (const port of p.ports) port.close();
  await Promise.all(p.workers.map((w) => w.terminate()));
}

/** The worker entry: `src/data-parallel-worker.ts` under tsx, `dist/...js` when built. */
function workerScript(): { script: string | URL; eval: boolean } {
  const fromTs = import.meta.url.endsWith('.ts');
  const entry = new URL(`../../data-parallel-worker.${fromTs ? 'ts' : 'js'}`, import.meta.url);
  if (!fromTs) return { script: entry, eval: false };
  // Under tsx the worker needs tsx's loader before it can import a .ts file.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return { script: code, eval: true };
}

function startPool(threads: number): Pool {
  const { script, eval: isEval } = workerScript();
  const workers: Worker[] = [];
  for (let r = 1; r < threads; r++) {
    const w = new Worker(script, { eval: isEval });
    w.unref(); // training threads never keep the process alive
    workers.push(w);
  }
  const reducerBuffer = createReducerBuffer(threads);
  const doneBuffer = new SharedArrayBuffer(4 * threads);
  const p: Pool = {
    threads,
    workers,
    ports: [],
    reducerBuffer,
    reducer: new SharedReducer(reducerBuffer, threads, 0),
    doneBuffer,
    done: new Int32Array(doneBuffer),
    gradBuffers: [],
    seq: 0,
  };
  for (const w of workers) {
    // A worker that dies between steps: the next prepare() starts a new pool (an unheard
    // 'error' event would end the process).
    w.on('error', (err) => {
      p.broken = err.message;
    });
    w.on('exit', () => {
      p.broken ??= 'exited';
    });
  }
  return p;
}

function loadInto(worker: Worker, msg: InitMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (r: InitResult) => {
      cleanup();
      if (r.ok) resolve();
      else reject(new Error(`${r.name}: ${r.message}`));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`the worker exited (code ${code})`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(msg, [msg.port]);
  });
}

/**
 * The Learner's data-parallel backward pass; one per training loop. `prepare` (async, before
 * each training batch) decides whether the batch is split across threads and loads the model
 * into the workers when needed; `backward` (synchronous, inside the loop's backward stage)
 * runs the slices.
 * @internal
 */
export class DataParallel {
  private readonly said = new Set<string>();
  private failedId: string | undefined;

  /**
   * @param log - Where the one message per reason for training on one thread goes.
   */
  constructor(private readonly log: (line: string) => void) {}

  /**
   * Whether the next training batch runs on several threads; starts the workers and loads the
   * model and loss into them the first time (or when the model, loss or thread count changed).
   * @param threads - Threads to use, main included, whether the user asked for them, and the
   *   batch's input shape (with the default thread count, batches whose slices hold less than
   *   `MIN_PARALLEL_SLICE_MACS` of work stay on one thread).
   * @param model - The learner's model.
   * @param loss - The learner's loss.
   * @param cbs - The learner's callbacks.
   * @param inferenceBn - BatchNorm layers held in inference mode.
   */
  async prepare(
    threads: { threads: number; explicit: boolean; batchShape?: readonly number[] },
    model: tf.LayersModel,
    loss: Loss,
    cbs: readonly Callback[],
    inferenceBn: readonly tf.layers.Layer[],
  ): Promise<boolean> {
    if (threads.threads <= 1) return false;
    const shape = threads.batchShape;
    if (!threads.explicit && shape !== undefined) {
      // The default thread count splits only batches worth it; an explicit one always splits.
      const batchSize = shape[0] ?? 1;
      const slice = batchSize / Math.min(threads.threads, batchSize);
      if (estimateMacsPerSample(model, shape) * slice < MIN_PARALLEL_SLICE_MACS) return false;
    }
    const backend = tf.getBackend();
    if (backend !== 'wasm') {
      if (threads.explicit) {
        this.once(
          `engine:${backend}`,
          `threads: ${threads.threads} asked, but data-parallel training runs on the wasm engine only; the ${backend} engine trains on one thread here.`,
        );
      }
      return false;
    }
    const hook = cbs.find((cb) =>
      TAPE_HOOKS.some((h) => typeof (cb as unknown as Record<string, unknown>)[h] === 'function'),
    );
    if (hook !== undefined) {
      const which = TAPE_HOOKS.filter(
        (h) => typeof (hook as unknown as Record<string, unknown>)[h] === 'function',
      );
      this.once(
        `cb:${hook.name}`,
        `Training on one thread: callback "${hook.name}" has ${which.join('/')}, which must run inside one thread's gradient computation (pass threads: 1 to the Learner to silence this).`,
      );
      return false;
    }
    if (!isRegisteredLoss(loss.name)) {
      this.once(
        `loss:${loss.name}`,
        `Training on one thread: the loss "${loss.name}" is not in the registry, so worker threads cannot rebuild it (register it with tsf.registerLoss, or pass threads: 1).`,
      );
      return false;
    }
    if (!rebuildsAlike(loss)) {
      this.once(
        `lossclass:${loss.name}`,
        `Training on one thread: the loss "${loss.name}" is a ${loss.constructor.name}, which the registry does not rebuild as such (a wrapper with per-batch state, such as MixUp's and CutMix's mixed loss), so worker threads cannot compute it.`,
      );
      return false;
    }
    const tfjsBn = flattenLayers(model).find((l) => l.getClassName() === 'BatchNormalization');
    if (tfjsBn !== undefined) {
      this.once(
        `tfjsbn:${modelIdOf(model)}`,
        `Training on one thread: layer "${tfjsBn.name}" is tfjs's BatchNormalization, whose batch statistics cannot be shared across threads (each thread would normalise its own slice). tsf.BatchNorm takes the same options and trains on ${threads.threads} threads with the whole batch's statistics.`,
      );
      return false;
    }
    const outside = inferenceBn.find((l) => !model.layers.includes(l));
    if (outside !== undefined) {
      this.once(
        `bn:${outside.name}`,
        `Training on one thread: BatchNorm layer "${outside.name}" is held in inference mode inside a nested model, which worker threads cannot mirror.`,
      );
      return false;
    }
    const id = `${modelIdOf(model)}|${loss.name}|${JSON.stringify(loss.getConfig())}`;
    if (this.failedId === id) return false;
    if (pool !== undefined && (pool.threads !== threads.threads || pool.broken !== undefined)) {
      await closeTrainingThreads();
    }
    pool ??= startPool(threads.threads);
    if (pool.loaded?.id === id) return true;
    try {
      await load(pool, id, model, loss);
      return true;
    } catch (err) {
      this.failedId = id;
      await closeTrainingThreads();
      const why = err instanceof Error ? err.message : String(err);
      this.once(
        `load:${id}`,
        `Training on one thread: worker threads could not rebuild the model and loss (${why}). A custom layer must be registered with tf.serialization.registerClass in a module tsfast imports; pass threads: 1 to silence this.`,
      );
      return false;
    }
  }

  /**
   * Forward and backward of one batch over the threads; the results equal the whole batch's
   * (mean loss, its gradients, predictions in order) up to float rounding.
   * @param xb - Inputs of the batch.
   * @param yb - Targets.
   * @param model - The model (its weights go to the workers).
   * @param vars - Trainable variables.
   * @param inferenceBn - BatchNorm layers held in inference mode.
   * @param forward - The main thread's forward pass and loss of its slice.
   * @returns Predictions, loss and gradients; the caller disposes them.
   */
  backward(
    xb: tf.Tensor,
    yb: tf.Tensor,
    model: tf.LayersModel,
    vars: readonly tf.Variable[],
    inferenceBn: readonly tf.layers.Layer[],
    forward: (x: tf.Tensor, y: tf.Tensor) => MicroBatchForward,
  ): MicroBatchResult {
    const p = pool;
    if (p?.loaded === undefined || p.weightsBuffer === undefined) {
      throw new BackendError('Data-parallel backward called before prepare() loaded the workers.');
    }
    const n = xb.shape[0] as number;
    const threads = Math.min(p.threads, n);
    const sizes = sliceSizes(n, threads);
    writeWeights(model, p.weightsBuffer);
    const weightIndex = new Map(model.weights.map((w, i) => [w.read(), i]));
    const trainable = vars.map((v) => {
      const i = weightIndex.get(v);
      if (i === undefined) {
        throw new BackendError(`Trainable variable ${v.name} is not a weight of the model.`);
      }
      return i;
    });
    const bnEval = inferenceBn.map((l) => model.layers.indexOf(l));
    p.reducer.reset();
    p.reducer.setThreads(threads);
    const seq = ++p.seq;
    const key = p.loaded.key;
    const xAll = threads > 1 ? xb.dataSync() : undefined;
    const yAll = threads > 1 ? yb.dataSync() : undefined;
    let start = sizes[0] as number;
    for (let r = 1; r < threads; r++) {
      const len = sizes[r] as number;
      const msg: StepMessage = {
        type: 'step',
        modelKey: key,
        seq,
        threads,
        trainable,
        bnEval,
        x: wireSlice(xb, xAll as tf.TypedArray, start, len),
        y: wireSlice(yb, yAll as tf.TypedArray, start, len),
        scale: len / n,
      };
      (p.workers[r - 1] as Worker).postMessage(msg, [
        msg.x.data.buffer as ArrayBuffer,
        msg.y.data.buffer as ArrayBuffer,
      ]);
      start += len;
    }
    const n0 = sizes[0] as number;
    let own: ReturnType<typeof sliceStep> | undefined;
    let ownError: unknown;
    const x0 = tf.slice(xb, 0, n0);
    const y0 = tf.slice(yb, 0, n0);
    try {
      own = sliceStep(p.reducer, vars, n0 / n, () => forward(x0, y0));
    } catch (err) {
      ownError = err;
    } finally {
      tf.dispose([x0, y0]);
    }
    const results = collect(p, threads, seq);
    const failed = results.find((r): r is Extract<StepResult, { ok: false }> => !r.ok);
    if (ownError !== undefined || failed !== undefined) {
      if (own) tf.dispose([own.value, own.pred, ...Object.values(own.grads)]);
      // The main thread's own error first: the workers' are "another thread failed".
      if (ownError !== undefined && !isAbortEcho(ownError)) throw ownError;
      if (failed !== undefined) throw reviveError(failed);
      throw ownError;
    }
    const mine = own as ReturnType<typeof sliceStep>;
    const ok = results as Extract<StepResult, { ok: true }>[];
    try {
      const grads = new Map<tf.Variable, tf.Tensor>();
      const views = ok.map((_, i) => new Float32Array(p.gradBuffers[i] as SharedArrayBuffer));
      let offset = 0;
      vars.forEach((v, k) => {
        const at = offset;
        offset += v.size;
        const sum = tf.tidy(() => {
          // Fixed order, rank 0 first: the same sum every run.
          let acc: tf.Tensor | undefined = mine.grads[v.name];
          for (const [i, r] of ok.entries()) {
            if (!r.present[k]) continue;
            const view = views[i] as Float32Array;
            const g = tf.tensor(view.subarray(at, at + v.size), v.shape, 'float32');
            acc = acc === undefined ? g : tf.add(acc, g);
          }
          return acc === undefined ? undefined : tf.clone(acc);
        });
        if (sum !== undefined) grads.set(v, sum);
      });
      const pred = tf.tidy(() =>
        ok.length === 0
          ? tf.clone(mine.pred)
          : tf.concat(
              [mine.pred, ...ok.map((r) => tf.tensor(r.pred.data, r.pred.shape, 'float32'))],
              0,
            ),
      );
      const loss = tf.tidy(
        () => tf.addN([mine.value, ...ok.map((r) => tf.scalar(r.loss, 'float32'))]) as tf.Scalar,
      );
      return { pred, loss, grads };
    } finally {
      tf.dispose([mine.value, mine.pred, ...Object.values(mine.grads)]);
    }
  }

  private once(key: string, line: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.log(line);
  }
}

const rebuilt = new WeakMap<Loss, boolean>();

// Whether the registry rebuilds this loss as the same class: what a worker will compute.
function rebuildsAlike(loss: Loss): boolean {
  let same = rebuilt.get(loss);
  if (same === undefined) {
    try {
      same = lossFromConfig(loss.name, loss.getConfig()).constructor === loss.constructor;
    } catch {
      same = false;
    }
    rebuilt.set(loss, same);
  }
  return same;
}

function modelIdOf(model: tf.LayersModel): number {
  let id = modelIds.get(model);
  if (id === undefined) {
    id = nextKey++;
    modelIds.set(model, id);
  }
  return id;
}

async function load(p: Pool, id: string, model: tf.LayersModel, loss: Loss): Promise<void> {
  const total = model.weights.reduce((a, w) => a + sizeOf(w.shape as number[]), 0);
  if (p.weightsBuffer === undefined || p.weightsBuffer.byteLength < total * 4) {
    p.weightsBuffer = new SharedArrayBuffer(total * 4);
    // Trainable variables are model weights: their gradients fit in as many floats.
    p.gradBuffers = p.workers.map(() => new SharedArrayBuffer(total * 4));
  }
  const key = nextKey++;
  for (const port of p.ports) port.close();
  p.ports = [];
  const topology = model.toJSON(null, false) as unknown as JsonObject;
  const inits = p.workers.map((w, i) => {
    const { port1, port2 } = new MessageChannel();
    p.ports.push(port1);
    const msg: InitMessage = {
      type: 'init',
      modelKey: key,
      topology,
      loss: { name: loss.name, config: loss.getConfig() },
      rank: i + 1,
      threads: p.threads,
      reducer: p.reducerBuffer,
      weights: p.weightsBuffer as SharedArrayBuffer,
      grads: p.gradBuffers[i] as SharedArrayBuffer,
      done: p.doneBuffer,
      port: port2,
    };
    return loadInto(w, msg);
  });
  p.loaded = undefined;
  await Promise.all(inits);
  p.loaded = { key, id };
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Slice sizes: as equal as possible, the larger ones first. */
function sliceSizes(n: number, threads: number): number[] {
  const base = Math.floor(n / threads);
  return Array.from({ length: threads }, (_, r) => base + (r < n % threads ? 1 : 0));
}

function writeWeights(model: tf.LayersModel, buffer: SharedArrayBuffer): void {
  const view = new Float32Array(buffer);
  let off = 0;
  for (const w of model.weights) {
    const t = w.read();
    view.set(heapValues(t) ?? (t.dataSync() as Float32Array), off);
    off += t.size;
  }
}

function wireSlice(t: tf.Tensor, all: tf.TypedArray, start: number, len: number): WireTensor {
  const row = sizeOf(t.shape.slice(1) as number[]);
  const dtype = t.dtype === 'int32' || t.dtype === 'bool' ? t.dtype : 'float32';
  // A copy of its own, so its buffer can be transferred.
  const data = all.slice(start * row, (start + len) * row) as WireTensor['data'];
  return { data, shape: [len, ...t.shape.slice(1)], dtype };
}

/** Waits (Atomics, synchronously) for every worker's result of step `seq`. */
function collect(p: Pool, threads: number, seq: number): StepResult[] {
  const results: StepResult[] = [];
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (let r = 1; r < threads; r++) {
    for (;;) {
      const at = Atomics.load(p.done, r);
      if (at === seq) break;
      if ((p.workers[r - 1] as Worker).threadId === -1) {
        p.broken = 'exited';
        p.reducer.abort();
        throw new BackendError(
          `Data-parallel training: worker ${r} stopped during the step (see the error above); the next step starts new workers.`,
        );
      }
      if (Date.now() > deadline) {
        p.broken = 'hung';
        p.reducer.abort();
        throw new BackendError(
          `Data-parallel training: worker ${r} did not finish its slice in ${STEP_TIMEOUT_MS / 60000} min; train with threads: 1.`,
        );
      }
      Atomics.wait(p.done, r, at, 1000);
    }
    const got = receiveMessageOnPort(p.ports[r - 1] as MessagePort);
    const result = got?.message as StepResult | undefined;
    if (result === undefined || result.seq !== seq) {
      p.broken = 'lost';
      throw new BackendError(
        `Data-parallel training: worker ${r}'s result for step ${seq} is missing.`,
      );
    }
    results.push(result);
  }
  return results;
}

function isAbortEcho(err: unknown): boolean {
  return err instanceof BackendError && /another thread failed/.test(err.message);
}

// A worker's error as the main thread's: the wasm memory guard's BackendError keeps its class,
// so micro-batching still recognises it and retries in smaller pieces.
function reviveError(r: { name: string; message: string }): Error {
  if (r.name === 'BackendError') return new BackendError(r.message);
  if (r.name === 'TsfastError') return new TsfastError('BACKEND', r.message);
  const err = new Error(`In a data-parallel worker: ${r.message}`);
  err.name = r.name;
  return err;
}
