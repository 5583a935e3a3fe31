/**
 * Test helpers for code built on tsfast: the kernel guard (does this run on tfjs-node-gpu?)
 * and the tensor-leak check.
 * @packageDocumentation
 */

export { type Configurable, expectConfigRoundTrip } from './config-round-trip.js';
export {
  expectKernelsSupported,
  type KernelGuardOptions,
  type KernelGuardResult,
  readKernelList,
  TFJS_NODE_KERNELS_FILE,
} from './kernel-guard.js';
export { expectNoLeaks } from './leak-check.js';
export {
  type Blobs,
  type MakeBlobsOptions,
  makeBlobs,
  type SyntheticDataLoaders,
  type SyntheticDataLoadersOptions,
  syntheticDataLoaders,
  TensorBatchStream,
} from './synthetic-data.js';
