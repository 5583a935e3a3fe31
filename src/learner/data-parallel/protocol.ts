/**
 * The messages between the main thread and its data-parallel workers. The main thread posts
 * `init` and `step` to a worker; the worker answers `init` on its parent port (the main thread
 * awaits it) and `step` on a MessageChannel port that the main thread reads synchronously
 * (`receiveMessageOnPort`) after the worker has signalled it through shared memory: the
 * training step is synchronous on the main thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { JsonObject } from '../../data/batch.js';

/** A tensor's values as they cross threads. */
export interface WireTensor {
  /** Values, row-major. */
  data: Float32Array | Int32Array | Uint8Array;
  /** Shape. */
  shape: number[];
  /** tfjs dtype. */
  dtype: 'float32' | 'int32' | 'bool';
}

/** Loads a model and loss into a worker (replacing the one it had). */
export interface InitMessage {
  type: 'init';
  /** Identifies the model; steps name it so a stale worker is caught. */
  modelKey: number;
  /** `model.toJSON(null, false)`: the Keras topology. */
  topology: JsonObject;
  /** The loss's registry name and config. */
  loss: { name: string; config: JsonObject };
  /** This worker's rank (1 ... threads - 1; the main thread is 0). */
  rank: number;
  /** Threads taking part, the main thread included. */
  threads: number;
  /** Cross-thread means (see shared-reducer.ts). */
  reducer: SharedArrayBuffer;
  /** Every model weight, float32, in `model.weights` order: the main thread writes them. */
  weights: SharedArrayBuffer;
  /**
   * This worker's gradients, float32, the step's trainable variables in order: the worker
   * writes them, the main thread reads them once the worker has signalled the step done
   * (one buffer reused every step, not a new array to allocate, transfer and collect).
   */
  grads: SharedArrayBuffer;
  /** Int32 per rank: the last step sequence number the worker finished. */
  done: SharedArrayBuffer;
  /** Where the worker posts step results. */
  port: MessagePort;
}

/** One slice of a training batch. */
export interface StepMessage {
  type: 'step';
  /** Model the step is for. */
  modelKey: number;
  /** Sequence number, written to `done` when finished. */
  seq: number;
  /** Threads taking part in this step (fewer than the pool for a small batch). */
  threads: number;
  /** Indices into `model.weights` of the variables to differentiate. */
  trainable: number[];
  /** Indices into `model.layers` of the BatchNorm layers held in inference mode. */
  bnEval: number[];
  /** Inputs of the slice. */
  x: WireTensor;
  /** Targets of the slice. */
  y: WireTensor;
  /** The slice's share of the batch: its loss is scaled by it. */
  scale: number;
}

/** What a worker returns for a step. */
export type StepResult =
  | {
      ok: true;
      seq: number;
      /** The slice's loss times its share. */
      loss: number;
      /** Predictions of the slice. */
      pred: WireTensor;
      /** Whether each trainable variable got a gradient (written to the `grads` buffer). */
      present: boolean[];
    }
  | { ok: false; seq: number; name: string; message: string };

/** A worker's answer to `init`. */
export type InitResult = { ok: true } | { ok: false; name: string; message: string };
