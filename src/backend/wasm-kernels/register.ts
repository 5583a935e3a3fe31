/**
 * Registers tsfast's wasm training kernels: the gradient kernels the wasm package lacks, faster
 * replacements for slow ones, and the matmul wrappers. Called by `ready()` whenever the wasm
 * engine is chosen.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../../core/errors.js';
import {
  BATCH_NORM_BACKWARD,
  BATCH_NORM_FORWARD,
  BATCH_NORM_GRAD_INPUT,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  CHANNEL_KERNEL_CONFIGS,
  RELU6_GRAD,
} from './batch-norm-kernels.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthToSpaceKernel } from './depth-to-space.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { registerFastGradients } from './fast-gradients.js';
import { sharingIdentityConfig } from './identity.js';
import { explicitTransposeMatMul } from './mat-mul.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { installWasmMemoryGuard } from './memory-guard.js';
import { pointwiseConvKernel } from './pointwise-conv.js';
import { rowReduceKernel } from './reduce.js';
import { blockTransposeKernel } from './transpose.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';

/** Kernels tsfast adds to or replaces in the wasm backend, by name. */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.UnsortedSegmentSum,
  tf.MaxPoolGrad,
  tf.BatchMatMul,
  tf._FusedMatMul,
  tf.Identity,
  tf.Sum,
  tf.Mean,
  tf.DepthToSpace,
  tf.Transpose,
  tf.Conv2D,
  tf.FusedConv2D,
  BATCH_NORM_FORWARD,
  BATCH_NORM_BACKWARD,
  BATCH_NORM_MOMENTS,
  BATCH_NORM_NORMALISE,
  BATCH_NORM_GRAD_SUMS,
  BATCH_NORM_GRAD_INPUT,
  RELU6_GRAD,
];

/**
 * The `@tensorflow/tfjs-backend-wasm` release these kernels were written against: they reach
 * into its private internals (the module's heap, its tensor map, how it allocates outputs),
 * which any other release may change without notice.
 */
export const WASM_PACKAGE_VERSION = '4.22.0';

/**
 * Refuses a `@tensorflow/tfjs-backend-wasm` other than {@link WASM_PACKAGE_VERSION}: the wasm
 * kernels would read its private internals at the wrong places and crash or compute garbage.
 * @param found - The installed package's version (its `version_wasm` export).
 * @throws BackendError naming both versions and the fix.
 * @example
 * ```ts
 * checkWasmPackageVersion('4.22.0'); // passes
 * ```
 * @example
 * ```ts no-run (throws)
 * checkWasmPackageVersion('4.23.0'); // throws BackendError
 * ```
 */
export function checkWasmPackageVersion(found: string): void {
  if (found === WASM_PACKAGE_VERSION) return;
  throw new BackendError(
    `tsfast's wasm training kernels were written for @tensorflow/tfjs-backend-wasm ${WASM_PACKAGE_VERSION} and read its private internals, but ${found} is installed. ` +
      `Install exactly ${WASM_PACKAGE_VERSION} (every @tensorflow/* package at that version: npm install @tensorflow/tfjs@${WASM_PACKAGE_VERSION} @tensorflow/tfjs-backend-wasm@${WASM_PACKAGE_VERSION}), or choose another engine with TSFAST_BACKEND=cpu.`,
  );
}

/**
 * The installed `@tensorflow/tfjs-backend-wasm`'s version, from its package.json (reading it
 * loads no code).
 * @internal
 */
export function installedWasmPackageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
}

const WRAPPED = Symbol.for('tsfast.wasmKernel');

type Tagged = tf.KernelConfig & { [WRAPPED]?: true };

function install(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, 'wasm') as Tagged | undefined;
  if (existing?.[WRAPPED]) return;
  if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({ ...config, [WRAPPED]: true } as Tagged);
}

