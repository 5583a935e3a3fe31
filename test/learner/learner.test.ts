import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { BnFreeze } from '../../src/callbacks/bn-freeze.js';
import { TerminateOnNaN } from '../../src/callbacks/terminate-on-nan.js';
import { CallbackError, TsfastError, ValueError } from '../../src/core/errors.js';
import { CancelBatch, CancelFit } from '../../src/learner/cancel.js';
import type { Callback, EventName } from '../../src/learner/events.js';
import { expectKernelsSupported } from '../../src/testing/kernel-guard.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { blobsLearner, disposeAll, optStateToAllocate, weightValues } from './fixtures.js';

const changed = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);

/** Indices of model.weights: dense1 k,b | bn gamma,beta | dense2 k,b | dense3 k,b | bn mean,var */
const W = {
  d1k: 0,
  d1b: 1,
  gamma: 2,
  beta: 3,
  d2k: 4,
  d2b: 5,
  d3k: 6,
  d3b: 7,
  mean: 8,
  variance: 9,
};

describe('Learner', () => {
  before(async () => {
    await ready();
  });

  it('fit trains, leaks no tensors, and a training step uses only tfjs-node kernels', async () => {
    const { learn, dls } = blobsLearner(1);
    await expectNoLeaks(() => learn.fit(2, 1e-2), optStateToAllocate(learn));
    const [first, second] = learn.recorder.values;
    assert.ok(
      (second?.[1] as number) < (first?.[1] as number),
      `train loss should fall: ${learn.recorder.values}`,
    );
    assert.deepEqual(learn.recorder.metricNames, [
      'epoch',
      'train_loss',
      'valid_loss',
      'accuracy',
      'time',
    ]);
    const stepper: Callback = {
      name: 'oneBatch',
      afterBatch: ({ training }) => {
        if (training) throw new CancelFit();
      },
    };
    const { kernels } = await expectKernelsSupported(() => learn.fit(1, 1e-3, { cbs: [stepper] }));
    for (const k of ['_FusedMatMul', 'OneHot', 'Sqrt', 'FusedBatchNorm']) {
      assert.ok(kernels.includes(k), `${k} not in ${kernels.join(',')}`);
    }
    disposeAll(learn, dls);
  });

  it('runs the events in fastai order', async () => {
    const { learn, dls } = blobsLearner(2);
    const seen: EventName[] = [];
    const recorder: Callback = new Proxy(
      { name: 'spy' },
      {
        get(target, prop) {
          if (prop === 'name') return 'spy';
          if (
            typeof prop === 'string' &&
            /^(before|after)[A-Z]/.test(prop) &&
            prop !== 'afterCreate'
          ) {
            return () => {
              seen.push(prop as EventName);
            };
          }
          return Reflect.get(target, prop);
        },
      },
    ) as Callback;
    await learn.fit(1, 1e-3, { cbs: [recorder] });
    const firstTrain = seen.slice(0, 11);
    assert.deepEqual(firstTrain, [
      'beforeFit',
      'beforeEpoch',
      'beforeTrain',
      'beforeBatch',
      'afterPred',
      'afterLoss',
      'beforeBackward',
      'afterBackward',
      'beforeStep',
      'afterStep',
      'afterBatch',
    ]);
    const v = seen.indexOf('beforeValidate');
    assert.deepEqual(seen.slice(v - 1, v + 5), [
      'afterTrain',
      'beforeValidate',
      'beforeBatch',
      'afterPred',
      'afterLoss',
      'afterBatch',
    ]);
    assert.deepEqual(seen.slice(-3), ['afterValidate', 'afterEpoch', 'afterFit']);
    // 6 training batches (192 / 32) and 2 validation batches
    assert.equal(seen.filter((e) => e === 'beforeStep').length, 6);
    assert.equal(seen.filter((e) => e === 'beforeBatch').length, 8);
    assert.ok(
      !learn.cbs.list.some((cb) => cb.name === 'spy'),
      'fit-scoped callbacks are removed after the fit',
    );
    disposeAll(learn, dls);
  });

  it('a frozen learner changes only the last group, plus BatchNorm when trainBn', async () => {
    const { learn, dls, model } = blobsLearner(3);
    learn.freeze();
    assert.equal(learn.frozenIndex, 1);
    const before = weightValues(model);
    await learn.fit(1, 1e-2);
    const after = weightValues(model);
    for (const i of [W.d1k, W.d1b, W.d2k, W.d2b])
      assert.ok(
        !changed(before[i] as Float32Array, after[i] as Float32Array),
        `weight ${i} of a frozen group changed`,
      );
    for (const i of [W.d3k, W.d3b, W.gamma, W.beta, W.mean, W.variance])
      assert.ok(
        changed(before[i] as Float32Array, after[i] as Float32Array),
        `weight ${i} did not change`,
      );
    learn.unfreeze();
    const mid = weightValues(model);
    await learn.fit(1, 1e-2);
    const end = weightValues(model);
    for (let i = 0; i < end.length; i++)
      assert.ok(
        changed(mid[i] as Float32Array, end[i] as Float32Array),
        `weight ${i} did not train after unfreeze`,
      );
    disposeAll(learn, dls);
  });

  it('a frozen learner holds optimizer state only for the parameters it trains', async () => {
    const { learn, dls, model } = blobsLearner(4);
    const v = (i: number) => model.weights[i]?.read() as tf.Variable;
    const frozen = [W.d1k, W.d1b, W.d2k, W.d2b];
    const trained = [W.d3k, W.d3b, W.gamma, W.beta]; // head, plus BatchNorm (trainBn)
    learn.freeze();
    assert.equal(learn.opt.state.size, 0, 'no state before the first step');
    const tensorsBefore = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    await learn.fit(1, 1e-2);
    for (const i of frozen) assert.ok(!learn.opt.state.has(v(i)), `frozen weight ${i} has state`);
    for (const i of trained) assert.equal(learn.opt.state.get(v(i))?.step, 6, `weight ${i}`);
    assert.equal(learn.opt.state.size, trained.length);
    // Adam keeps two buffers per trained parameter and nothing else survives the fit
    const trainedBytes = trained.reduce((n, i) => n + v(i).size * 4, 0);
    assert.equal(tf.memory().numTensors - tensorsBefore, 2 * trained.length);
    assert.equal(tf.memory().numBytes - bytesBefore, 2 * trainedBytes);
    // a snapshot names only the trained parameters, and lrFind restores exactly that
    const s0 = learn.opt.getState();
    const index = learn.opt.allParams;
    const owners = new Set(Object.keys(s0.tensors).map((k) => index[Number(k.split('/')[0])]));
    assert.deepEqual(
      new Set(trained.map(v)),
      owners,
      'snapshot buffers belong to the trained parameters',
    );
    await learn.lrFind({ numIt: 8 });
    const s1 = learn.opt.getState();
    assert.deepEqual(s1.steps, s0.steps);
    assert.deepEqual(Object.keys(s1.tensors).sort(), Object.keys(s0.tensors).sort());
    for (const [k, t] of Object.entries(s0.tensors))
      assert.deepEqual((s1.tensors[k] as tf.Tensor).dataSync(), t.dataSync(), `buffer ${k}`);
    tf.dispose([...Object.values(s0.tensors), ...Object.values(s1.tensors)]);
    assert.equal(learn.opt.state.size, trained.length);
    // unfreezing clears (frees) the state; the next fit allocates it for every parameter
    learn.unfreeze();
    assert.equal(learn.opt.state.size, 0);
    assert.equal(tf.memory().numTensors, tensorsBefore);
    await learn.fit(1, 1e-2);
    assert.equal(learn.opt.state.size, learn.opt.allParams.length);
    disposeAll(learn, dls);
  });

  it('trainBn: false keeps frozen BatchNorm scale/shift; BnFreeze also keeps its statistics', async () => {
    const { learn, dls, model } = blobsLearner(4, { trainBn: false });
    learn.freeze();
    let before = weightValues(model);
    await learn.fit(1, 1e-2);
    let after = weightValues(model);
    for (const i of [W.gamma, W.beta])
      assert.ok(!changed(before[i] as Float32Array, after[i] as Float32Array));
    for (const i of [W.mean, W.variance])
      assert.ok(
        changed(before[i] as Float32Array, after[i] as Float32Array),
        'BN runs in training mode without BnFreeze',
      );
    before = after;
    await learn.fit(1, 1e-2, { cbs: [new BnFreeze()] });
    after = weightValues(model);
    for (const i of [W.gamma, W.beta, W.mean, W.variance])
      assert.ok(
        !changed(before[i] as Float32Array, after[i] as Float32Array),
        `weight ${i} changed under BnFreeze`,
      );
    assert.ok(changed(before[W.d3k] as Float32Array, after[W.d3k] as Float32Array));
    disposeAll(learn, dls);
  });

  it('no weight decay on BatchNorm and bias unless wdBnBias', () => {
    const { learn, dls } = blobsLearner(5);
    const noWd = [...learn.paramInfo]
      .filter(([v]) => learn.opt.flags.get(v)?.doWd === false)
      .map(([, i]) => i.layerVariable.name);
    assert.equal(noWd.length, 5, noWd.join(', ')); // 3 biases + gamma + beta
    assert.ok(noWd.every((n) => /bias|gamma|beta/.test(n)));
    disposeAll(learn, dls);
    const other = blobsLearner(5, { wdBnBias: true });
    assert.ok([...other.learn.opt.flags.values()].every((f) => f.doWd));
    disposeAll(other.learn, other.dls);
  });

  it('CancelBatch thrown before the step skips it (weights unchanged, loss still recorded)', async () => {
    const { learn, dls, model } = blobsLearner(6);
    const cancelled: number[] = [];
    const skip: Callback = {
      name: 'skipStep',
      beforeStep: () => {
        throw new CancelBatch();
      },
      afterCancelBatch: ({ iter }) => {
        cancelled.push(iter);
      },
    };
    const before = weightValues(model).filter((_, i) => i < W.mean);
    await expectNoLeaks(() => learn.fit(1, 1e-2, { cbs: [skip] }));
    const after = weightValues(model).filter((_, i) => i < W.mean);
    after.forEach((w, i) => {
      assert.ok(!changed(before[i] as Float32Array, w), `weight ${i} changed`);
    });
    assert.deepEqual(cancelled, [0, 1, 2, 3, 4, 5]);
    assert.equal(learn.recorder.rawLosses.length, 6);
    disposeAll(learn, dls);
  });

  it('a NaN loss stops training with a NAN_LOSS error naming epoch, batch and lr', async () => {
    const { learn, dls } = blobsLearner(7);
    const poison: Callback = {
      name: 'poison',
      beforeBatch: ({ learn: l, iter, training }) => {
        if (training && iter === 2) l.replaceBatch(tf.fill(l.xb.shape, Number.NaN), l.yb);
      },
    };
    await expectNoLeaks(
      () =>
        assert.rejects(learn.fit(2, 1e-3, { cbs: [poison] }), (err: unknown) => {
          assert.ok(err instanceof TsfastError && err.code === 'NAN_LOSS');
          assert.match(
            err.message,
            /Training loss is NaN at epoch 0, batch 2 \(lr 0\.00100, 0\.00100\)/,
          );
          assert.match(err.message, /Lower the learning rate/);
          return true;
        }),
      optStateToAllocate(learn),
    );
    const quiet = new TerminateOnNaN();
    await learn.fit(2, 1e-3, { cbs: [poison, quiet] });
    assert.ok(quiet.terminated);
    assert.equal(learn.recorder.values.length, 0, 'fit cancelled in the first epoch');
    disposeAll(learn, dls);
  });

  it('two runs with one seed give identical losses', async () => {
    const run = async () => {
      const { learn, dls } = blobsLearner(8);
      await learn.fitOneCycle(2, 1e-2);
      const losses = [...learn.recorder.rawLosses];
      disposeAll(learn, dls);
      return losses;
    };
    const a = await run();
    const b = await run();
    assert.equal(a.length, 12);
    assert.deepEqual(a, b);
  });

  it('a failing callback is reported with its name and the event; async in-tape hooks are refused', async () => {
    const { learn, dls } = blobsLearner(9);
    const bad: Callback = {
      name: 'broken',
      afterStep: () => {
        throw new Error('boom');
      },
    };
    await assert.rejects(learn.fit(1, 1e-3, { cbs: [bad] }), (err: unknown) => {
      assert.ok(err instanceof CallbackError);
      assert.equal(err.message, 'Callback "broken" failed in "afterStep": boom');
      return true;
    });
    const asyncPred: Callback = { name: 'asyncPred', afterPred: async () => {} };
    await assert.rejects(
      learn.fit(1, 1e-3, { cbs: [asyncPred] }),
      /Callback "asyncPred" returned a promise from "afterPred"/,
    );
    assert.equal(learn.cbs.list.length, 3, 'fit-scoped callbacks removed after a failure');
    assert.throws(
      () => blobsLearner(9, { lrr: 1 } as never),
      (e: unknown) => e instanceof ValueError && /unknown option `lrr`/.test(e.message),
    );
    disposeAll(learn, dls);
  });

  it('callbacks run by order; showTrainingLoop lists them per event', async () => {
    const { learn, dls } = blobsLearner(10);
    const order: string[] = [];
    const late: Callback = { name: 'late', order: 100, beforeFit: () => void order.push('late') };
    const early: Callback = {
      name: 'early',
      order: -50,
      beforeFit: () => void order.push('early'),
    };
    learn.addCbs([late, early]);
    assert.deepEqual(
      learn.cbs.list.map((c) => c.name),
      ['early', 'trainEval', 'recorder', 'progress', 'late'],
    );
    const logged: string[] = [];
    learn.logger = (l) => logged.push(l);
    const plan = learn.showTrainingLoop();
    assert.deepEqual(logged, []); // returned, not printed
    assert.match(plan, /^beforeFit: early, trainEval, recorder, progress, late$/m);
    assert.match(plan, /^ {6}afterBatch: trainEval, recorder, progress$/m);
    await learn.noLogging(() =>
      learn.fit(1, 1e-3, {
        cbs: [
          {
            name: 'stop',
            beforeEpoch: () => {
              throw new CancelFit();
            },
          },
        ],
      }),
    );
    assert.deepEqual(order, ['early', 'late']);
    learn.removeCbs([late, early]);
    assert.equal(learn.cbs.get('late'), undefined);
    disposeAll(learn, dls);
  });

  it("Progress writes fastai's table through the logger", async () => {
    const lines: string[] = [];
    const { learn, dls } = blobsLearner(11, { logger: (l) => lines.push(l) });
    await learn.noBar(() => learn.fit(2, 1e-3));
    assert.equal(lines.length, 3);
    assert.match(lines[0] as string, /^epoch\s+train_loss\s+valid_loss\s+accuracy\s+time$/);
    assert.match(lines[1] as string, /^0\s+\d\.\d{6}\s+\d\.\d{6}\s+\d\.\d{6}\s+\d\d:\d\d$/);
    lines.length = 0;
    await learn.noLogging(() => learn.fit(1, 1e-3));
    assert.equal(lines.length, 0);
    disposeAll(learn, dls);
  });
});
