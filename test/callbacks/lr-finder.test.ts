import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { minimum, slide, steep, valley } from '../../src/callbacks/lr-finder.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { blobsLearner, disposeAll, weightValues } from '../learner/fixtures.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PY = '/usr/bin/python3';
const noNumpy =
  spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0
    ? false
    : `numpy is not importable by ${PY}`;

/** A typical LR-finder curve: flat, a long descent, a minimum, then divergence. */
function curve(n: number): { lrs: number[]; losses: number[] } {
  const lrs = Array.from({ length: n }, (_, i) => 1e-6 * 10 ** ((6 * i) / (n - 1)));
  const losses = lrs.map((lr) => {
    const x = Math.log10(lr) + 6; // 0 .. 6
    return (
      2.3 -
      1.5 / (1 + Math.exp(-3 * (x - 3))) +
      0.02 * Math.sin(7 * x) +
      (x > 4.8 ? (x - 4.8) ** 2 * 3 : 0)
    );
  });
  return { lrs, losses };
}

describe('LR finder', () => {
  before(async () => {
    await ready();
  });

  it('valley, steep and minimum on a hand-checked curve', () => {
    const lrs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
    const losses = [5, 4, 2, 1.5, 1.4, 3];
    // longest decreasing run: indices 0..4 (lds 5), fastai sets start = end - lds = -1:
    // sections = 5/3, idx = -1 + 1 + int(0.83) = 0
    assert.equal(valley(lrs, losses).lr, 1e-5);
    // steepest drop 4 -> 2 between indices 1 and 2: fastai returns lrs[1]
    assert.equal(steep(lrs, losses).lr, 1e-4);
    // minimum loss 1.4 at 1e-1: one tenth of it
    assert.ok(Math.abs(minimum(lrs, losses).lr - 1e-2) < 1e-15);
    assert.deepEqual(minimum(lrs, losses).point, [1e-1, 1.4]);
  });

  it("valley, slide, minimum and steep equal fastai's code (numpy transcription)", {
    skip: noNumpy,
  }, () => {
    for (const n of [40, 90]) {
      const { lrs, losses } = curve(n);
      const r = spawnSync(PY, [join(HERE, 'fixtures', 'fastai_suggestions.py')], {
        input: JSON.stringify({ lrs, losses }),
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const ref = JSON.parse(r.stdout) as Record<string, number>;
      const ours = {
        valley: valley(lrs, losses).lr,
        slide: slide(lrs, losses).lr,
        minimum: minimum(lrs, losses).lr,
        steep: steep(lrs, losses).lr,
      };
      for (const [k, v] of Object.entries(ours)) {
        assert.ok(
          Math.abs(v / (ref[k] as number) - 1) < 1e-12,
          `${k} (n=${n}): ${v} vs fastai ${ref[k]}`,
        );
      }
    }
  });

  it('lrFind leaves weights and optimizer state bit-identical, leaks nothing, and plots', async () => {
    const { learn, dls, model } = blobsLearner(21);
    await learn.fit(1, 1e-2); // non-zero optimizer state
    const w0 = weightValues(model);
    const s0 = learn.opt.getState();
    const file = join(mkdtempSync(join(tmpdir(), 'tsfast-lr-')), 'lr.png');
    const result = await expectNoLeaks(() =>
      learn.lrFind({ numIt: 30, suggestFuncs: ['valley', 'steep', 'minimum'], file }),
    );
    const w1 = weightValues(model);
    w0.forEach((w, i) => {
      assert.deepEqual(w1[i], w, `weight ${i} changed`);
    });
    const s1 = learn.opt.getState();
    assert.deepEqual(s1.steps, s0.steps);
    assert.deepEqual(s1.hypers, s0.hypers);
    assert.deepEqual(Object.keys(s1.tensors).sort(), Object.keys(s0.tensors).sort());
    for (const [k, t] of Object.entries(s0.tensors)) {
      assert.deepEqual((s1.tensors[k] as tf.Tensor).dataSync(), t.dataSync(), `opt buffer ${k}`);
    }
    tf.dispose([...Object.values(s0.tensors), ...Object.values(s1.tensors)]);
    for (const k of ['valley', 'steep', 'minimum'] as const) {
      assert.ok((result[k] as number) > 1e-9 && (result[k] as number) < 10, `${k}=${result[k]}`);
    }
    // the exponential schedule, fastai's: startLr * (endLr / startLr) ** (i / numIt)
    learn.recorder.lrs.forEach((lr, i) => {
      assert.ok(Math.abs(lr / (1e-7 * (10 / 1e-7) ** (i / 30)) - 1) < 1e-9, `lr ${i}`);
    });
    assert.ok(learn.recorder.lrs.length <= 30);
    assert.ok(existsSync(file) && readFileSync(file).subarray(1, 4).toString() === 'PNG');
    disposeAll(learn, dls);
  });
});
