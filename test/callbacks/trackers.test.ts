import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { CSVLogger } from '../../src/callbacks/csv-logger.js';
import { EarlyStopping } from '../../src/callbacks/early-stopping.js';
import { ReduceLROnPlateau } from '../../src/callbacks/reduce-lr-on-plateau.js';
import { SaveModel } from '../../src/callbacks/save-model.js';
import type { Callback } from '../../src/learner/events.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { blobsLearner, disposeAll, optStateToAllocate, weightValues } from '../learner/fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tsfast-cb-'));

describe('trackers', () => {
  before(async () => {
    await ready();
  });

  it('EarlyStopping stops after `patience` epochs without improvement', async () => {
    const { learn, dls } = blobsLearner(41);
    const stop = new EarlyStopping({ patience: 2, minDelta: 0.05 });
    assert.equal(stop.mode, 'min');
    // lr 0: the validation loss cannot improve after the first epoch
    await learn.fit(10, 0, { cbs: [stop] });
    assert.equal(learn.recorder.values.length, 3);
    assert.equal(stop.stoppedEpoch, 2);
    const acc = new EarlyStopping({ monitor: 'accuracy' });
    assert.equal(acc.mode, 'max');
    await assert.rejects(
      learn.fit(1, 0, { cbs: [new EarlyStopping({ monitor: 'f1' })] }),
      /cannot monitor "f1". Available: train_loss, valid_loss, accuracy/,
    );
    disposeAll(learn, dls);
  });

  it('SaveModel saves on improvement and reloads the best weights at the end', async () => {
    const { learn, dls, model } = blobsLearner(42, { path: tmp() });
    let best: Float32Array[] = [];
    const capture: Callback = {
      name: 'capture',
      order: 70,
      afterEpoch: ({ epoch }) => {
        if (epoch === 0) best = weightValues(model);
      },
    };
    // after epoch 0, wreck the weights so every later epoch is worse
    const wreck: Callback = {
      name: 'wreck',
      beforeEpoch: ({ epoch }) => {
        if (epoch === 0) return;
        for (const w of model.weights) {
          const v = w.read() as tf.Variable;
          tf.tidy(() => v.assign(v.add(tf.randomNormal(v.shape, 0, 3, 'float32', 7))));
        }
      },
    };
    const saver = new SaveModel({ fname: 'best' });
    await expectNoLeaks(
      () => learn.fit(3, 1e-2, { cbs: [saver, capture, wreck] }),
      optStateToAllocate(learn),
    );
    assert.equal(saver.bestEpoch, 0);
    const now = weightValues(model);
    best.forEach((w, i) => {
      assert.deepEqual(now[i], w, `weight ${i} is not the best epoch's`);
    });
    const [validLoss] = await learn.validate();
    assert.ok(Math.abs((validLoss as number) - (learn.recorder.values[0]?.[1] as number)) < 1e-6);
    disposeAll(learn, dls);
  });

  it('ReduceLROnPlateau divides the LR by `factor` when the monitored value stalls', async () => {
    const { learn, dls } = blobsLearner(43);
    const lrs: number[] = [];
    const seen: Callback = {
      name: 'lrSeen',
      order: 70,
      afterEpoch: ({ learn: l }) => void lrs.push(l.opt.getHyper('lr')[0] as number),
    };
    await learn.fit(3, 1e-9, {
      cbs: [new ReduceLROnPlateau({ minDelta: 0.01, factor: 10 }), seen],
    });
    assert.deepEqual(
      lrs.map((v) => Number(v.toPrecision(6))),
      [1e-9, 1e-10, 1e-11],
    );
    disposeAll(learn, dls);
  });

  it('CSVLogger writes the table', async () => {
    const dir = tmp();
    const { learn, dls } = blobsLearner(44, { path: dir });
    await learn.fit(2, 1e-3, { cbs: [new CSVLogger()] });
    const lines = readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'epoch,train_loss,valid_loss,accuracy,time');
    assert.match(lines[2] as string, /^1,[\d.]+,[\d.]+,[\d.]+,\d\d:\d\d$/);
    disposeAll(learn, dls);
  });
});
