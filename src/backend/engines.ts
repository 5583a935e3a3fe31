/**
 * The engines tsfast can run on, in the order it prefers them, and how each one is loaded.
 * Each loader either leaves its tfjs backend registered and active, or reports why it could
 * not, in words a user can act on.
 */
import * as tf from '@tensorflow/tfjs';
import { checkWasmPackageVersion, registerWasmTrainingKernels } from './wasm-kernels/index.js';

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

/** Engines in order of preference: native GPU, native CPU, WebAssembly, plain JavaScript. */
export const ENGINE_ORDER: readonly EngineName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** The engine that provides each backend, in preference order. */
export const ENGINES_BY_BACKEND: Readonly<Record<BackendName, readonly EngineName[]>> = {
  tensorflow: ['tfjs-node-gpu', 'tfjs-node'],
  wasm: ['wasm'],
  cpu: ['cpu'],
};

/** Versions tfjs-node-gpu 4.22 was built against. */
export const NODE_GPU_REQUIREMENTS: {
  /** CUDA toolkit version. */
  readonly cuda: '11.2';
  /** cuDNN version. */
  readonly cudnn: '8.1';
} = { cuda: '11.2', cudnn: '8.1' };

const TFJS_VERSION = '4.22.0';

/**
 * Tries to load one engine and make its backend active.
 * @internal
 */
export async function loadEngine(engine: EngineName): Promise<EngineAttempt> {
  switch (engine) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return loadNativeEngine(engine);
    case 'wasm':
      return loadWasmEngine();
    case 'cpu':
      return activate('cpu', 'cpu', 'pure-JavaScript kernels (slow, always available)');
  }
}

async function loadNativeEngine(engine: 'tfjs-node-gpu' | 'tfjs-node'): Promise<EngineAttempt> {
  const pkg = `@tensorflow/${engine}`;
  try {
    // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
    await import(pkg);
  } catch (err) {
    return { engine, backend: 'tensorflow', ok: false, reason: explainNativeFailure(pkg, err) };
  }
  const detail =
    engine === 'tfjs-node-gpu'
      ? `libtensorflow with CUDA (needs CUDA ${NODE_GPU_REQUIREMENTS.cuda}, cuDNN ${NODE_GPU_REQUIREMENTS.cudnn})`
      : 'libtensorflow on the CPU';
  return activate(engine, 'tensorflow', detail);
}

async function loadWasmEngine(): Promise<EngineAttempt> {
  let packageVersion: string;
  try {
    packageVersion = (await import('@tensorflow/tfjs-backend-wasm')).version_wasm;
  } catch (err) {
    return {
      engine: 'wasm',
      backend: 'wasm',
      ok: false,
      reason: `@tensorflow/tfjs-backend-wasm failed to load: ${messageOf(err)}`,
    };
  }
  try {
    checkWasmPackageVersion(packageVersion);
  } catch (err) {
    return { engine: 'wasm', backend: 'wasm', ok: false, reason: messageOf(err) };
  }
  const attempt = await activate('wasm', 'wasm', 'WebAssembly kernels');
  if (!attempt.ok) return attempt;
  // Gradient kernels the wasm package lacks or runs slowly: lets conv nets train on wasm.
  registerWasmTrainingKernels();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  attempt.reason = `WebAssembly kernels (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})`;
  return attempt;
}

async function activate(
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
 * Turns the error of `import('@tensorflow/tfjs-node[-gpu]')` into a reason a user can act on.
 * @internal
 */
export function explainNativeFailure(pkg: string, err: unknown): string {
  const message = messageOf(err);
  const code = (err as { code?: string } | null)?.code;
  if (
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    new RegExp(`Cannot find (package|module) '${pkg}'`).test(message)
  ) {
    return `package not installed (install it with: npm install ${pkg}@${TFJS_VERSION})`;
  }
  if (/libcudnn/i.test(message)) {
    return `cuDNN ${NODE_GPU_REQUIREMENTS.cudnn} not found (${firstLine(message)}); install cuDNN ${NODE_GPU_REQUIREMENTS.cudnn} for CUDA ${NODE_GPU_REQUIREMENTS.cuda} and put it on LD_LIBRARY_PATH`;
  }
  if (/libcu(dart|blas|fft|rand|solver|sparse)|cuda/i.test(message)) {
    return `CUDA ${NODE_GPU_REQUIREMENTS.cuda} not found (${firstLine(message)}); install the CUDA ${NODE_GPU_REQUIREMENTS.cuda} runtime and put it on LD_LIBRARY_PATH`;
  }
  if (/libtensorflow|tfjs_binding|napi-v\d/i.test(message)) {
    return `libtensorflow missing: the package's install script could not download it (${firstLine(message)}); with network access run: npm rebuild ${pkg}`;
  }
  return `failed to load: ${firstLine(message)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
