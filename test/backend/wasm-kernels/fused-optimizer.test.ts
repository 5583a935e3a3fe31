import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fusedAdamStep } from '../../../src/backend/wasm-kernels/fused-optimizer.js';
import { RandomGenerator } from '../../../src/core/random.js';
import { Adam, type AdamOptions } from '../../../src/learner/adam.js';
import type { Optimizer } from '../../../src/learner/optimizer.js';
import { SGD, type SGDOptions } from '../../../src/learner/sgd.js';
import { expectNoLeaks } from '../../../src/testing/index.js';
import { randomValues, wasmReady } from './parity.js';

/** Adam through its per-parameter tensor ops: overriding `update` turns the fused path off. */
class TensorOpAdam extends Adam {
  override update(...args: Parameters<Adam['update']>): tf.Tensor {
    return super.update(...args);
  }
}

/** SGD through its per-parameter tensor ops. */
class TensorOpSGD extends SGD {
  override update(...args: Parameters<SGD['update']>): tf.Tensor {
    return super.update(...args);
  }
}

const SHAPES = [[3, 3, 4, 8], [8], [1], [17, 5]];

interface Run {
  params: Float32Array[];
  buffers: Float32Array[];
}

/**
 * Three steps of an optimizer over two groups (the second with weight decay off for its first
 * parameter, as for BatchNorm/bias) with seeded values, on `backend`; returns the final
 * parameters and buffers.
 */
function run(
  backend: 'cpu' | 'wasm',
  make: (groups: tf.Variable[][]) => Optimizer,
  setup?: (opt: Optimizer, vars: tf.Variable[]) => void,
): Run {
  tf.setBackend(backend);
  try {
    const rng = new RandomGenerator(11);
    const vars = SHAPES.map((s) => tf.variable(tf.tensor(randomValues(rng, s), s)));
    const opt = make([vars.slice(0, 2), vars.slice(2)]);
    opt.flags.set(vars[2]!, { doWd: false, forceTrain: false });
    opt.setHyper('lr', [1e-2, 3e-3]);
    setup?.(opt, vars);
    for (let step = 0; step < 3; step++) {
      const grads = new Map(
        vars.map((v) => [v, tf.tensor(randomValues(rng, v.shape), v.shape)] as const),
      );
      // A parameter without a gradient on one step keeps its value and step count.
      if (step === 1) {
        tf.dispose(grads.get(vars[3]!));
        grads.delete(vars[3]!);
      }
      opt.step(grads);
      tf.dispose([...grads.values()]);
    }
    const result = {
      params: vars.map((v) => v.dataSync().slice() as Float32Array),
      buffers: vars.flatMap((v) =>
        Object.values(opt.state.get(v)!.buffers).map((b) => b.dataSync().slice() as Float32Array),
      ),
    };
    opt.dispose();
    tf.dispose(vars);
    return result;
  } finally {
    tf.setBackend('wasm');
  }
}

function assertSame(a: Run, b: Run, tol: number, label: string): void {
  for (const [name, xs, ys] of [
    ['param', a.params, b.params],
    ['buffer', a.buffers, b.buffers],
  ] as const) {
    assert.equal(xs.length, ys.length);
    xs.forEach((x, i) => {
      const y = ys[i]!;
      for (let j = 0; j < x.length; j++) {
        const d = Math.abs(x[j]! - y[j]!);
        assert.ok(
          tol === 0 ? Object.is(x[j], y[j]) : d <= tol * Math.max(1, Math.abs(y[j]!)),
          `${label}: ${name} ${i}[${j}] ${x[j]} vs ${y[j]}`,
        );
      }
    });
  }
}

const ADAM_OPTIONS: AdamOptions[] = [
  {},
  { decoupleWd: false, wd: 0.1 },
  { wd: 0, sqrMom: 0.999, eps: 1e-8 },
];
const SGD_OPTIONS: SGDOptions[] = [
  { mom: 0.9, wd: 0.05 },
  { mom: 0.9, wd: 0.05, decoupleWd: false },
  { mom: 0 },
];

