import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../../src/backend/ready.js';
import { buildResnet, type ResnetDepth, resnetCut } from '../../../src/vision/models/resnet.js';
import { readSafetensors } from '../../../src/vision/models/safetensors.js';
import { assignNamedWeights, torchNaming } from '../../../src/vision/models/weight-map.js';
import { skipUnlessTorch, torchFixtures } from './torch-fixtures.js';

const torchSkip = skipUnlessTorch();

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

describe('torchvision ResNet parity', { skip: torchSkip }, () => {
  for (const depth of [18, 50] as ResnetDepth[]) {
    it(`resnet${depth}: tsfast output matches PyTorch within 1e-4 (eval mode, NHWC input)`, async () => {
      await ready();
      const dir = torchFixtures('make_resnet_fixtures.py');
      const weights = await readSafetensors(join(dir, `resnet${depth}.safetensors`));
      const io = await readSafetensors(join(dir, `resnet${depth}_io.safetensors`));
      const model = buildResnet(depth, { initialize: false });
      const report = assignNamedWeights(model, weights.tensors, torchNaming, `resnet${depth}`);
      assert.equal(report.unexpected.length, 0);
      const input = io.tensors.get('input');
      const output = io.tensors.get('output');
      assert.ok(input && output);
      const before = tf.memory().numTensors;
      const diff = tf.tidy(() => {
        const x = tf.transpose(tf.tensor(input.data, [...input.shape]), [0, 2, 3, 1]);
        const y = model.predict(x) as tf.Tensor;
        const want = tf.tensor(output.data, [...output.shape]);
        assert.deepEqual(y.shape, want.shape);
        return maxAbsDiff(y, want);
      });
      assert.equal(tf.memory().numTensors, before);
      assert.ok(diff < 1e-4, `max |tsfast - torch| = ${diff}`);
      console.log(`resnet${depth}: max |tsfast - torch| = ${diff.toExponential(2)}`);
      assert.ok(model.getLayer(resnetCut(depth)));
      model.dispose();
    });
  }
});
