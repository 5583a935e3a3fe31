import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { Adam } from '../../src/learner/adam.js';
import { Lamb } from '../../src/learner/lamb.js';
import { lrRange } from '../../src/learner/lr-range.js';
import type { ParamState } from '../../src/learner/optimizer.js';
import { RMSProp } from '../../src/learner/rmsprop.js';
import { SGD } from '../../src/learner/sgd.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { assertClose, noTorch, problem, runOurs, torchRun } from './fixtures/optimizer-problem.js';

/** fastai's Adam written out in float64, step by step. */
function handAdam(
  seed: number,
  h: { lr: number; mom: number; sqrMom: number; eps: number; wd: number },
) {
  const { params, grads } = problem(seed);
  const p = params.map((x) => [...x]);
  const m = params.map((x) => x.map(() => 0));
  const v = params.map((x) => x.map(() => 0));
  const out: number[][][] = [];
  grads.forEach((step, s) => {
    const t = s + 1;
    step.forEach((g, i) => {
      const pi = p[i] as number[];
      const mi = m[i] as number[];
      const vi = v[i] as number[];
      g.forEach((gj, j) => {
        pi[j] = (pi[j] as number) * (1 - h.lr * h.wd);
        mi[j] = h.mom * (mi[j] as number) + (1 - h.mom) * gj;
        vi[j] = h.sqrMom * (vi[j] as number) + (1 - h.sqrMom) * gj * gj;
        const d1 = 1 - h.mom ** t;
        const d2 = 1 - h.sqrMom ** t;
        pi[j] =
          (pi[j] as number) -
          ((h.lr / d1) * (mi[j] as number)) / (Math.sqrt((vi[j] as number) / d2) + h.eps);
      });
    });
    out.push(p.map((x) => [...x]));
  });
  return out;
}

/** fastai's SGD with momentum (no dampening) and decoupled weight decay, in float64. */
function handSgd(seed: number, h: { lr: number; mom: number; wd: number }) {
  const { params, grads } = problem(seed);
  const p = params.map((x) => [...x]);
  const buf = params.map((x) => x.map(() => 0));
  const out: number[][][] = [];
  for (const step of grads) {
    step.forEach((g, i) => {
      const pi = p[i] as number[];
      const bi = buf[i] as number[];
      g.forEach((gj, j) => {
        pi[j] = (pi[j] as number) * (1 - h.lr * h.wd);
        bi[j] = h.mom * (bi[j] as number) + gj;
        pi[j] = (pi[j] as number) - h.lr * (bi[j] as number);
      });
    });
    out.push(p.map((x) => [...x]));
  }
  return out;
}

