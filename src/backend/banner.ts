/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js ...
 * install our node backend" on its first tensor. When tsfast has chosen the engine itself
 * (`ready()`), that advice contradicts the choice (and `tsfast doctor` already says why a native
 * engine was skipped), so tsfast marks the cpu backend as already used.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Silences tfjs's "install our node backend" banner. Relies on the cpu backend's `firstUse`
 * field (tfjs 4.22.0, the version tsfast pins); does nothing if the field is absent.
 * @internal
 */
export function silenceNodeBackendBanner(): void {
  // findBackend creates the cpu backend if it is registered but not yet initialised: cheap,
  // and tfjs creates it anyway for its first cpu-side tensor.
  const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
}
