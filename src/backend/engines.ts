/**
 * The engines tsfast can run on, in the order it prefers them: one {@link Engine} entry each
 * (see `engine.ts`). Each loader either leaves its tfjs backend registered and active, or
 * reports why it could not, in words a user can act on.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  BackendName,
  Engine,
  EngineAccelerations,
  EngineAttempt,
  EngineName,
} from './engine.js';
import { CPU_ENGINE } from './engine-cpu.js';
import { TFJS_NODE, TFJS_NODE_GPU } from './engine-native.js';
import { WASM_ENGINE } from './engine-wasm.js';

export type { BackendName, EngineAttempt, EngineName } from './engine.js';
export { explainNativeFailure, NODE_GPU_REQUIREMENTS } from './engine-native.js';

/**
 * Every engine, in order of preference: native GPU, native CPU, WebAssembly, plain JavaScript.
 * @internal
 */
export const ENGINES: readonly Engine[] = [TFJS_NODE_GPU, TFJS_NODE, WASM_ENGINE, CPU_ENGINE];

/** Engines in order of preference: native GPU, native CPU, WebAssembly, plain JavaScript. */
export const ENGINE_ORDER: readonly EngineName[] = ENGINES.map((e) => e.name);

/**
 * The engines that provide each backend, in preference order.
 * @internal
 */
export const ENGINES_BY_BACKEND: Readonly<Record<BackendName, readonly EngineName[]>> = {
  tensorflow: enginesFor('tensorflow'),
  wasm: enginesFor('wasm'),
  cpu: enginesFor('cpu'),
};

function enginesFor(backend: BackendName): EngineName[] {
  return ENGINES.filter((e) => e.backend === backend).map((e) => e.name);
}

/**
 * The entry of an engine.
 * @internal
 */
export function engine(name: EngineName): Engine {
  const found = ENGINES.find((e) => e.name === name);
  if (!found) throw new Error(`tsfast: no engine named ${name}`);
  return found;
}

/**
 * Tries to load one engine and make its backend active.
 * @internal
 */
export function loadEngine(name: EngineName): Promise<EngineAttempt> {
  return engine(name).load();
}

/** A backend tsfast has no entry for (a user's own): tensor ops, nothing added. */
const PLAIN: EngineAccelerations = {
  addedKernels: [],
  cpuAugmentation: false,
  batchNormKernels: 'reduce',
};

/**
 * The accelerations of the engine behind the active tfjs backend (or `backend`): what code
 * outside `backend/` asks instead of comparing backend names.
 * @param backend - A tfjs backend name; the active one by default.
 * @returns The engine's accelerations; none for a backend tsfast has no entry for.
 * @example
 * ```ts
 * await tsf.ready();
 * engineAccelerations().cpuAugmentation; // true on wasm and cpu
 * ```
 * @internal
 */
export function engineAccelerations(backend: string = tf.getBackend()): EngineAccelerations {
  return ENGINES.find((e) => e.backend === backend)?.accelerations ?? PLAIN;
}
