/**
 * exportSafetensors: the whole network (body and fastai head) loads with strict=True into
 * examples/pytorch/tsfast_models.py's PyTorch model and gives the same logits (Debian's
 * PyTorch, eval mode, random weights and BatchNorm statistics).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import type { BatchStream } from '../../../src/data/batch.js';
import { Learner } from '../../../src/learner/learner.js';
import { exportSafetensors } from '../../../src/vision/export/torch-export.js';
import { visionLearner } from '../../../src/vision/learner.js';
import { mobilenetV1 } from '../../../src/vision/models/archs.js';
import { readSafetensors } from '../../../src/vision/models/safetensors.js';
import { skipUnlessTorch, torchRoundTrip } from '../../support/torch-roundtrip.js';

const EMPTY: BatchStream = { numBatches: 0, numItems: 0, async *[Symbol.asyncIterator]() {} };

describe('exportSafetensors', () => {
  let work: string;
  before(async () => {
    await ready();
    work = await mkdtemp(join(tmpdir(), 'tsfast-torch-export-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes PyTorch layouts and names, read back by the safetensors reader', async () => {
    const dls = { train: EMPTY, valid: EMPTY, vocab: undefined, c: 4 };
    const learn = await visionLearner(dls, mobilenetV1({ alpha: 0.25 }), {
      pretrained: false,
      seed: 3,
    });
    const before = tf.memory().numTensors;
    const { file, keys } = await exportSafetensors(learn, join(work, 'v1.safetensors'));
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    const st = await readSafetensors(file);
    assert.deepEqual([...st.tensors.keys()], keys);
    assert.equal(st.metadata.naming, 'torchvision');
    assert.deepEqual(st.tensors.get('conv1.weight')?.shape, [8, 3, 3, 3]);
    assert.deepEqual(st.tensors.get('conv_dw_1.weight')?.shape, [8, 1, 3, 3]);
    assert.deepEqual(st.tensors.get('head.4.weight')?.shape, [512, 512]);
    assert.deepEqual(st.tensors.get('head.8.weight')?.shape, [4, 512]);
    assert.deepEqual(st.tensors.get('head.6.num_batches_tracked')?.shape, []);
    // A conv kernel [kh, kw, in, out] read back as [out, in, kh, kw].
    const kernel = learn.model.getLayer('conv1').getWeights()[0] as tf.Tensor;
    const k = (await kernel.array()) as number[][][][];
    const w = st.tensors.get('conv1.weight')?.data as Float32Array;
    assert.equal(w[((5 * 3 + 2) * 3 + 1) * 3 + 0], k[1]![0]![2]![5]);
    const fastai = await exportSafetensors(learn, join(work, 'v1-fastai.safetensors'), {
      naming: 'fastai',
    });
    assert.ok(fastai.keys.includes('0.conv_pw_13_bn.running_var'));
    assert.ok(fastai.keys.includes('1.8.weight'));
    await assert.rejects(
      exportSafetensors(learn, join(work, 'x.safetensors'), { naming: 'timm' as never }),
      /naming/,
    );
    learn.model.dispose();
  });

  it('refuses a weight with no PyTorch name, naming it, and writes nothing', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const act = tf.layers.prelu({ name: 'act' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: act });
    const learn = new Learner({ train: EMPTY, valid: EMPTY, vocab: undefined, c: 1 }, model);
    const file = join(work, 'prelu.safetensors');
    await assert.rejects(exportSafetensors(learn, file), /"act" weight "alpha" \(PReLU\)/);
    assert.equal(existsSync(file), false);
    assert.deepEqual(
      readdirSync(work).filter((f) => f.includes('prelu')),
      [],
      'no temporary file left',
    );
    model.dispose();
  });

  const torchSkip = skipUnlessTorch();
  for (const [arch, naming] of [
    ['resnet18', 'torchvision'],
    ['mobilenet_v1_0.75', 'fastai'],
    ['mobilenet_v2_0.35', 'torchvision'],
  ] as const) {
    it(`${arch} + fastai head: PyTorch logits within 1e-4 (${naming} naming)`, {
      skip: torchSkip,
    }, async () => {
      const r = await torchRoundTrip(arch, naming, work);
      console.log(
        `${arch}: max |torch - tsfast| logit = ${r.maxLogitDiff} (|logits| up to ${r.logitRange})`,
      );
      assert.ok(r.logitRange > 0.1, 'logits are not trivially zero');
      assert.ok(r.maxLogitDiff <= 1e-4, `max logit diff ${r.maxLogitDiff}`);
    });
  }
});