describe('optimizers', () => {
  before(async () => {
    await ready();
  });

  const adamH = { lr: 0.01, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 };

  it('Adam has fastai defaults', () => {
    const v = tf.variable(tf.zeros([2]));
    const opt = new Adam([[v]]);
    assert.deepEqual(opt.paramGroups[0]?.hypers, {
      lr: 1e-3,
      mom: 0.9,
      sqrMom: 0.99,
      eps: 1e-5,
      wd: 0.01,
    });
    opt.dispose();
    v.dispose();
  });

  it('Adam steps equal the hand-computed fastai update (decoupled wd, debiasing)', () => {
    const ours = runOurs((g) => new Adam(g, adamH), 3);
    assertClose(ours, handAdam(3, adamH), 1e-5, 'Adam vs hand');
  });

  it('SGD with momentum and decoupled wd equals the hand-computed update', () => {
    const h = { lr: 0.1, mom: 0.9, wd: 0.05 };
    const ours = runOurs((g) => new SGD(g, h), 4);
    assertClose(ours, handSgd(4, h), 1e-5, 'SGD vs hand');
  });

  it('Adam equals torch.optim.AdamW with betas=(mom, sqrMom), same eps and weight_decay', {
    skip: noTorch,
  }, () => {
    const { params, grads } = problem(5);
    const expected = torchRun({ optimizer: 'adamw', hypers: adamH, params, grads });
    assertClose(
      runOurs((g) => new Adam(g, adamH), 5),
      expected,
      2e-5,
      'Adam vs AdamW',
    );
  });

  it('SGD equals torch.optim.SGD (momentum; L2 weight decay with decoupleWd: false)', {
    skip: noTorch,
  }, () => {
    const h = { lr: 0.05, mom: 0.9, wd: 0.1 };
    const { params, grads } = problem(6);
    const expected = torchRun({ optimizer: 'sgd', hypers: h, params, grads });
    assertClose(
      runOurs((g) => new SGD(g, { ...h, decoupleWd: false }), 6),
      expected,
      2e-5,
      'SGD vs torch',
    );
  });

  it('RMSProp equals torch.optim.RMSprop (no momentum)', { skip: noTorch }, () => {
    const h = { lr: 0.01, sqrMom: 0.99, eps: 1e-8, wd: 0 };
    const { params, grads } = problem(7);
    const expected = torchRun({ optimizer: 'rmsprop', hypers: h, params, grads });
    assertClose(
      runOurs((g) => new RMSProp(g, h), 7),
      expected,
      2e-5,
      'RMSProp vs torch',
    );
  });

  it('Lamb applies the trust ratio min(rms(p)/rms(step), 10) to the Adam step', () => {
    const v = tf.variable(tf.tensor1d([3, -4]));
    const opt = new Lamb([[v]], { lr: 0.1, eps: 0 });
    const g = tf.tensor1d([1, 2]);
    opt.step(new Map([[v, g]]));
    // first step: debiased m = g, debiased v = g^2, step = sign(g) = [1, 1]; rms(p) = sqrt(12.5),
    // rms(step) = 1 -> q = min(3.5355, 10); p -= 0.1 * q * [1, 1]
    const q = Math.sqrt(12.5);
    const got = Array.from(v.dataSync());
    assert.ok(Math.abs((got[0] as number) - (3 - 0.1 * q)) < 1e-5, `${got}`);
    assert.ok(Math.abs((got[1] as number) - (-4 - 0.1 * q)) < 1e-5, `${got}`);
    opt.dispose();
    tf.dispose([v, g]);
  });

  it('setHyper takes one value, one per group, or an lrRange; unknown names are refused', () => {
    const vs = [0, 1, 2].map(() => tf.variable(tf.zeros([1])));
    const opt = new Adam(vs.map((v) => [v]));
    opt.setHyper('lr', lrRange(1e-5, 1e-3));
    const lrs = opt.getHyper('lr');
    [1e-5, 1e-4, 1e-3].forEach((e, i) => {
      assert.ok(Math.abs((lrs[i] as number) / e - 1) < 1e-12);
    });
    opt.setHyper('lr', lrRange(1e-3));
    assert.deepEqual(opt.getHyper('lr'), [1e-4, 1e-4, 1e-3]);
    opt.setHyper('mom', [0.8, 0.85, 0.9]);
    assert.equal(opt.paramGroups[1]?.hypers.mom, 0.85);
    assert.throws(() => opt.setHyper('beta1', 0.9), /Adam has no hyper-parameter `beta1`/);
    assert.throws(() => opt.setHyper('lr', [1, 2]), /one per parameter group \(3\)/);
    opt.dispose();
    tf.dispose(vs);
  });

  it('skips weight decay on parameters flagged doWd=false and leaves params without grads alone', () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const b = tf.variable(tf.tensor1d([2, 2]));
    const opt = new SGD([[a, b]], { lr: 0.1, wd: 0.5 });
    (opt.flags.get(a) as { doWd: boolean }).doWd = false;
    const g = tf.zeros([2]);
    opt.step(new Map([[a, g]]));
    assert.deepEqual(Array.from(a.dataSync()), [1, 1]); // zero grad, no decay
    assert.deepEqual(Array.from(b.dataSync()), [2, 2]); // no grad: untouched
    opt.dispose();
    tf.dispose([a, b, g]);
  });

  it('getState/setState round-trips buffers, steps and hypers exactly, without leaks', async () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const opt = new Adam([[v]], { lr: 0.01 });
    const g = tf.tensor1d([0.1, -0.2, 0.3]);
    opt.step(new Map([[v, g]]));
    const saved = opt.getState();
    const bufBefore = Array.from(
      ((opt.state.get(v) as ParamState).buffers.sqrAvg as tf.Variable).dataSync(),
    );
    await expectNoLeaks(() => {
      opt.step(new Map([[v, g]]));
      opt.setHyper('lr', 5);
      opt.setState(saved);
    });
    assert.deepEqual(
      Array.from(((opt.state.get(v) as ParamState).buffers.sqrAvg as tf.Variable).dataSync()),
      bufBefore,
    );
    assert.equal(opt.state.get(v)?.step, 1);
    assert.equal(opt.paramGroups[0]?.hypers.lr, 0.01);
    tf.dispose(Object.values(saved.tensors));
    opt.dispose();
    tf.dispose([v, g]);
  });

  it('allocates a parameter state on its first step with a gradient; clearState frees it', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.tensor2d([[1, 2]]));
    const n0 = tf.memory().numTensors;
    const opt = new Adam([[a], [b]], { lr: 0.1 });
    assert.equal(tf.memory().numTensors, n0, 'nothing allocated up front');
    const g = tf.tensor1d([0.1, -0.2, 0.3]);
    opt.step(new Map([[a, g]]));
    assert.equal(opt.state.size, 1);
    assert.equal(opt.state.get(a)?.step, 1);
    assert.ok(!opt.state.has(b));
    assert.equal(tf.memory().numTensors, n0 + 2 + 1, 'two Adam buffers for `a`, plus `g`');
    const snap = opt.getState();
    assert.deepEqual(snap.steps, [1, 0]);
    assert.deepEqual(Object.keys(snap.tensors).sort(), ['0/gradAvg', '0/sqrAvg']);
    // a fresh optimizer restored from the snapshot steps exactly like the original
    const twin = new Adam([[a], [b]], { lr: 0.1 });
    twin.setState(snap);
    const av = Array.from(a.dataSync());
    opt.step(new Map([[a, g]]));
    const next = Array.from(a.dataSync());
    tf.tidy(() => a.assign(tf.tensor1d(av)));
    twin.step(new Map([[a, g]]));
    assert.deepEqual(Array.from(a.dataSync()), next);
    // restoring a snapshot where `a` never stepped frees its state
    const empty = new Adam([[a], [b]]).getState();
    opt.setState(empty);
    assert.equal(opt.state.size, 0);
    opt.step(new Map([[a, g]]));
    opt.clearState();
    assert.equal(opt.state.size, 0);
    // a bad snapshot is refused whole: the state it would have replaced is kept
    twin.step(new Map([[a, g]]));
    const bad = { ...snap, steps: [1, 1] }; // `b` stepped but has no buffers
    assert.throws(() => twin.setState(bad), /buffer "1\/gradAvg" is missing/);
    assert.equal(twin.state.get(a)?.step, 3);
    tf.dispose(Object.values(snap.tensors));
    opt.dispose();
    twin.dispose();
    assert.throws(() => opt.step(new Map([[a, g]])), /disposed/);
    assert.equal(tf.memory().numTensors, n0 + 1);
    tf.dispose([a, b, g]);
  });

  it('a step leaks no tensors', async () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const g = tf.tensor1d([0.1, -0.2, 0.3]);
    for (const opt of [
      new Adam([[v]]),
      new SGD([[v]], { mom: 0.9 }),
      new RMSProp([[v]]),
      new Lamb([[v]]),
    ]) {
      opt.step(new Map([[v, g]])); // allocates the state
      await expectNoLeaks(() => opt.step(new Map([[v, g]])));
      opt.dispose();
    }
    tf.dispose([v, g]);
  });
});
