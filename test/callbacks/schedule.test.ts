import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ready } from '../../src/backend/ready.js';
import { combineScheds, schedCos, schedExp, schedLin } from '../../src/callbacks/schedule.js';
import type { Callback } from '../../src/learner/events.js';
import { lrRange } from '../../src/learner/lr-range.js';
import { blobsLearner, disposeAll } from '../learner/fixtures.js';

/** fastai's cosine annealing, written out: start + (1 + cos(pi * (1 - p))) * (end - start) / 2. */
const cos = (start: number, end: number, p: number) =>
  start + ((1 + Math.cos(Math.PI * (1 - p))) * (end - start)) / 2;

/** fastai's one-cycle value at position pos: two cosine phases split at pct. */
function oneCycle(pos: number, pct: number, start: number, mid: number, end: number): number {
  return pos < pct ? cos(start, mid, pos / pct) : cos(mid, end, (pos - pct) / (1 - pct));
}

/** Records every group's lr and mom as the optimizer step sees them. */
function spy(): Callback & { lrs: number[][]; moms: number[][]; frozen: number[] } {
  const out = {
    name: 'hyperSpy',
    order: 70,
    runOn: 'train' as const,
    lrs: [] as number[][],
    moms: [] as number[][],
    frozen: [] as number[],
    beforeStep: ({ learn }: { learn: import('../../src/learner/learner.js').Learner }) => {
      out.lrs.push(learn.opt.getHyper('lr'));
      out.moms.push(learn.opt.getHyper('mom'));
      out.frozen.push(learn.frozenIndex);
    },
  };
  return out;
}

