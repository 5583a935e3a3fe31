/**
 * What an engine is to tsfast: one {@link Engine} entry names its tfjs backend, how it loads,
 * its kernels and the accelerations tsfast uses on it. Adding an engine (e.g. WebGPU) is one
 * file that exports its entry, plus that entry in `engines.ts`'s list.
 */
import * as tf from '@tensorflow/tfjs';

/** A tfjs backend name as `tf.getBackend()` reports it. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** An engine: a package that provides a tfjs backend. */
export type EngineName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** The outcome of trying one engine. */
export interface EngineAttempt {
  /** The engine tried. */
  engine: EngineName;
  /** The tfjs backend it provides. */
  backend: BackendName;
  /** Whether it loaded and is usable. */
  ok: boolean;
  /** Why it was skipped, or what was loaded. */
  reason: string;
}

/**
 * What tsfast does differently on an engine because it is faster there. Code outside
 * `backend/` asks these (through {@link engineAccelerations}) instead of testing backend names.
 * @internal
 */
export interface EngineAccelerations {
  /** Kernels tsfast registers for this engine on top of (or instead of) the package's own. */
  readonly addedKernels: readonly string[];
  /**
   * Batch augmentation runs faster as the CPU executor's fused pass than as tensor ops (the
   * CPU engines, where gather-based resampling has no fast kernel); `augExecutor: 'auto'`
   * picks the fused pass here, and a transform it cannot run is reported.
   */
  readonly cpuAugmentation: boolean;
  /** The BatchNorm training formulation that is fastest here: pooling kernels or `Mean`. */
  readonly batchNormKernels: 'pooling' | 'reduce';
}

/**
 * One engine: its name, the tfjs backend it provides, how it loads, its kernels and its
 * accelerations.
 * @internal
 */
export interface Engine {
  /** The engine's name. */
  readonly name: EngineName;
  /** The tfjs backend it registers. */
  readonly backend: BackendName;
  /**
   * Loads the engine's package and makes its backend active, or says why it cannot.
   * @returns The attempt; `ok` only when the backend is active.
   */
  load(): Promise<EngineAttempt>;
  /**
   * The kernels its backend has registered now (the package's and tsfast's).
   * @returns Kernel names, sorted.
   */
  kernels(): string[];
  /** What tsfast does differently on it. */
  readonly accelerations: EngineAccelerations;
}

/**
 * The kernels registered for a backend, sorted.
 * @internal
 */
export function kernelsOf(backend: BackendName): string[] {
  return tf
    .getKernelsForBackend(backend)
    .map((k) => k.kernelName)
    .sort();
}

/**
 * Makes `backend` the active tfjs backend, reporting a failure in the attempt.
 * @internal
 */
export async function activate(
  engine: EngineName,
  backend: BackendName,
  detail: string,
): Promise<EngineAttempt> {
  let ok = false;
  let failure = '';
  try {
    ok = await tf.setBackend(backend);
  } catch (err) {
    failure = messageOf(err);
  }
  if (!ok) {
    return {
      engine,
      backend,
      ok: false,
      reason: `the ${backend} backend failed to initialise${failure ? `: ${failure}` : ''}`,
    };
  }
  return { engine, backend, ok: true, reason: detail };
}

/**
 * An error's message, or the thrown value as text.
 * @internal
 */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
