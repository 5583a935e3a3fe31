import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { ValueError } from '../../../src/core/errors.js';
import { RandomGenerator, setSeed } from '../../../src/core/random.js';
import { Learner } from '../../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../../src/learner/losses.js';
import { isBatchNorm } from '../../../src/learner/param-groups.js';
import { expectKernelsSupported, expectNoLeaks } from '../../../src/testing/index.js';
import { BatchNorm } from '../../../src/vision/models/batch-norm.js';
import { ReLU6 } from '../../../src/vision/models/relu6.js';
import { relativeError } from '../../backend/wasm-kernels/parity.js';
import { blobsDls } from '../../learner/fixtures.js';
import { skipUnlessTorch, torchFixtures } from './torch-fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const BACKENDS = ['cpu', 'wasm'] as const;

function values(rng: RandomGenerator, n: number, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

const vars = (layer: tf.layers.Layer) =>
  layer.weights.map((w) => (w as unknown as { val: tf.Variable }).val);

/**
 * Two training steps (output, gradients of x/gamma/beta, moving statistics after each) and one
 * inference call (output and gradients) of a layer whose weights are set to `init`; everything
 * read back.
 */
function trace(
  layer: tf.layers.Layer,
  shape: number[],
  xs: Float32Array[],
  dy: Float32Array,
  init: Float32Array[],
): Float32Array[] {
  return tf.tidy(() => {
    const out: Float32Array[] = [];
    const read = (t: tf.Tensor) => out.push(t.dataSync().slice() as Float32Array);
    layer.build(shape);
    layer.setWeights(init.map((v) => tf.tensor1d(v)));
    const [gamma, beta, mean, variance] = vars(layer) as [
      tf.Variable,
      tf.Variable,
      tf.Variable,
      tf.Variable,
    ];
    // Output and gradients of x, gamma and beta of one call, read back.
    const step = (xv: Float32Array, training: boolean) => {
      const x = tf.variable(tf.tensor(xv, shape));
      const w = tf.tensor(dy, shape);
      const { value, grads } = tf.variableGrads(() => {
        const y = layer.apply(x, { training }) as tf.Tensor;
        read(y);
        return tf.sum(tf.mul(y, w)) as tf.Scalar;
      }, [x, gamma, beta]);
      for (const v of [x, gamma, beta]) read(grads[v.name] as tf.Tensor);
      tf.dispose([value, ...Object.values(grads), x]);
    };
    for (const xv of xs) {
      step(xv, true);
      read(mean);
      read(variance);
    }
    // Inference mode, also differentiated: a frozen BatchNorm (BnFreeze, trainBn false) runs
    // it while the layers around it train.
    step(xs[0] as Float32Array, false);
    return out;
  });
}

/** Frees the weights of a layer only called eagerly (`Layer.dispose` refuses those). */
function disposeWeights(layer: tf.layers.Layer): void {
  for (const w of layer.weights) w.dispose();
}

const LABELS = ['y', 'dx', 'dgamma', 'dbeta', 'moving_mean', 'moving_variance'];
const INFERENCE_LABELS = ['y', 'dx', 'dgamma', 'dbeta'];

describe('BatchNorm layer', () => {
  before(async () => {
    await ready();
  });

  for (const shape of [
    [8, 5, 5, 6],
    [12, 7],
  ]) {
    it(`matches tf.layers.batchNormalization at [${shape.join(', ')}]: training and inference outputs and gradients, moving statistics; cpu and wasm`, () => {
      const rng = new RandomGenerator(shape.length);
      const n = shape.reduce((a, b) => a * b, 1);
      const c = shape[shape.length - 1] as number;
      const xs = [values(rng, n, 0.3, 2), values(rng, n, -1, 0.5)];
      const dy = values(rng, n);
      const init = [values(rng, c, 1, 0.2), values(rng, c, 0, 0.2), values(rng, c, 0, 0.5)];
      init.push(values(rng, c, 1, 0.1).map(Math.abs));
      for (const backend of BACKENDS) {
        tf.setBackend(backend);
        try {
          const args = { momentum: 0.9, epsilon: 1e-3, name: 'bn' };
          const theirs = trace(tf.layers.batchNormalization(args), shape, xs, dy, init);
          const ours = trace(new BatchNorm(args), shape, xs, dy, init);
          assert.equal(ours.length, theirs.length);
          ours.forEach((v, i) => {
            const err = relativeError(v, theirs[i] as Float32Array);
            const what =
              i >= ours.length - 4
                ? `inference ${INFERENCE_LABELS[i - ours.length + 4]}`
                : LABELS[i % 6];
            assert.ok(
              err <= 1e-4,
              `${backend} ${what} (#${i}): relative error ${err.toExponential(2)}`,
            );
          });
        } finally {
          tf.setBackend('wasm');
        }
      }
    });
  }

  it('has tfjs-layers weight names, order and trainability; isBatchNorm knows it', () => {
    const ours = new BatchNorm({ name: 'bn' });
    const theirs = tf.layers.batchNormalization({ name: 'bn' });
    ours.build([null, 4, 4, 3]);
    theirs.build([null, 4, 4, 3]);
    const describe = (l: tf.layers.Layer) =>
      l.weights.map((w) => [w.originalName, w.trainable, w.shape]);
    assert.deepEqual(describe(ours), describe(theirs));
    assert.deepEqual(
      tf.tidy(() => ours.getWeights().map((w) => Array.from(w.dataSync()))),
      tf.tidy(() => theirs.getWeights().map((w) => Array.from(w.dataSync()))),
    );
    assert.ok(isBatchNorm(ours) && isBatchNorm(theirs));
    const noScale = new BatchNorm({ scale: false, center: false });
    noScale.build([null, 3]);
    assert.deepEqual(
      noScale.weights.map((w) => w.originalName.split('/').pop()),
      ['moving_mean', 'moving_variance'],
    );
    for (const l of [ours, theirs, noScale]) disposeWeights(l);
  });

  it('without scale and shift normalises like gamma 1, beta 0', () => {
    const x = tf.randomNormal([6, 4], 2, 3, 'float32', 7);
    const plain = new BatchNorm({ scale: false, center: false });
    const full = new BatchNorm();
    const [a, b] = tf.tidy(() =>
      [plain, full].map((l) =>
        Array.from((l.apply(x, { training: true }) as tf.Tensor).dataSync()),
      ),
    );
    assert.ok(relativeError(a as number[], b as number[]) < 1e-6);
    x.dispose();
    disposeWeights(plain);
    disposeWeights(full);
  });

  it('updates the moving statistics off the gradient tape, to the same values', () => {
    // Inside a gradient computation, the update (three ops per statistic) is never
    // differentiated; recorded, each op would also copy both of its inputs for a backward pass
    // that never comes (per layer and step, per thread).
    const layer = new BatchNorm({ momentum: 0.8 });
    const x = tf.randomNormal([6, 3, 3, 4], 0.5, 2, 'float32', 11);
    layer.build(x.shape);
    const [gamma, beta, movingMean, movingVariance] = vars(layer) as tf.Variable[];
    const before = [movingMean, movingVariance].map((v) => v!.dataSync().slice());
    const tape = tf.engine().state as unknown as {
      activeTape: { kernelName: string; inputs: Record<string, tf.Tensor>; outputs: tf.Tensor[] }[];
    };
    let recorded: { kernelName: string; inputs: tf.Tensor[]; outputs: tf.Tensor[] }[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const at = tape.activeTape.length;
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      recorded = tape.activeTape.slice(at).map((n) => ({ ...n, inputs: Object.values(n.inputs) }));
      return tf.sum(tf.square(y)) as tf.Scalar;
    }, [gamma!, beta!]);
    const stats = [movingMean!, movingVariance!];
    const touching = recorded.filter(
      (n) =>
        n.inputs.some((t) => stats.some((s) => t.id === s.id)) ||
        n.outputs.some((t) => stats.some((s) => t.dataId === s.dataId)),
    );
    assert.deepEqual(
      touching.map((n) => n.kernelName),
      [],
      'no tape node reads or writes the moving statistics',
    );
    assert.ok(recorded.length > 0, 'the normalisation itself is recorded');
    // The values: momentum * old + (1 - momentum) * the batch's (biased) statistics, in float64.
    const xs = x.dataSync();
    const c = 4;
    const m = xs.length / c;
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let i = ch; i < xs.length; i += c) sum += xs[i] as number;
      const mean = sum / m;
      let sq = 0;
      for (let i = ch; i < xs.length; i += c) sq += ((xs[i] as number) - mean) ** 2;
      const expected = [mean, sq / m].map((s, k) => 0.8 * (before[k]![ch] as number) + 0.2 * s);
      stats.forEach((s, k) => {
        const got = s.dataSync()[ch] as number;
        assert.ok(
          Math.abs(got - expected[k]!) <= 1e-5 * Math.max(1, Math.abs(expected[k]!)),
          `${k === 0 ? 'moving mean' : 'moving variance'}[${ch}]: ${got} vs ${expected[k]}`,
        );
      });
    }
    tf.dispose([value, ...Object.values(grads), x]);
    disposeWeights(layer);
  });

  it('rejects an axis other than the last, unknown options and bad values', () => {
    assert.throws(
      () => new BatchNorm({ axis: 1 }).apply(tf.input({ shape: [4, 4, 3] })),
      /last axis/,
    );
    assert.throws(() => new BatchNorm({ gammaInitializer: 'ones' } as never), ValueError);
    assert.throws(() => new BatchNorm({ momentum: 2 }), /momentum/);
    assert.throws(() => new BatchNorm({ epsilon: -1 }), /epsilon/);
  });

  it('leaks no tensors over training and inference calls; only tfjs-node kernels', async () => {
    const layer = new BatchNorm({ momentum: 0.9 });
    const x = tf.randomNormal([4, 3, 3, 5], 0, 1, 'float32', 3);
    layer.build(x.shape);
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
      );
      tf.dispose([value, ...Object.values(grads)]);
      tf.dispose(layer.apply(x) as tf.Tensor);
    };
    step();
    await expectNoLeaks(step);
    await expectKernelsSupported(step);
    x.dispose();
    disposeWeights(layer);
  });

  it('round-trips through model save/load: config, weights and outputs', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const out = new BatchNorm({ momentum: 0.8, epsilon: 1e-5, name: 'bn' }).apply(input);
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    const x = tf.randomNormal([2, 4, 4, 3], 1, 2, 'float32', 4);
    // Moves the moving statistics away from their initial values.
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    assert.match(JSON.stringify(artifacts?.modelTopology), /"class_name":"BatchNorm"/);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const bn = loaded.getLayer('bn');
    assert.ok(bn instanceof BatchNorm);
    assert.deepEqual(bn.getConfig(), model.getLayer('bn').getConfig());
    const [a, b] = tf.tidy(() =>
      [model, loaded].map((m) => Array.from((m.predict(x) as tf.Tensor).dataSync())),
    );
    assert.deepEqual(a, b);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('in a Learner: trains in frozen groups (trainBn), exports, and loadLearner in a new process predicts identically', async () => {
    setSeed(11);
    const dls = blobsDls(11);
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, inputShape: [8], kernelInitializer: init(1), name: 'fc1' }),
        new BatchNorm({ momentum: 0.9, name: 'bn1' }),
        new ReLU6({ name: 'act1' }),
        tf.layers.dense({ units: 3, kernelInitializer: init(2), name: 'fc2' }),
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-bn-'));
    const learn = new Learner(dls, model, {
      lossFunc: new CrossEntropyLossFlat(),
      splitter: (m) => [m.layers.slice(0, -1), m.layers.slice(-1)],
      logger: () => {},
      path: dir,
    });
    const read = (name: string) =>
      model
        .getLayer(name)
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
    learn.freeze();
    const [fc1Before, bnBefore] = [read('fc1'), read('bn1')];
    await learn.fit(1, 1e-2);
    assert.deepEqual(read('fc1'), fc1Before, 'frozen dense layer must not change');
    const bnAfter = read('bn1');
    for (let i = 0; i < 4; i++) assert.notDeepEqual(bnAfter[i], bnBefore[i], `bn1 weight ${i}`);
    const exported = await learn.export('bn-relu6');
    const rows = [
      [0.1, -0.2, 0.3, 1, 0, 2, -1, 0.5],
      [1, 1, 1, 1, -1, -1, -1, -1],
    ];
    writeFileSync(join(exported, 'inputs.json'), JSON.stringify(rows));
    const expected = tf.tidy(() =>
      Array.from((model.predict(tf.tensor2d(rows)) as tf.Tensor).dataSync()),
    );
    // A fresh process that imports tsfast (which registers BatchNorm and ReLU6), as a user does.
    const script = [
      "import { readFileSync } from 'node:fs';",
      "import * as tf from '@tensorflow/tfjs';",
      "import { loadLearner } from './src/index.ts';",
      'const dir = process.argv[1];',
      'const learn = await loadLearner(dir);',
      "const rows = JSON.parse(readFileSync(dir + '/inputs.json', 'utf8'));",
      'const y = learn.model.predict(tf.tensor2d(rows));',
      "const classes = learn.model.layers.map((l) => l.getClassName()).join(',');",
      'process.stdout.write(JSON.stringify({ preds: Array.from(y.dataSync()), classes }));',
    ].join('\n');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, exported],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout) as { preds: number[]; classes: string };
    assert.equal(out.classes, 'Dense,BatchNorm,ReLU6,Dense');
    assert.deepEqual(out.preds, expected);
    learn.opt.dispose();
    model.dispose();
    dls.dispose();
  });

  it('training step matches PyTorch BatchNorm2d (output, gradients, running mean; running variance biased as tfjs)', {
    skip: skipUnlessTorch(),
  }, () => {
    const dir = torchFixtures('make_batchnorm_fixtures.py');
    const ref = JSON.parse(readFileSync(join(dir, 'batchnorm.json'), 'utf8')) as {
      shape: number[];
      init: Record<'gamma' | 'beta' | 'running_mean' | 'running_var', number[]>;
      x: number[];
      dy: number[];
      y: number[];
      dx: number[];
      dgamma: number[];
      dbeta: number[];
      running_mean: number[];
      running_var: number[];
    };
    const init = [ref.init.gamma, ref.init.beta, ref.init.running_mean, ref.init.running_var];
    const c = ref.shape[3] as number;
    const m = ref.x.length / c;
    for (const backend of BACKENDS) {
      tf.setBackend(backend);
      try {
        // PyTorch's momentum 0.1 is tfjs's 0.9.
        const layer = new BatchNorm({ momentum: 0.9, epsilon: 1e-3 });
        const [y, dx, dgamma, dbeta, mean, variance] = trace(
          layer,
          ref.shape,
          [Float32Array.from(ref.x)],
          Float32Array.from(ref.dy),
          init.map((v) => Float32Array.from(v)),
        );
        const check = (got: Float32Array | undefined, want: number[], what: string) => {
          const err = relativeError(got as Float32Array, want);
          assert.ok(err <= 1e-4, `${backend} ${what}: relative error ${err.toExponential(2)}`);
        };
        check(y, ref.y, 'y');
        check(dx, ref.dx, 'dx');
        check(dgamma, ref.dgamma, 'dgamma');
        check(dbeta, ref.dbeta, 'dbeta');
        check(mean, ref.running_mean, 'running mean');
        // PyTorch updates the running variance with the unbiased batch variance (x m/(m-1)),
        // tfjs-layers (and so tsfast) with the biased one.
        const biasedTorch = ref.running_var.map(
          (v, i) =>
            0.9 * (ref.init.running_var[i] as number) +
            ((v - 0.9 * (ref.init.running_var[i] as number)) * (m - 1)) / m,
        );
        check(variance, biasedTorch, 'running variance (biased)');
        disposeWeights(layer);
      } finally {
        tf.setBackend('wasm');
      }
    }
  });
});
