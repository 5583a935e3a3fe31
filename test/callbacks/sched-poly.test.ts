import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { schedPoly } from '../../src/callbacks/sched-poly.js';
import { combineScheds, schedLin } from '../../src/callbacks/schedule.js';

const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('schedPoly', () => {
  it("follows fastai's SchedPoly: start + (end - start) * pos ** power", () => {
    // fastai: SchedPoly(0, 2, 2) at [0, 0.5, 1] -> [0, 0.5, 2]; SchedPoly(0, 2, 0.5) at
    // [0, 0.25, 1] -> [0, 1, 2].
    const sq = schedPoly(0, 2, 2);
    for (const [i, v] of [0, 0.5, 2].entries()) near(sq([0, 0.5, 1][i]!), v, `power 2 at ${i}`);
    const root = schedPoly(0, 2, 0.5);
    for (const [i, v] of [0, 1, 2].entries()) near(root([0, 0.25, 1][i]!), v, `power 0.5 at ${i}`);
    // Decreasing, as the "poly" learning-rate decay: 1e-2 * (1 - pos ** 0.9) ... ends at 0.
    const decay = schedPoly(1e-2, 0, 0.9);
    near(decay(0), 1e-2, 'decay start');
    near(decay(0.5), 1e-2 * (1 - 0.5 ** 0.9), 'decay middle');
    near(decay(1), 0, 'decay end');
    // Power 1 is the linear schedule; it composes like the other schedules.
    for (const p of [0, 0.3, 0.8]) near(schedPoly(3, 1, 1)(p), schedLin(3, 1)(p), `linear ${p}`);
    const s = combineScheds([0.5, 0.5], [schedPoly(0, 1, 2), schedPoly(1, 0, 2)]);
    near(s(0.25), 0.25, 'first half at its middle');
    near(s(0.75), 0.75, 'second half at its middle');
    assert.throws(() => schedPoly(0, 1, Number.NaN), /power/);
  });
});
