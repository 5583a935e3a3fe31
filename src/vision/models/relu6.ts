/**
 * ReLU6 (`min(max(x, 0), 6)`, MobileNet's activation) as one differentiable op and a layer.
 * tfjs-layers' `ReLU` layer with `maxValue: 6` runs `relu` then `clipByValue`: two forward
 * passes and about seven backward ones. Here the forward is one `ClipByValue` and the
 * backward multiplies the incoming gradient by a mask computed from the saved output in
 * three fast elementwise kernels (no comparison, `Select` or `Cast`: scalar loops on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { hasFusedChannelKernels, RELU6_GRAD } from '../../backend/index.js';
import { ActivationLayer } from './config-layer.js';
import type { BaseLayerArgs } from './layer-args.js';

/**
 * ReLU6 with a cheap gradient: `clipByValue(x, 0, 6)` forward; backward `dy` where
 * `0 < x < 6` and `0` elsewhere, as PyTorch's `ReLU6`/`Hardtanh` backward (tfjs's
 * relu-then-clip lets the gradient through at exactly `x = 6` too; the two differ only
 * there). The mask is `step(y * (6 - y))` of the saved output `y`.
 *
 * @param x - Input (float32).
 * @returns `min(max(x, 0), 6)`, same shape; the caller disposes it.
 * @example
 * ```ts
 * const y = tsf.relu6(tf.tensor1d([-1, 3, 7])); // [0, 3, 6]
 * ```
 */
export function relu6(x: tf.Tensor): tf.Tensor {
  return relu6Op(x);
}

function relu6Impl(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.clipByValue(input, 0, 6);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [out] = saved as [tf.Tensor];
        // On wasm, one fused pass instead of four elementwise kernels.
        if (hasFusedChannelKernels(out) && dy.dtype === 'float32') {
          return tf.engine().runKernel(RELU6_GRAD, { dy, y: out }, {}) as tf.Tensor;
        }
        return tf.mul(dy, tf.step(tf.mul(out, tf.sub(6, out))));
      },
    };
  });
  return op(x);
}

/** As an op: profiles list it as `relu6__op`. */
const relu6Op = tf.op({ relu6: relu6Impl });

/** Options of {@link ReLU6}: the base layer's (`name`, `trainable`, `inputShape`, ...). */
export type ReLU6Args = BaseLayerArgs;

/**
 * The ReLU6 activation as a layer (one kernel forward, a cheap mask backward: see
 * {@link relu6}). Serialised as `ReLU6` (registered as `tsfast>ReLU6`).
 *
 * @example
 * ```ts
 * const input = tf.input({ shape: [4] });
 * const out = new tsf.ReLU6({ name: 'act' }).apply(input) as tf.SymbolicTensor;
 * ```
 */
export class ReLU6 extends ActivationLayer {
  /** Registered class name. */
  static readonly className = 'ReLU6';

  /**
   * @param args - Base layer options.
   * @throws {@link ValueError} for an unknown option.
   */
  constructor(args: ReLU6Args = {}) {
    super('ReLU6', args);
  }

  /** Applies {@link relu6}. */
  protected override activate(x: tf.Tensor): tf.Tensor {
    return relu6(x);
  }
}

tf.serialization.registerClass(ReLU6, 'tsfast');

/**
 * ReLU (`max(x, 0)`) whose gradient reads its output, not its input: `dy` where `y > 0`.
 * tfjs's `Relu` gradient keeps the input alive for the backward pass; in a conv-BN-ReLU chain
 * that input is BatchNorm's output, which nothing else needs, while the output is kept anyway
 * by the next layer's gradient. Reading the output (as PyTorch's `threshold_backward` does)
 * lets the BatchNorm output be freed during the forward pass: one activation less per layer.
 * The same values and gradients as `tf.relu` (both pass no gradient at exactly 0).
 *
 * @param x - Input (float32).
 * @returns `max(x, 0)`, same shape; the caller disposes it.
 * @example
 * ```ts
 * const y = reluFromOutput(tf.tensor1d([-1, 3])); // [0, 3]
 * ```
 * @internal
 */
export function reluFromOutput(x: tf.Tensor): tf.Tensor {
  return reluOp(x);
}

function reluImpl(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.relu(input);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.step(saved[0] as tf.Tensor)),
    };
  });
  return op(x);
}

const reluOp = tf.op({ reluFromOutput: reluImpl });

/**
 * The ReLU activation as a layer whose gradient reads its output ({@link reluFromOutput}):
 * what tsfast's ResNets use, so BatchNorm outputs do not outlive the forward pass.
 * Serialised as `ReLUFromOutput` (registered as `tsfast>ReLUFromOutput`).
 *
 * @example
 * ```ts
 * const input = tf.input({ shape: [4] });
 * const out = new ReLUFromOutput({ name: 'relu' }).apply(input) as tf.SymbolicTensor;
 * ```
 * @internal
 */
export class ReLUFromOutput extends ActivationLayer {
  /** Registered class name. */
  static readonly className = 'ReLUFromOutput';

  /**
   * @param args - Base layer options.
   * @throws {@link ValueError} for an unknown option.
   */
  constructor(args: ReLU6Args = {}) {
    super('ReLUFromOutput', args);
  }

  /** Applies {@link reluFromOutput}. */
  protected override activate(x: tf.Tensor): tf.Tensor {
    return reluFromOutput(x);
  }
}

tf.serialization.registerClass(ReLUFromOutput, 'tsfast');
