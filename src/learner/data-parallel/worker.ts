/**
 * The body of a data-parallel worker thread: its own tfjs engine and wasm heap, a copy of the
 * learner's model rebuilt from its Keras topology (every tsfast layer is registered, since the
 * worker's entry imports the whole package) and the loss from the serialization registry. Per
 * step it takes the main thread's current weights from shared memory, runs forward and
 * backward on its slice and posts the gradients back.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ENV_VAR, heapValues, ready } from '../../backend/index.js';
import type { JsonObject } from '../../data/batch.js';
import type { Loss } from '../losses.js';
import { lossFromConfig } from '../losses.js';
import { lowMemoryApply } from '../low-memory-forward.js';
import { forceInferenceMode } from '../param-groups.js';
import type { InitMessage, InitResult, StepMessage, StepResult, WireTensor } from './protocol.js';
import { SharedReducer } from './shared-reducer.js';
import { sliceStep } from './slice-step.js';

interface Loaded {
  key: number;
  model: tf.LayersModel;
  loss: Loss;
  reducer: SharedReducer;
  weights: Float32Array;
  grads: SharedArrayBuffer;
  done: Int32Array;
  port: MessagePort;
  rank: number;
  restoreBn: Map<number, () => void>;
}

/**
 * Serves `init` and `step` messages from the parent thread until it is terminated.
 * @internal
 */
export function runDataParallelWorker(): void {
  const parent = parentPort;
  if (parent === null) throw new Error('runDataParallelWorker runs in a worker thread only.');
  // The workers exist for the wasm engine only (the main thread checked it is the active one).
  process.env[BACKEND_ENV_VAR] = 'wasm';
  let loaded: Loaded | undefined;
  parent.on('message', (msg: InitMessage | StepMessage) => {
    if (msg.type === 'init') {
      void init(msg).then(
        (l) => {
          if (loaded) loaded.model.dispose();
          loaded = l;
          parent.postMessage({ ok: true } satisfies InitResult);
        },
        (err: unknown) => parent.postMessage({ ok: false, ...describe(err) } satisfies InitResult),
      );
      return;
    }
    const l = loaded;
    if (l === undefined) return;
    let result: StepResult;
    try {
      if (msg.modelKey !== l.key) throw new Error('the worker holds another model');
      result = step(l, msg);
    } catch (err) {
      l.reducer.abort();
      result = { ok: false, seq: msg.seq, ...describe(err) };
    }
    const transfer = result.ok ? [result.pred.data.buffer] : [];
    l.port.postMessage(result, transfer as ArrayBuffer[]);
    Atomics.store(l.done, l.rank, msg.seq);
    Atomics.notify(l.done, l.rank);
  });
}

async function init(msg: InitMessage): Promise<Loaded> {
  await ready();
  const topology = reseedDropout(msg.topology, msg.rank);
  const model = await tf.models.modelFromJSON({
    modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
  });
  const loss = lossFromConfig(msg.loss.name, msg.loss.config);
  return {
    key: msg.modelKey,
    model,
    loss,
    reducer: new SharedReducer(msg.reducer, msg.threads, msg.rank),
    weights: new Float32Array(msg.weights),
    grads: msg.grads,
    done: new Int32Array(msg.done),
    port: msg.port,
    rank: msg.rank,
    restoreBn: new Map(),
  };
}

function step(l: Loaded, msg: StepMessage): StepResult {
  const { model } = l;
  let off = 0;
  for (const w of model.weights) {
    const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const t = tf.tensor(l.weights.subarray(off, off + size), w.shape as number[], 'float32');
    w.write(t);
    t.dispose();
    off += size;
  }
  syncBnEval(l, msg.bnEval);
  l.reducer.setThreads(msg.threads);
  const vars = msg.trainable.map(
    (i) => (model.weights[i] as tf.LayerVariable).read() as tf.Variable,
  );
  const x = fromWire(msg.x);
  const y = fromWire(msg.y);
  try {
    const out = sliceStep(l.reducer, vars, msg.scale, () => {
      const pred = lowMemoryApply(model, x, true);
      return { pred, loss: l.loss.compute(pred, y) as tf.Scalar };
    });
    try {
      const total = vars.reduce((a, v) => a + v.size, 0);
      if (total * 4 > l.grads.byteLength) {
        throw new Error(
          `the gradients (${total} floats) do not fit the ${l.grads.byteLength / 4} of the shared buffer`,
        );
      }
      const grads = new Float32Array(l.grads, 0, total);
      const present: boolean[] = [];
      let at = 0;
      for (const v of vars) {
        const g = out.grads[v.name];
        present.push(g !== undefined);
        // Straight from the wasm heap: a `dataSync` copy per variable would be garbage at once.
        if (g !== undefined) grads.set(heapValues(g) ?? (g.dataSync() as Float32Array), at);
        at += v.size;
      }
      const predData = Float32Array.from(out.pred.dataSync() as Float32Array);
      return {
        ok: true,
        seq: msg.seq,
        loss: out.value.dataSync()[0] as number,
        pred: { data: predData, shape: out.pred.shape.slice(), dtype: 'float32' },
        present,
      };
    } finally {
      tf.dispose([out.value, out.pred, ...Object.values(out.grads)]);
    }
  } finally {
    tf.dispose([x, y]);
  }
}

// The main thread's BatchNorm layers held in inference mode (BnFreeze), mirrored by index.
function syncBnEval(l: Loaded, bnEval: readonly number[]): void {
  const want = new Set(bnEval);
  for (const [i, restore] of l.restoreBn) {
    if (!want.has(i)) {
      restore();
      l.restoreBn.delete(i);
    }
  }
  for (const i of want) {
    const layer = l.model.layers[i];
    if (layer !== undefined && !l.restoreBn.has(i)) l.restoreBn.set(i, forceInferenceMode(layer));
  }
}

function fromWire(w: WireTensor): tf.Tensor {
  return tf.tensor(w.data, w.shape, w.dtype);
}

// Each thread draws its own dropout masks: the same seed on every slice would drop the same
// units of the first samples of each slice. The offset is fixed per rank, so runs repeat.
function reseedDropout(topology: JsonObject, rank: number): JsonObject {
  if (rank === 0) return topology;
  return JSON.parse(JSON.stringify(topology), (_key, value: unknown) => {
    if (
      value !== null &&
      typeof value === 'object' &&
      (value as { class_name?: unknown }).class_name === 'SeededDropout'
    ) {
      const layer = value as { config: { seed: number } };
      layer.config.seed = (layer.config.seed + rank * 0x9e3779b1) >>> 0;
    }
    return value;
  }) as JsonObject;
}

function describe(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: 'Error', message: String(err) };
}
