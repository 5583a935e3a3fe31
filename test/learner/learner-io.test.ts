import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { DataError, ValueError } from '../../src/core/errors.js';
import { expectNoLeaks } from '../../src/testing/leak-check.js';
import { blobsLearner, disposeAll, weightValues } from './fixtures.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const tmp = () => mkdtempSync(join(tmpdir(), 'tsfast-io-'));

describe('save, load, export, loadLearner', () => {
  before(async () => {
    await ready();
  });

  it('save/load restores weights and optimizer state exactly, without leaks', async () => {
    const { learn, dls, model } = blobsLearner(71, { path: tmp() });
    await learn.fit(1, 1e-2);
    const dir = await learn.save('stage-1');
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 4, files.join(', '));
    assert.match(
      files.join(' '),
      /^opt\.[0-9a-f]{8}\.bin opt\.json weights\.[0-9a-f]{8}\.bin weights\.json$/,
    );
    const w0 = weightValues(model);
    const s0 = learn.opt.getState();
    await learn.fit(1, 1e-2);
    await expectNoLeaks(() => learn.load('stage-1'));
    weightValues(model).forEach((w, i) => {
      assert.deepEqual(w, w0[i]);
    });
    const s1 = learn.opt.getState();
    assert.deepEqual(s1.steps, s0.steps);
    for (const [k, t] of Object.entries(s0.tensors)) {
      assert.deepEqual((s1.tensors[k] as tf.Tensor).dataSync(), t.dataSync());
    }
    tf.dispose([...Object.values(s0.tensors), ...Object.values(s1.tensors)]);
    await assert.rejects(
      learn.load('nope'),
      (e: unknown) => e instanceof DataError && /No checkpoint "nope"/.test(e.message),
    );
    disposeAll(learn, dls);
  });

  it('export then loadLearner in a new process predicts identically', async () => {
    const path = tmp();
    const { learn, dls } = blobsLearner(72, { path });
    await learn.fit(2, 1e-2);
    const dir = await learn.export('pets-like');
    const rows = [
      [0.1, -0.2, 0.3, 1, 0, 2, -1, 0.5],
      [1, 1, 1, 1, -1, -1, -1, -1],
      [-2, 0, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5],
    ];
    writeFileSync(join(dir, 'inputs.json'), JSON.stringify(rows));
    const expected = tf.tidy(() =>
      Array.from(
        learn.lossFunc.activation(learn.model.predict(tf.tensor2d(rows)) as tf.Tensor).dataSync(),
      ),
    );
    const here = await learn.predict(tf.tensor1d(rows[0] as number[]));
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(HERE, 'fixtures', 'predict-child.ts'), dir],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env } },
    );
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout) as {
      preds: number[];
      label: string;
      loss: string;
      vocab: string[];
      data: unknown;
    };
    assert.deepEqual(out.preds, expected);
    assert.equal(out.label, here.label);
    assert.equal(out.loss, 'CrossEntropyLossFlat');
    assert.deepEqual(out.vocab, ['a', 'b', 'c']);
    assert.deepEqual(out.data, { kind: 'synthetic', bs: 32, vocab: ['a', 'b', 'c'] });
    disposeAll(learn, dls);
  });

  it('refuses to export a plain-function loss, naming it', async () => {
    const { learn, dls } = blobsLearner(73, {
      path: tmp(),
      lossFunc: function myLoss(p: tf.Tensor, t: tf.Tensor) {
        return tf.losses.softmaxCrossEntropy(tf.oneHot(t.toInt(), 3), p);
      },
    });
    await assert.rejects(
      learn.export(),
      (e: unknown) => e instanceof ValueError && /Cannot export loss "myLoss"/.test(e.message),
    );
    disposeAll(learn, dls);
  });
});
