import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../core/errors.js';
import { silenceNodeBackendBanner } from './banner.js';
import {
  type BackendName,
  ENGINE_ORDER,
  ENGINES_BY_BACKEND,
  type EngineAttempt,
  type EngineName,
  loadEngine,
} from './engines.js';

/** The engine `ready()` settled on and why the ones before it were skipped. */
export interface BackendChoice {
  /** Active tfjs backend. */
  backend: BackendName;
  /** Engine that provides it. */
  engine: EngineName;
  /** Whether `TSFAST_BACKEND` forced the choice. */
  forced: boolean;
  /** Every engine tried, in order, including the chosen one (last). */
  attempts: EngineAttempt[];
}

/** Environment variable that forces a backend: `tensorflow`, `wasm` or `cpu`. */
export const BACKEND_ENV_VAR = 'TSFAST_BACKEND';

let pending: Promise<BackendChoice> | undefined;

/**
 * Chooses and initialises the tfjs backend, once per process: tfjs-node-gpu, then tfjs-node,
 * then wasm (SIMD), then cpu. `TSFAST_BACKEND=tensorflow|wasm|cpu` forces one. Every tsfast
 * entry point that touches tensors awaits this, so calling it yourself is only needed before
 * using `tf` directly.
 *
 * @returns The choice, with the reason each earlier engine was skipped.
 * @throws {@link BackendError} if `TSFAST_BACKEND` names an unknown backend or one that
 *   cannot load here (the message says why and how to install it).
 * @example
 * ```ts
 * const { backend } = await tsf.ready();
 * console.log(`training on ${backend}`);
 * ```
 */
export function ready(): Promise<BackendChoice> {
  pending ??= choose(process.env[BACKEND_ENV_VAR]);
  return pending;
}

/**
 * The backend chosen by {@link ready}, or `undefined` before it has resolved.
 * @returns The active backend name.
 * @example
 * ```ts
 * await tsf.ready();
 * tsf.activeBackend(); // 'wasm' on a machine without libtensorflow
 * ```
 */
export function activeBackend(): BackendName | undefined {
  const name = tf.getBackend() as string | undefined;
  return pending && (name === 'tensorflow' || name === 'wasm' || name === 'cpu') ? name : undefined;
}

async function choose(forcedRaw: string | undefined): Promise<BackendChoice> {
  const forced = forcedRaw?.trim() ? (forcedRaw.trim() as BackendName) : undefined;
  if (forced !== undefined && !(forced in ENGINES_BY_BACKEND)) {
    throw new BackendError(
      `${BACKEND_ENV_VAR}=${forcedRaw} is not a backend tsfast knows. Valid values: ${Object.keys(ENGINES_BY_BACKEND).join(', ')}`,
    );
  }
  const engines = forced ? ENGINES_BY_BACKEND[forced] : ENGINE_ORDER;
  const attempts: EngineAttempt[] = [];
  for (const engine of engines) {
    const attempt = await loadEngine(engine);
    attempts.push(attempt);
    if (attempt.ok) {
      silenceNodeBackendBanner();
      return { backend: attempt.backend, engine, forced: forced !== undefined, attempts };
    }
  }
  const why = attempts.map((a) => `  ${a.engine}: ${a.reason}`).join('\n');
  throw new BackendError(
    forced
      ? `${BACKEND_ENV_VAR}=${forced} was requested but cannot load:\n${why}\nUnset ${BACKEND_ENV_VAR} to let tsfast choose, or fix the cause above.`
      : `No tfjs backend could be initialised:\n${why}`,
  );
}
