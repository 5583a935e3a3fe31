import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ready } from '../../src/backend/ready.js';
import { lossChartSvg, SmoothLoss } from '../../src/callbacks/recorder.js';
import { blobsLearner, disposeAll } from '../learner/fixtures.js';

describe('Recorder', () => {
  before(async () => {
    await ready();
  });

  it("SmoothLoss is fastai's debiased EMA", () => {
    const s = new SmoothLoss(0.98);
    const xs = [2, 1, 3, 0.5];
    let val = 0;
    xs.forEach((x, i) => {
      s.add(x);
      val = 0.98 * val + 0.02 * x;
      assert.ok(Math.abs(s.value - val / (1 - 0.98 ** (i + 1))) < 1e-12);
    });
    assert.equal(new SmoothLoss().value, Number.NaN);
  });

  it('records smoothed losses, lrs, moms, per-epoch values and iters; plots PNGs', async () => {
    const { learn, dls } = blobsLearner(51);
    await learn.fitOneCycle(2, 1e-2);
    const r = learn.recorder;
    const n = dls.train.numBatches;
    assert.equal(r.losses.length, 2 * n);
    assert.equal(r.lrs.length, 2 * n);
    assert.equal(r.moms.length, 2 * n);
    assert.deepEqual(r.iters, [n, 2 * n]);
    assert.equal(r.values.length, 2);
    // train_loss column = smoothed loss at the epoch's end
    assert.equal(r.values[1]?.[0], r.losses.at(-1));
    // smoothed losses recomputed from the raw ones
    let val = 0;
    r.rawLosses.forEach((l, i) => {
      val = 0.98 * val + 0.02 * l;
      assert.ok(Math.abs((r.losses[i] as number) - val / (1 - 0.98 ** (i + 1))) < 1e-9);
    });
    const dir = mkdtempSync(join(tmpdir(), 'tsfast-rec-'));
    for (const file of [
      await r.plotLoss({ file: join(dir, 'loss.png'), skipStart: 0 }),
      await r.plotSched({ file: join(dir, 'sched.png') }),
    ]) {
      const buf = readFileSync(file);
      assert.equal(buf.subarray(1, 4).toString(), 'PNG');
      assert.ok(buf.length > 2000);
    }
    disposeAll(learn, dls);
  });

  it('plotLoss says when too few points are left, and fails clearly when none is', () => {
    const rec = {
      losses: [0.9, 0.8, 0.7],
      iters: [3],
      values: [[0.8, 0.75, 0.5]],
      metricNames: ['epoch', 'train_loss', 'valid_loss', 'accuracy', 'time'],
    };
    assert.match(lossChartSvg(rec, { file: '', skipStart: 0 }), />learning curve</);
    assert.match(
      lossChartSvg(rec, { file: '', skipStart: 2 }),
      /learning curve: 1 step\(s\) after skipStart 2, too few for a line/,
    );
    assert.throws(
      () => lossChartSvg(rec, { file: '' }),
      /plotLoss: 3 training step\(s\) recorded and skipStart is 5, so no point is left to draw/,
    );
  });
});