describe('fused optimizer steps on wasm', () => {
  before(wasmReady);

  for (const options of ADAM_OPTIONS) {
    it(`Adam ${JSON.stringify(options)}: bit-identical to its tensor ops, close to cpu`, () => {
      const fused = run('wasm', (g) => new Adam(g, options));
      const ops = run('wasm', (g) => new TensorOpAdam(g, options));
      assertSame(fused, ops, 0, 'fused vs tensor ops on wasm');
      const cpu = run('cpu', (g) => new Adam(g, options));
      assertSame(fused, cpu, 1e-6, 'fused wasm vs cpu');
    });
  }

  for (const options of SGD_OPTIONS) {
    it(`SGD ${JSON.stringify(options)}: bit-identical to its tensor ops, close to cpu`, () => {
      const fused = run('wasm', (g) => new SGD(g, options));
      const ops = run('wasm', (g) => new TensorOpSGD(g, options));
      assertSame(fused, ops, 0, 'fused vs tensor ops on wasm');
      const cpu = run('cpu', (g) => new SGD(g, options));
      assertSame(fused, cpu, 1e-6, 'fused wasm vs cpu');
    });
  }

  it('leaves no stale weights in XNNPACK operator caches (dense and conv use the new values)', () => {
    const rng = new RandomGenerator(7);
    const w = tf.variable(tf.tensor(randomValues(rng, [3, 3, 2, 4]), [3, 3, 2, 4]));
    const k = tf.variable(tf.tensor(randomValues(rng, [6, 5]), [6, 5]));
    const x = tf.tensor(randomValues(rng, [1, 5, 5, 2]), [1, 5, 5, 2]);
    const a = tf.tensor(randomValues(rng, [4, 6]), [4, 6]);
    const use = () => [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), tf.matMul(a, k)];
    // Reference: the same products with copies of the weights (new data ids, no cache).
    const fresh = () => [
      tf.conv2d(x as tf.Tensor4D, tf.tensor4d(w.dataSync(), [3, 3, 2, 4]), 1, 'same'),
      tf.matMul(a, tf.tensor2d(k.dataSync(), [6, 5])),
    ];
    const opt = new Adam([[w, k]], { lr: 0.1 });
    for (let step = 0; step < 2; step++) {
      tf.dispose(use()); // builds (and caches) XNNPACK operators for the current weights
      const grads = new Map([w, k].map((v) => [v, tf.onesLike(v)] as const));
      opt.step(grads);
      tf.dispose([...grads.values()]);
      tf.tidy(() => {
        const got = use().map((t) => Array.from(t.dataSync()));
        const want = fresh().map((t) => Array.from(t.dataSync()));
        assert.deepEqual(got, want);
      });
    }
    opt.dispose();
    tf.dispose([w, k, x, a]);
  });

  it('runs the fused path on wasm only', () => {
    tf.setBackend('cpu');
    try {
      const p = tf.variable(tf.ones([2]));
      const m = tf.variable(tf.zeros([2]));
      const v = tf.variable(tf.zeros([2]));
      const g = tf.ones([2]);
      const h = { lr: 0.1, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0, decoupleWd: true };
      assert.equal(
        fusedAdamStep([{ param: p, grad: g, buffers: [m, v], step: 1, doWd: true }], h),
        false,
      );
      assert.deepEqual(Array.from(p.dataSync()), [1, 1]);
      tf.dispose([p, m, v, g]);
    } finally {
      tf.setBackend('wasm');
    }
  });

  it('never writes into memory a clone, a snapshot or a reshape shares; leaks nothing', async () => {
    const rng = new RandomGenerator(5);
    const w = tf.variable(tf.tensor(randomValues(rng, [4, 3]), [4, 3]));
    const opt = new Adam([[w]], { lr: 0.1 });
    const grad = tf.tensor(randomValues(rng, [4, 3]), [4, 3]);
    opt.step(new Map([[w, grad]]));
    const saved = opt.getState(); // clones: share memory on wasm (tsfast's Identity)
    const savedValues = Object.values(saved.tensors).map((t) => Array.from(t.dataSync()));
    const clone = tf.clone(w);
    const view = tf.reshape(w, [12]);
    const before = Array.from(w.dataSync());
    await expectNoLeaks(() => {
      opt.step(new Map([[w, grad]]));
      opt.setState(saved); // the buffers now share the snapshot's memory
      opt.step(new Map([[w, grad]]));
    });
    assert.deepEqual(Array.from(clone.dataSync()), before);
    assert.deepEqual(Array.from(view.dataSync()), before);
    assert.notDeepEqual(Array.from(w.dataSync()), before);
    Object.values(saved.tensors).forEach((t, i) => {
      assert.deepEqual(Array.from(t.dataSync()), savedValues[i], 'the snapshot kept its values');
    });
    tf.dispose([clone, view, grad, w, ...Object.values(saved.tensors)]);
    opt.dispose();
  });
});
