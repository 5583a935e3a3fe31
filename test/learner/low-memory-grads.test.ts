import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import {
  resetWasmTensorPeak,
  wasmTensorBytes,
  wasmTensorPeakBytes,
} from '../../src/backend/wasm-kernels/memory-guard.js';
import { ValueError } from '../../src/core/errors.js';
import { lowMemoryApply } from '../../src/learner/low-memory-forward.js';
import { lowMemoryVariableGrads } from '../../src/learner/low-memory-grads.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { buildMobilenetV1, buildMobilenetV2 } from '../../src/vision/models/mobilenet.js';
import { buildResnet } from '../../src/vision/models/resnet.js';

function trainable(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/** Softmax cross-entropy of the model's output (pooled to [N, C] if it is a feature map). */
function loss(out: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const logits = out.rank === 4 ? tf.mean(out, [1, 2]) : out;
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

/** Gradients of the same step the usual way and the low-memory way. */
function bothGrads(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor) {
  const vars = trainable(model);
  const ref = tf.variableGrads(
    () => loss(model.apply(x, { training: true }) as tf.Tensor, labels),
    vars,
  );
  const low = lowMemoryVariableGrads(() => loss(lowMemoryApply(model, x, true), labels), vars);
  return { ref, low, vars };
}

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.maximum(tf.max(tf.abs(a)), 1e-6);
    return tf.div(tf.max(tf.abs(tf.sub(a, b))), scale).dataSync()[0] as number;
  });
}

describe('lowMemoryVariableGrads and lowMemoryApply', () => {
  before(async () => {
    await ready();
  });

  const models: [string, () => tf.LayersModel, number][] = [
    // BatchNorm + ReLU6 custom ops, depthwise convolutions.
    ['MobileNet v1 0.25', () => buildMobilenetV1({ alpha: 0.25, includeTop: false, seed: 1 }), 64],
    // Residual adds (a tensor read twice), explicit padding layers.
    ['MobileNet v2 0.35', () => buildMobilenetV2({ alpha: 0.35, includeTop: false, seed: 2 }), 64],
    // Max pooling, downsample branches, dense classifier.
    ['ResNet-18', () => buildResnet(18, { nClasses: 5, seed: 3 }), 32],
  ];
  for (const [name, build, size] of models) {
    it(`${name}: the same loss and gradients as tf.variableGrads, nothing leaked`, async () => {
      const model = build();
      const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 7);
      const outC = (model.outputs[0]!.shape as number[]).at(-1)!;
      const labels = tf.oneHot(tf.tensor1d([0, 1], 'int32'), outC);
      // Warm up the layers (build) so the leak check sees steady state.
      const warm = bothGrads(model, x, labels);
      tf.dispose([warm.ref.value, warm.low.value, warm.ref.grads, warm.low.grads]);
      await expectNoLeaks(() => {
        const { ref, low, vars } = bothGrads(model, x, labels);
        assert.ok(Math.abs(ref.value.dataSync()[0]! - low.value.dataSync()[0]!) < 1e-5);
        assert.deepEqual(Object.keys(low.grads).sort(), Object.keys(ref.grads).sort());
        assert.equal(Object.keys(low.grads).length, vars.length);
        for (const v of vars) {
          const d = maxRelDiff(ref.grads[v.name]!, low.grads[v.name]!);
          assert.ok(d < 1e-4, `${v.name}: relative difference ${d}`);
        }
        tf.dispose([ref.value, low.value, ref.grads, low.grads]);
      });
      tf.dispose([x, labels]);
      model.dispose();
    });
  }

  it('frees activations as it goes: a MobileNet step peaks far lower (wasm)', async (t) => {
    if (tf.getBackend() !== 'wasm') {
      t.skip('the peak is read from the wasm memory guard');
      return;
    }
    const model = buildMobilenetV1({ alpha: 0.25, includeTop: false, seed: 4 });
    const x = tf.randomUniform([4, 96, 96, 3], -1, 1, 'float32', 8);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 256);
    const vars = trainable(model);
    const peakOf = (fn: () => { value: tf.Scalar; grads: tf.NamedTensorMap }) => {
      const base = wasmTensorBytes()!;
      resetWasmTensorPeak();
      const { value, grads } = fn();
      tf.dispose([value, grads]);
      return wasmTensorPeakBytes()! - base;
    };
    const usual = () =>
      tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor, labels), vars);
    const low = () =>
      lowMemoryVariableGrads(() => loss(lowMemoryApply(model, x, true), labels), vars);
    peakOf(usual); // build
    const usualPeak = peakOf(usual);
    const lowPeak = peakOf(low);
    assert.ok(
      lowPeak < 0.5 * usualPeak,
      `low-memory peak ${lowPeak} bytes vs ${usualPeak} with tf.variableGrads`,
    );
    tf.dispose([x, labels]);
    model.dispose();
  });

  it('rejects a non-scalar f and an empty variable list, leaving the tape closed', async () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    await expectNoLeaks(() => {
      assert.throws(() => lowMemoryVariableGrads(() => tf.mul(w, 2) as tf.Scalar, [w]), ValueError);
      assert.throws(() => lowMemoryVariableGrads(() => tf.sum(w), []), ValueError);
    });
    const { value, grads } = lowMemoryVariableGrads(() => tf.sum(tf.square(w)), [w]);
    assert.deepEqual(Array.from(grads[w.name]!.dataSync()), [2, 4]);
    assert.equal(value.dataSync()[0], 5);
    tf.dispose([value, grads, w]);
  });
});
