import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { hasFusedChannelKernels } from '../../../src/backend/index.js';
import { ready } from '../../../src/backend/ready.js';
import { ValueError } from '../../../src/core/errors.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { expectKernelsSupported, expectNoLeaks } from '../../../src/testing/index.js';
import { ReLU6, ReLUFromOutput, relu6, reluFromOutput } from '../../../src/vision/models/relu6.js';

const BACKENDS = ['cpu', 'wasm'] as const;

/** Values spread over [-4, 10), none exactly on 0 or 6 (where the two gradients differ). */
function inputs(n: number, seed: number): Float32Array {
  const rng = new RandomGenerator(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.uniform(-4, 10);
    if (v === 0 || v === 6) v += 0.5;
    out[i] = v;
  }
  return out;
}

describe('relu6 and the ReLU6 layer', () => {
  before(async () => {
    await ready();
  });

  it('value and gradient equal tfjs-layers relu-then-clip on cpu and wasm', () => {
    const x = inputs(500, 1);
    const dy = inputs(500, 2);
    for (const backend of BACKENDS) {
      tf.setBackend(backend);
      const [ours, theirs] = tf.tidy(() => {
        const xt = tf.tensor(x, [5, 10, 10]);
        const dyt = tf.tensor(dy, [5, 10, 10]);
        const layer = tf.layers.reLU({ maxValue: 6 });
        const f = (a: tf.Tensor) => layer.apply(a) as tf.Tensor;
        return [
          [relu6(xt), tf.grad(relu6)(xt, dyt)],
          [f(xt), tf.grad(f)(xt, dyt)],
        ].map((pair) => pair.map((t) => Array.from(t.dataSync())));
      });
      tf.setBackend('wasm');
      assert.deepEqual(ours, theirs, backend);
    }
  });

  it('the fused wasm gradient equals the tensor-op mask on cpu, bounds included', () => {
    const n = 3 * 7 * 12;
    const x = inputs(n, 4).map((v, i) =>
      i % 7 === 0 ? [0, 6, -0, 6.000001, 5.999999][i % 5]! : v,
    );
    const dy = inputs(n, 5);
    const grads = BACKENDS.map((backend) => {
      tf.setBackend(backend);
      const g = tf.tidy(() =>
        Array.from(
          tf
            .grad(relu6)(tf.tensor(x, [3, 7, 12]), tf.tensor(dy, [3, 7, 12]))
            .dataSync(),
        ),
      );
      tf.setBackend('wasm');
      return g;
    });
    const probe = tf.zeros([3, 7, 12]);
    assert.ok(hasFusedChannelKernels(probe), 'the fused kernel runs on wasm');
    probe.dispose();
    // Equal values (the mask multiplies: dy * 0 is -0 where dy < 0; the fused kernel writes 0).
    assert.deepEqual(
      grads[1]!.map((v) => v + 0),
      grads[0]!.map((v) => v + 0),
    );
    assert.ok(grads[1]!.some((v) => v === 0) && grads[1]!.some((v) => v !== 0));
  });

  it('passes the gradient strictly inside (0, 6), as PyTorch', () => {
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad(relu6)(tf.tensor1d([-1, 0, 0.5, 5.9, 6, 7]))
          .dataSync(),
      ),
    );
    assert.deepEqual(g, [0, 0, 1, 1, 0, 0]);
  });

  it('layer: one ClipByValue forward, no comparison kernels backward, no leaks', async () => {
    const x = tf.tensor(inputs(64, 3), [4, 4, 4]);
    const layer = new ReLU6({ name: 'act' });
    const { kernels } = await expectKernelsSupported(() =>
      tf.tidy(() => {
        tf.grad((a: tf.Tensor) => layer.apply(a) as tf.Tensor)(x).dataSync();
      }),
    );
    // Identity: the saved output (shares memory on wasm). The backward is tsfast's one fused
    // wasm kernel here (channels a multiple of 4), which the guard leaves out: elsewhere it is
    // the mask from Sub, Multiply and Step.
    assert.deepEqual(kernels, ['ClipByValue', 'Identity']);
    await expectNoLeaks(() => {
      tf.dispose(tf.grad((a: tf.Tensor) => layer.apply(a, { training: true }) as tf.Tensor)(x));
    });
    x.dispose();
    assert.throws(() => new ReLU6({ maxValue: 6 } as never), ValueError);
  });

  it('round-trips through model JSON (class ReLU6)', async () => {
    const input = tf.input({ shape: [3] });
    const out = new ReLU6({ name: 'r6' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    assert.match(JSON.stringify(artifacts?.modelTopology), /"class_name":"ReLU6"/);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    assert.equal(loaded.getLayer('r6').getClassName(), 'ReLU6');
    const y = tf.tidy(() =>
      Array.from((loaded.predict(tf.tensor2d([[-2, 3, 9]])) as tf.Tensor).dataSync()),
    );
    assert.deepEqual(y, [0, 3, 6]);
    model.dispose();
    loaded.dispose();
  });
});

describe('reluFromOutput', () => {
  it("the values and gradients of tf.relu, with tfjs-node's kernels, no leak", async () => {
    await ready();
    for (const backend of BACKENDS) {
      await tf.setBackend(backend);
      const x = tf.tensor(inputs(2 * 5 * 5 * 3, 3), [2, 5, 5, 3]);
      const w = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 4);
      await expectNoLeaks(() => {
        const [ours, ref] = tf.tidy(() => {
          const g = (f: (t: tf.Tensor) => tf.Tensor) =>
            tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))(x);
          return [
            [reluFromOutput(x), g(reluFromOutput)],
            [tf.relu(x), g(tf.relu)],
          ];
        });
        for (let i = 0; i < 2; i++) {
          assert.deepEqual(Array.from(ours[i]!.dataSync()), Array.from(ref[i]!.dataSync()));
        }
        tf.dispose([...ours, ...ref]);
      });
      tf.dispose([x, w]);
    }
    await ready();
    expectKernelsSupported(() => {
      const x = tf.variable(tf.tensor1d([-1, 2]));
      const { value, grads } = tf.variableGrads(() => tf.sum(reluFromOutput(x)), [x]);
      tf.dispose([value, grads, x]);
    });
  });

  it('as a layer: a model with it saves and loads', async () => {
    const input = tf.input({ shape: [3] });
    const out = new ReLUFromOutput({ name: 'act' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    assert.equal(loaded.getLayer('act').getClassName(), 'ReLUFromOutput');
    const y = tf.tidy(() =>
      Array.from((loaded.predict(tf.tensor2d([[-1, 3, 7]])) as tf.Tensor).dataSync()),
    );
    assert.deepEqual(y, [0, 3, 7]);
    model.dispose();
    loaded.dispose();
  });
});