/**
 * Registers, for the `wasm` backend, the kernels that let tfjs train convolutional networks
 * there, fast: `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput` and `UnsortedSegmentSum` (missing from the wasm
 * package), a `Conv2DBackpropInput` about 10 x faster than the package's, and `BatchMatMul` /
 * `_FusedMatMul` wrappers that avoid the package's slow transposed products, `Sum` / `Mean`
 * over leading or middle axes without the package's transpose, an NHWC `DepthToSpace` that
 * copies contiguous runs, block `Transpose`s (batched 2D) in SIMD, pointwise `Conv2D` /
 * `FusedConv2D` (1x1, no bias, linear) and BatchNorm / ReLU6 gradients in tsfast's SIMD
 * kernels (see `pointwise-conv.ts`, `batch-norm-kernels.ts`); replaces slow
 * tfjs-core gradients (see {@link registerFastGradients}); and, when wasm is the active
 * backend, guards its 4 GB memory so an oversized batch fails early with a clear error instead
 * of crashing the module. Safe to call more than once; `ready()` calls it when it picks wasm.
 * The kernels read the wasm package's private internals: another release than
 * {@link WASM_PACKAGE_VERSION} is refused before anything is registered.
 *
 * @param installed - The installed `@tensorflow/tfjs-backend-wasm` version; read from its
 *   package.json by default.
 * @returns The names of the kernels now provided by tsfast.
 * @throws {@link BackendError} when `installed` is not {@link WASM_PACKAGE_VERSION}; Error from
 *   tfjs if `@tensorflow/tfjs-backend-wasm` has not been imported (its
 *   `Transpose` and `BatchMatMul` kernels are wrapped).
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm'); // conv nets now train on wasm
 * ```
 */
export function registerWasmTrainingKernels(installed = installedWasmPackageVersion()): string[] {
  checkWasmPackageVersion(installed);
  install(conv2dBackpropFilterConfig);
  install(conv2dBackpropInputConfig);
  install(depthwiseBackpropFilterConfig);
  install(depthwiseBackpropInputConfig);
  install(unsortedSegmentSumConfig);
  install(maxPoolGradConfig);
  const packageTranspose = tf.getKernel(tf.Transpose, 'wasm') as Tagged | undefined;
  if (packageTranspose !== undefined && !packageTranspose[WRAPPED]) {
    install(blockTransposeKernel(packageTranspose));
  }
  const transpose = tf.getKernel(tf.Transpose, 'wasm');
  for (const name of [tf.BatchMatMul, tf._FusedMatMul]) {
    const original = tf.getKernel(name, 'wasm') as Tagged | undefined;
    if (original === undefined || transpose === undefined) {
      throw new Error(
        `The wasm kernel '${name}' is not registered: import '@tensorflow/tfjs-backend-wasm' before registering tsfast's wasm kernels.`,
      );
    }
    if (!original[WRAPPED]) install(explicitTransposeMatMul(original, transpose));
  }
  for (const [name, wrap] of [
    [tf.Sum, (k: tf.KernelConfig) => rowReduceKernel(k, false)],
    [tf.Mean, (k: tf.KernelConfig) => rowReduceKernel(k, true)],
    [tf.DepthToSpace, depthToSpaceKernel],
    [tf.Conv2D, pointwiseConvKernel],
    [tf.FusedConv2D, pointwiseConvKernel],
  ] as const) {
    const original = tf.getKernel(name, 'wasm') as Tagged | undefined;
    if (original === undefined) {
      throw new Error(
        `The wasm kernel '${name}' is not registered: import '@tensorflow/tfjs-backend-wasm' before registering tsfast's wasm kernels.`,
      );
    }
    if (!original[WRAPPED]) install(wrap(original));
  }
  install(sharingIdentityConfig);
  for (const config of CHANNEL_KERNEL_CONFIGS) install(config);
  registerFastGradients();
  installWasmMemoryGuard();
  return [...WASM_TRAINING_KERNELS];
}
