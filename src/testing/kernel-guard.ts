import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { WASM_ONLY_KERNELS } from '../backend/index.js';
import { TsfastError } from '../core/errors.js';

/**
 * Options of {@link expectKernelsSupported}.
 * @example
 * ```ts no-run (needs the engine's kernel list)
 * await expectKernelsSupported(() => learn.fit(1), { kernelsFile: 'my-engine-kernels.txt' });
 * ```
 */
export interface KernelGuardOptions {
  /**
   * File listing the kernels the target engine registers, one per line.
   * Defaults to `../shared/compat/tfjs-node-4.22.0-kernels.txt` from the repository root.
   */
  kernelsFile?: string;
}

/**
 * What {@link expectKernelsSupported} recorded.
 * @example
 * ```ts
 * const { result, kernels }: KernelGuardResult<number> = await expectKernelsSupported(
 *   () => tf.tidy(() => tf.ones([2]).sum().arraySync() as number),
 * );
 * console.log(result, kernels); // 2 [ 'Sum', ... ]
 * ```
 */
export interface KernelGuardResult<T> {
  /** The function's return value. */
  result: T;
  /** Every distinct kernel the function dispatched, sorted. */
  kernels: string[];
}

const OP_SCOPE_SUFFIX = '__op';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The default list: the kernels `@tensorflow/tfjs-node(-gpu)` 4.22.0 registers.
 * @example
 * ```ts
 * const kernels = readKernelList(TFJS_NODE_KERNELS_FILE);
 * kernels.has('Conv2D'); // true
 * ```
 */
export const TFJS_NODE_KERNELS_FILE = resolve(
  REPO_ROOT,
  '..',
  'shared',
  'compat',
  'tfjs-node-4.22.0-kernels.txt',
);

/**
 * Reads a kernel list (one name per line, blank lines and `#` comments ignored).
 * @param file - Path of the list.
 * @returns The set of kernel names.
 * @example
 * ```ts
 * const nodeKernels = readKernelList(TFJS_NODE_KERNELS_FILE);
 * nodeKernels.has('Conv2D'); // true
 * ```
 */
export function readKernelList(file: string): Set<string> {
  if (!existsSync(file)) {
    throw new TsfastError(
      'KERNEL',
      `Kernel list "${file}" not found. Pass \`kernelsFile\` with the kernel names of the engine to check against.`,
    );
  }
  const names = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  return new Set(names);
}

/**
 * Runs `fn`, records every kernel it dispatches (tfjs profiling: forward, gradient and
 * optimizer kernels alike) and fails if one is missing from the target engine's list. The
 * library must run on tfjs-node-gpu even where that engine cannot be installed, so tests wrap
 * training steps and augmentation in this guard.
 *
 * @param fn - The work to check; may return tensors (the caller disposes them).
 * @param options - Where the kernel list is.
 * @returns The function's result and the kernels it used.
 * @throws TsfastError (code `KERNEL`) naming each missing kernel.
 * @example
 * ```ts
 * const filter = tf.ones([3, 3, 3, 4]) as tf.Tensor4D;
 * const { result, kernels } = await expectKernelsSupported(() => tf.conv2d(x, filter, 1, 'same'));
 * tf.dispose([result, filter]);
 * ```
 */
export async function expectKernelsSupported<T>(
  fn: () => T | Promise<T>,
  options: KernelGuardOptions = {},
): Promise<KernelGuardResult<T>> {
  const supported = readKernelList(options.kernelsFile ?? TFJS_NODE_KERNELS_FILE);
  let result: T | undefined;
  const info = await tf.profile(async () => {
    result = await fn();
    // tf.profile only reads tensors returned to it; ours are handed back to the caller instead.
    return [];
  });
  // tf.customGrad ops (fused conv/matmul) appear in the profile under their op scope name,
  // e.g. `fusedMatMul__op`; they are not kernels, and the kernels they run are recorded too.
  const kernels = [...new Set(info.kernels.map((k) => k.name))]
    .filter((name) => !name.endsWith(OP_SCOPE_SUFFIX))
    // tsfast's fused wasm kernels: their callers run tensor ops on every other backend.
    .filter((name) => !WASM_ONLY_KERNELS.includes(name))
    .sort();
  const missing = kernels.filter((name) => !supported.has(name));
  if (missing.length > 0) {
    throw new TsfastError(
      'KERNEL',
      `Kernels not registered by tfjs-node 4.22.0: ${missing.join(', ')}. ` +
        'The code would fail with "Kernel ... not registered" on the tensorflow backend; ' +
        'rebuild it from ops that exist there.',
    );
  }
  return { result: result as T, kernels };
}
