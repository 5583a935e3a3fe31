/** The plain JavaScript engine: tfjs's own `cpu` backend, always available. */
import { activate, type Engine, kernelsOf } from './engine.js';

/**
 * The cpu engine.
 * @internal
 */
export const CPU_ENGINE: Engine = {
  name: 'cpu',
  backend: 'cpu',
  load: () => activate('cpu', 'cpu', 'pure-JavaScript kernels (slow, always available)'),
  kernels: () => kernelsOf('cpu'),
  accelerations: { addedKernels: [], cpuAugmentation: true, batchNormKernels: 'reduce' },
};
