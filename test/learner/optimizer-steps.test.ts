/**
 * The optimizers composed from step functions that fastai has and tsfast's first round did not
 * (RAdam, QHAdam, LARC/LARS, Lookahead, ranger), each against its documented update rule
 * written out here in float64, or against PyTorch where PyTorch has it.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { ValueError } from '../../src/core/errors.js';
import { Adam } from '../../src/learner/adam.js';
import { Lamb } from '../../src/learner/lamb.js';
import { Larc } from '../../src/learner/larc.js';
import { Lookahead, ranger } from '../../src/learner/lookahead.js';
import { Optimizer } from '../../src/learner/optimizer.js';
import {
  averageGrad,
  momentumStep,
  type OptimizerStep,
  weightDecay,
} from '../../src/learner/optimizer-steps.js';
import { QHAdam } from '../../src/learner/qhadam.js';
import { RAdam } from '../../src/learner/radam.js';
import { SGD } from '../../src/learner/sgd.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { assertClose, noTorch, problem, runOurs, torchRun } from './fixtures/optimizer-problem.js';

type Vec = number[];
/** One tensor's update in float64: takes its value, gradient, state and step count (from 1). */
type HandUpdate = (p: Vec, g: Vec, state: Record<string, Vec>, t: number) => Vec;

/** Runs a per-tensor float64 update over the shared problem; parameters after each step. */
function hand(seed: number, steps: number, update: HandUpdate): number[][][] {
  const { params, grads } = problem(seed, steps);
  let p = params.map((x) => [...x]);
  const states = params.map(() => ({}) as Record<string, Vec>);
  const out: number[][][] = [];
  grads.forEach((step, s) => {
    p = p.map((pi, i) => update(pi, step[i] as Vec, states[i] as Record<string, Vec>, s + 1));
    out.push(p.map((x) => [...x]));
  });
  return out;
}

const norm = (v: Vec) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const zeros = (v: Vec) => v.map(() => 0);

/** fastai's `average_grad` / `average_sqr_grad` with dampening, in float64. */
function averages(state: Record<string, Vec>, g: Vec, mom: number, sqrMom: number) {
  state.m ??= zeros(g);
  state.v ??= zeros(g);
  state.m = state.m.map((m, j) => mom * m + (1 - mom) * (g[j] as number));
  state.v = state.v.map((v, j) => sqrMom * v + (1 - sqrMom) * (g[j] as number) ** 2);
  return { m: state.m, v: state.v };
}

