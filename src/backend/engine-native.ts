/**
 * The native engines: `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA) and
 * `@tensorflow/tfjs-node` (libtensorflow on the CPU), both the `tensorflow` backend.
 */
import { activate, type Engine, type EngineAttempt, kernelsOf, messageOf } from './engine.js';

/** Versions tfjs-node-gpu 4.22 was built against. */
export const NODE_GPU_REQUIREMENTS: {
  /** CUDA toolkit version. */
  readonly cuda: '11.2';
  /** cuDNN version. */
  readonly cudnn: '8.1';
} = { cuda: '11.2', cudnn: '8.1' };

const TFJS_VERSION = '4.22.0';

/** libtensorflow's kernels run batch augmentation as tensor ops at full speed. */
const NATIVE_ACCELERATIONS = {
  addedKernels: [],
  cpuAugmentation: false,
  batchNormKernels: 'reduce',
} as const;

/**
 * tfjs-node-gpu: libtensorflow with CUDA.
 * @internal
 */
export const TFJS_NODE_GPU: Engine = {
  name: 'tfjs-node-gpu',
  backend: 'tensorflow',
  load: () => loadNativeEngine('tfjs-node-gpu'),
  kernels: () => kernelsOf('tensorflow'),
  accelerations: NATIVE_ACCELERATIONS,
};

/**
 * tfjs-node: libtensorflow on the CPU.
 * @internal
 */
export const TFJS_NODE: Engine = {
  name: 'tfjs-node',
  backend: 'tensorflow',
  load: () => loadNativeEngine('tfjs-node'),
  kernels: () => kernelsOf('tensorflow'),
  accelerations: NATIVE_ACCELERATIONS,
};

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

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