const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('schedules', () => {
  before(async () => {
    await ready();
  });

  it('pure schedules', () => {
    near(schedLin(1, 3)(0.25), 1.5, 'lin');
    near(schedCos(0, 1)(0.5), 0.5, 'cos mid');
    near(schedCos(2, 1)(1), 1, 'cos end');
    near(schedExp(1e-7, 10)(0.5), 1e-3, 'exp');
    const s = combineScheds([0.4, 0.6], [schedLin(0, 1), schedLin(1, 0)]);
    near(s(0.2), 0.5, 'phase 1');
    near(s(0.7), 0.5, 'phase 2');
    near(s(1), 0, 'end');
    assert.throws(
      () => combineScheds([0.5, 0.6], [schedLin(0, 1), schedLin(1, 0)]),
      /summing to 1/,
    );
  });

  it("fitOneCycle: LR and momentum equal fastai's formulas at every batch, for every group", async () => {
    const { learn, dls } = blobsLearner(31);
    const s = spy();
    const [lo, hi] = [1e-4, 1e-2];
    await learn.fitOneCycle(3, lrRange(lo, hi), { cbs: [s] });
    const total = 3 * dls.train.numBatches;
    assert.equal(s.lrs.length, total);
    s.lrs.forEach((lrs, i) => {
      const pos = i / total;
      [lo, hi].forEach((lrMax, g) => {
        near(
          lrs[g] as number,
          oneCycle(pos, 0.25, lrMax / 25, lrMax, lrMax / 1e5),
          `lr group ${g} batch ${i}`,
        );
      });
      near(s.moms[i]?.[0] as number, oneCycle(pos, 0.25, 0.95, 0.85, 0.95), `mom batch ${i}`);
    });
    // the Recorder saw the same values for the last group
    assert.deepEqual(
      learn.recorder.lrs,
      s.lrs.map((l) => l[1]),
    );
    disposeAll(learn, dls);
  });

  it("fitFlatCos and fitSgdr follow fastai's schedules", async () => {
    const { learn, dls } = blobsLearner(32);
    const n = dls.train.numBatches;
    let s = spy();
    await learn.fitFlatCos(2, 1e-3, { cbs: [s] });
    s.lrs.forEach((l, i) => {
      near(l[0] as number, oneCycle(i / (2 * n), 0.75, 1e-3, 1e-3, 1e-3 / 1e5), `flat-cos ${i}`);
    });
    s = spy();
    await learn.fitSgdr(2, 1, 1e-3, { cbs: [s] }); // cycles of 1 and 2 epochs
    assert.equal(s.lrs.length, 3 * n);
    s.lrs.forEach((l, i) => {
      const pos = i / (3 * n);
      const expected = pos < 1 / 3 ? cos(1e-3, 0, pos * 3) : cos(1e-3, 0, (pos - 1 / 3) * 1.5);
      near(l[0] as number, expected, `sgdr ${i}`);
    });
    disposeAll(learn, dls);
  });

  it('fineTune: frozen one-cycle at lrRange(base), then unfrozen at lrRange(base/2/100, base/2)', async () => {
    const { learn, dls } = blobsLearner(33);
    const s = spy();
    const n = dls.train.numBatches;
    await learn.fineTune(1, 2e-3, { cbs: [s] });
    assert.equal(s.lrs.length, 2 * n);
    assert.deepEqual(s.frozen, [...Array(n).fill(1), ...Array(n).fill(0)]);
    // frozen phase: lrRange(2e-3) = [2e-4, 2e-3], pctStart 0.99, div 25
    s.lrs.slice(0, n).forEach((l, i) => {
      near(l[1] as number, oneCycle(i / n, 0.99, 2e-3 / 25, 2e-3, 2e-3 / 1e5), `frozen ${i}`);
      near(l[0] as number, oneCycle(i / n, 0.99, 2e-4 / 25, 2e-4, 2e-4 / 1e5), `frozen body ${i}`);
    });
    // unfrozen: lrRange(1e-5, 1e-3) over 2 groups, pctStart 0.3, div 5
    s.lrs.slice(n).forEach((l, i) => {
      near(l[0] as number, oneCycle(i / n, 0.3, 1e-5 / 5, 1e-5, 1e-5 / 1e5), `body ${i}`);
      near(l[1] as number, oneCycle(i / n, 0.3, 1e-3 / 5, 1e-3, 1e-3 / 1e5), `head ${i}`);
    });
    disposeAll(learn, dls);
  });

  it('fineTune({ unfrozenLr }): the unfrozen cycle peaks at unfrozenLr, the frozen one is unchanged', async () => {
    const { learn, dls } = blobsLearner(34);
    const s = spy();
    const n = dls.train.numBatches;
    await learn.fineTune(1, 2e-3, { cbs: [s], unfrozenLr: 1e-4 });
    s.lrs.slice(0, n).forEach((l, i) => {
      near(l[1] as number, oneCycle(i / n, 0.99, 2e-3 / 25, 2e-3, 2e-3 / 1e5), `frozen ${i}`);
    });
    // unfrozen: lrRange(1e-6, 1e-4) over 2 groups, pctStart 0.3, div 5
    s.lrs.slice(n).forEach((l, i) => {
      near(l[0] as number, oneCycle(i / n, 0.3, 1e-6 / 5, 1e-6, 1e-6 / 1e5), `body ${i}`);
      near(l[1] as number, oneCycle(i / n, 0.3, 1e-4 / 5, 1e-4, 1e-4 / 1e5), `head ${i}`);
    });
    await assert.rejects(() => learn.fineTune(1, 2e-3, { unfrozenLr: 0 }), /unfrozenLr/);
    disposeAll(learn, dls);
  });

  it('fineTune({ freezePctStart }): the frozen cycle warms up for that fraction, the unfrozen one is unchanged', async () => {
    const { learn, dls } = blobsLearner(35);
    const s = spy();
    const n = dls.train.numBatches;
    await learn.fineTune(1, 2e-3, { cbs: [s], freezePctStart: 0.25 });
    s.lrs.slice(0, n).forEach((l, i) => {
      near(l[1] as number, oneCycle(i / n, 0.25, 2e-3 / 25, 2e-3, 2e-3 / 1e5), `frozen ${i}`);
    });
    s.lrs.slice(n).forEach((l, i) => {
      near(l[1] as number, oneCycle(i / n, 0.3, 1e-3 / 5, 1e-3, 1e-3 / 1e5), `head ${i}`);
    });
    for (const bad of [0, 1, -0.1, Number.NaN]) {
      await assert.rejects(
        () => learn.fineTune(1, 2e-3, { freezePctStart: bad }),
        /freezePctStart/,
      );
    }
    disposeAll(learn, dls);
  });
});