describe('optimizers composed from steps', () => {
  before(async () => {
    await ready();
  });

  it('RAdam equals torch.optim.RAdam over 10 steps (momentum steps, then rectified ones)', {
    skip: noTorch,
  }, () => {
    // With sqrMom 0.99 the variance is tractable (r > 5) from step 6 on: both branches run.
    const h = { lr: 0.01, mom: 0.9, sqrMom: 0.99, eps: 1e-8, wd: 0 };
    const { params, grads } = problem(21, 10);
    const expected = torchRun({ optimizer: 'radam', hypers: h, params, grads });
    assertClose(
      runOurs((g) => new RAdam(g, h), 21, 10),
      expected,
      2e-5,
      'RAdam vs torch',
    );
  });

  it('RAdam follows fastai radam_step, decoupled weight decay included', () => {
    const h = { lr: 0.05, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.1 };
    const expected = hand(22, 8, (p, g, state, t) => {
      const w = p.map((x) => x * (1 - h.lr * h.wd));
      const { m, v } = averages(state, g, h.mom, h.sqrMom);
      const d1 = 1 - h.mom ** t;
      const d2 = 1 - h.sqrMom ** t;
      const rInf = 2 / (1 - h.sqrMom) - 1;
      const r = rInf - (2 * t * h.sqrMom ** t) / (1 - h.sqrMom ** t);
      if (r <= 5) return w.map((x, j) => x - (h.lr / d1) * (m[j] as number));
      const rect = Math.sqrt(((r - 4) * (r - 2) * rInf) / ((rInf - 4) * (rInf - 2) * r));
      return w.map(
        (x, j) =>
          x -
          ((h.lr * rect) / d1) * ((m[j] as number) / (Math.sqrt((v[j] as number) / d2) + h.eps)),
      );
    });
    assertClose(
      runOurs((g) => new RAdam(g, h), 22, 8),
      expected,
      1e-5,
      'RAdam vs fastai',
    );
  });

  it('QHAdam follows fastai qhadam_step with its defaults (mom 0.999, nu1 0.7, nu2 1)', () => {
    const opt = new QHAdam([[tf.variable(tf.zeros([1]))]]);
    assert.deepEqual(opt.paramGroups[0]?.hypers, {
      lr: 1e-3,
      mom: 0.999,
      sqrMom: 0.999,
      nu1: 0.7,
      nu2: 1,
      eps: 1e-8,
      wd: 0,
    });
    opt.dispose();
    const h = { lr: 0.01, mom: 0.9, sqrMom: 0.99, nu1: 0.7, nu2: 0.8, eps: 1e-8, wd: 0.05 };
    const expected = hand(23, 4, (p, g, state, t) => {
      const w = p.map((x) => x * (1 - h.lr * h.wd));
      const { m, v } = averages(state, g, h.mom, h.sqrMom);
      const d1 = 1 - h.mom ** t;
      const d2 = 1 - h.sqrMom ** t;
      return w.map((x, j) => {
        const gj = g[j] as number;
        const num = (1 - h.nu1) * gj + (h.nu1 * (m[j] as number)) / d1;
        const den = Math.sqrt((1 - h.nu2) * gj * gj + (h.nu2 * (v[j] as number)) / d2) + h.eps;
        return x - (h.lr * num) / den;
      });
    });
    assertClose(
      runOurs((g) => new QHAdam(g, h), 23, 4),
      expected,
      1e-5,
      'QHAdam vs fastai',
    );
  });

  for (const clip of [true, false]) {
    it(`Larc (clip: ${clip}) follows fastai larc_layer_lr + larc_step, per tensor`, () => {
      const h = { lr: 0.5, mom: 0.9, trustCoeff: 0.02, eps: 1e-8, wd: 0.01 };
      const expected = hand(24, 4, (p, g, state) => {
        const w = p.map((x) => x * (1 - h.lr * h.wd));
        state.m = (state.m ?? zeros(g)).map((m, j) => h.mom * m + (g[j] as number));
        const pn = norm(w);
        let local = (h.lr * h.trustCoeff * pn) / (norm(g) + pn * h.wd + h.eps);
        if (clip) local = Math.min(h.lr, local);
        return w.map((x, j) => x - local * ((state.m as Vec)[j] as number));
      });
      const ours = runOurs((g) => new Larc(g, { ...h, clip }), 24, 4);
      assertClose(ours, expected, 1e-5, `Larc clip=${clip} vs fastai`);
    });
  }

  it('Lookahead over SGD: every k steps the slow weights move alpha towards the fast ones', () => {
    const h = { lr: 0.1, mom: 0.9, wd: 0 };
    const k = 3;
    const alpha = 0.5;
    const expected = hand(25, 7, (p, g, state, t) => {
      state.slow ??= [...p];
      state.m = (state.m ?? zeros(g)).map((m, j) => h.mom * m + (g[j] as number));
      let w = p.map((x, j) => x - h.lr * ((state.m as Vec)[j] as number));
      if (t % k === 0) {
        state.slow = (state.slow as Vec).map((s, j) => s + alpha * ((w[j] as number) - s));
        w = [...state.slow];
      }
      return w;
    });
    const ours = runOurs((g) => new Lookahead(new SGD(g, h), { k, alpha }), 25, 7);
    assertClose(ours, expected, 1e-5, 'Lookahead(SGD) vs fastai');
  });

  it('Lookahead keeps the inner optimizer groups, hypers and flags, and refuses a used one', () => {
    const a = tf.variable(tf.ones([2]));
    const b = tf.variable(tf.ones([2]));
    const inner = new Adam([[a], [b]], { lr: 0.1 });
    inner.setHyper('lr', [0.01, 0.1]);
    (inner.flags.get(b) as { doWd: boolean }).doWd = false;
    const opt = new Lookahead(inner);
    assert.deepEqual(opt.getHyper('lr'), [0.01, 0.1]);
    assert.deepEqual(opt.getHyper('k'), [6, 6]);
    assert.equal(opt.flags.get(b)?.doWd, false);
    assert.deepEqual(opt.bufferNames, ['slowWeights', 'gradAvg', 'sqrAvg']);
    const used = new SGD([[a]], { lr: 0.1 });
    const g = tf.onesLike(a);
    used.step(new Map([[a, g]]));
    assert.throws(() => new Lookahead(used), /has already stepped/);
    assert.throws(() => new Lookahead(new SGD([[a]]), { k: 0 }), /`k` must be an integer >= 1/);
    tf.dispose([g]);
    used.dispose();
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('ranger is Lookahead over RAdam with fastai defaults', () => {
    const v = tf.variable(tf.zeros([1]));
    const opt = ranger([[v]], { lr: 0.003 });
    assert.ok(opt instanceof Lookahead);
    assert.deepEqual(opt.paramGroups[0]?.hypers, {
      lr: 0.003,
      mom: 0.95,
      sqrMom: 0.99,
      eps: 1e-6,
      wd: 0.01,
      beta: 0,
      k: 6,
      alpha: 0.5,
    });
    opt.dispose();
    v.dispose();
  });

  it('Lamb takes decoupleWd: false (L2 in the gradient), as fastai does', () => {
    const h = { lr: 0.05, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.1 };
    const expected = hand(26, 3, (p, g, state, t) => {
      const g2 = g.map((x, j) => x + h.wd * (p[j] as number));
      const { m, v } = averages(state, g2, h.mom, h.sqrMom);
      const d1 = 1 - h.mom ** t;
      const d2 = 1 - h.sqrMom ** t;
      const s = m.map((mj, j) => mj / d1 / (Math.sqrt((v[j] as number) / d2) + h.eps));
      const rms = (x: Vec) => norm(x) / Math.sqrt(x.length);
      const q = Math.min(rms(p) / rms(s), 10);
      return p.map((x, j) => x - h.lr * q * (s[j] as number));
    });
    const ours = runOurs((g) => new Lamb(g, { ...h, decoupleWd: false }), 26, 3);
    assertClose(ours, expected, 1e-5, 'Lamb L2 vs fastai');
  });

  it('a custom optimizer is a list of steps; a step reading a missing hyper is refused', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const g = tf.tensor1d([0.5, -1]);
    const opt = new Optimizer([[v]], { lr: 0.1, mom: 0.9, wd: 0 }, [
      weightDecay,
      averageGrad(false),
      momentumStep,
    ]);
    // one tensor kept: the parameter's `gradAvg` buffer, allocated on its first step
    await expectNoLeaks(() => opt.step(new Map([[v, g]])), 1);
    assert.deepEqual(Array.from(v.dataSync()), [Math.fround(1 - 0.1 * 0.5), Math.fround(2 + 0.1)]);
    opt.dispose();
    const reads: OptimizerStep<'lr' | 'gamma'> = {
      name: 'gammaStep',
      hypers: ['lr', 'gamma'],
      buffers: [],
      apply: () => {},
    };
    assert.throws(
      () => new Optimizer([[v]], { lr: 0.1 }, [reads]),
      (err: unknown) =>
        err instanceof ValueError && /step `gammaStep` reads `gamma`, missing/.test(err.message),
    );
    tf.dispose([v, g]);
  });
});
