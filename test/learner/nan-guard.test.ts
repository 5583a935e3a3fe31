import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { TerminateOnNaN } from '../../src/callbacks/terminate-on-nan.js';
import { TsfastError } from '../../src/core/errors.js';
import { CancelBatch, CancelStep } from '../../src/learner/cancel.js';
import type { Callback, EventContext, EventName } from '../../src/learner/events.js';
import { blobsLearner, disposeAll } from './fixtures.js';

// Makes the model output of one batch NaN (inputs would not do: relu maps NaN to 0 on wasm).
const poison = (at: number, phase: 'train' | 'valid' = 'train'): Callback => ({
  name: 'poison',
  afterPred: ({ learn, training, iter, epoch }) => {
    if (training === (phase === 'train') && epoch === 0 && iter === at) {
      learn.replacePred(learn.pred.mul(Number.NaN));
    }
  },
});

describe('ctx.loss and the NaN guard', () => {
  before(async () => {
    await ready();
  });

  it('ctx.loss is undefined before afterLoss and the batch loss from afterLoss on', async () => {
    const { learn, dls } = blobsLearner(6);
    const seen = new Map<EventName, Set<string>>();
    const record = (e: EventName) => (ctx: EventContext) => {
      const kinds = seen.get(e) ?? new Set<string>();
      kinds.add(ctx.loss === undefined ? 'undefined' : typeof ctx.loss);
      seen.set(e, kinds);
    };
    const events: EventName[] = [
      'beforeBatch',
      'afterPred',
      'afterLoss',
      'beforeBackward',
      'afterBackward',
      'afterStep',
      'afterBatch',
    ];
    const probe: Callback = {
      name: 'probe',
      ...Object.fromEntries(events.map((e) => [e, record(e)])),
    };
    let lossInAfterLoss = Number.NaN;
    let lossInAfterBatch = Number.NaN;
    const compare: Callback = {
      name: 'compare',
      afterLoss: ({ learn: l, loss, training, iter }) => {
        if (training && iter === 0) {
          lossInAfterLoss = loss as number;
          assert.equal(loss, (l.lossTensor as tf.Scalar).dataSync()[0]);
        }
      },
      afterBatch: ({ loss, training, iter }) => {
        if (training && iter === 0) lossInAfterBatch = loss as number;
      },
    };
    await learn.fit(1, 1e-3, { cbs: [probe, compare] });
    assert.deepEqual([...(seen.get('beforeBatch') ?? [])], ['undefined']);
    assert.deepEqual([...(seen.get('afterPred') ?? [])], ['undefined']);
    for (const e of events.slice(2)) {
      assert.deepEqual([...(seen.get(e) ?? [])], ['number'], e);
    }
    assert.ok(Number.isFinite(lossInAfterLoss) && lossInAfterLoss > 0);
    assert.equal(lossInAfterBatch, lossInAfterLoss);
    disposeAll(learn, dls);
  });

  it("the guide's NaN guard cancels only the NaN batch and the fit carries on", async () => {
    const { learn, dls } = blobsLearner(7);
    // As docs/guide.md writes it:
    const nanGuard: Callback = {
      name: 'nanGuard',
      afterLoss: ({ loss }) => {
        if (loss !== undefined && !Number.isFinite(loss)) throw new CancelBatch('NaN loss');
      },
    };
    let cancelled = 0;
    let steps = 0;
    const count: Callback = {
      name: 'count',
      afterCancelBatch: () => void cancelled++,
      afterStep: () => void steps++,
    };
    await learn.fit(1, 1e-3); // optimizer state
    const n0 = tf.memory().numTensors;
    await learn.fit(2, 1e-2, { cbs: [poison(2), nanGuard, count] });
    assert.equal(tf.memory().numTensors, n0);
    assert.equal(cancelled, 1, 'only the poisoned batch is cancelled');
    assert.equal(steps, 2 * 6 - 1, 'every other training batch stepped');
    for (const v of learn.model.weights) assert.ok(v.read().dataSync().every(Number.isFinite));
    assert.equal(learn.recorder.values.length, 2);
    assert.ok(learn.recorder.values.every((row) => row.every(Number.isFinite)));
    disposeAll(learn, dls);
  });

  it('without a guard a NaN training loss stops the fit with NAN_LOSS, leaking nothing', async () => {
    const { learn, dls } = blobsLearner(8);
    await learn.fit(1, 1e-3);
    const n0 = tf.memory().numTensors;
    await assert.rejects(
      learn.fit(1, 1e-3, { cbs: [poison(3)] }),
      (e: unknown) =>
        e instanceof TsfastError && e.code === 'NAN_LOSS' && /batch 3/.test(e.message),
    );
    assert.equal(tf.memory().numTensors, n0);
    disposeAll(learn, dls);
  });

  it('CancelStep on a NaN loss is not a failure either', async () => {
    const { learn, dls } = blobsLearner(9);
    let skipped = 0;
    const skip: Callback = {
      name: 'skip',
      beforeStep: ({ loss }) => {
        if (loss !== undefined && !Number.isFinite(loss)) throw new CancelStep();
      },
      afterCancelStep: () => void skipped++,
    };
    await learn.fit(1, 1e-3, { cbs: [poison(1), skip] });
    assert.equal(skipped, 1);
    disposeAll(learn, dls);
  });

  it('TerminateOnNaN stops a diverging fit (lr 1e6) on its first non-finite loss', async () => {
    const lines: string[] = [];
    const { learn, dls } = blobsLearner(3, { logger: (l) => lines.push(l) });
    const stop = new TerminateOnNaN();
    const losses: number[] = [];
    const spy: Callback = {
      name: 'spy',
      order: -20, // before TerminateOnNaN cancels the fit
      afterBatch: ({ loss, training }) => {
        if (training && loss !== undefined) losses.push(loss);
      },
    };
    await learn.fit(3, 1e6, { cbs: [stop, spy] });
    assert.equal(stop.terminated, true);
    const firstBad = losses.findIndex((l) => !Number.isFinite(l));
    assert.ok(firstBad >= 0);
    assert.equal(firstBad, losses.length - 1, 'no batch ran after the first non-finite loss');
    assert.ok(
      lines.some((l) => /terminating training/.test(l)),
      lines.join('\n'),
    );
    disposeAll(learn, dls);
  });

  it('the Learner reports a non-finite validation loss through its logger', async () => {
    const lines: string[] = [];
    const { learn, dls } = blobsLearner(10, { logger: (l) => lines.push(l) });
    await learn.fit(1, 1e-3, { cbs: [poison(0, 'valid')] });
    const report = lines.find((l) => /Validation loss is not finite/.test(l));
    assert.ok(report, lines.join('\n'));
    assert.match(report, /in 1 of 2 batches at epoch 0/);
    disposeAll(learn, dls);
  });

  it('the SIGINT handler exists only while a fit runs, also when the fit fails', async () => {
    const { learn, dls } = blobsLearner(13);
    const n0 = process.listenerCount('SIGINT');
    let during = -1;
    const spy: Callback = {
      name: 'spy',
      beforeFit: () => {
        during = process.listenerCount('SIGINT');
      },
    };
    await learn.fit(1, 1e-3, { cbs: [spy] });
    assert.equal(during, n0 + 1);
    assert.equal(process.listenerCount('SIGINT'), n0);
    await assert.rejects(learn.fit(1, 1e-3, { cbs: [poison(0)] }));
    assert.equal(process.listenerCount('SIGINT'), n0);
    disposeAll(learn, dls);
  });
});
