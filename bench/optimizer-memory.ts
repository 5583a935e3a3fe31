/**
 * Optimizer memory of a frozen ResNet-50: tsfast optimizers allocate a parameter's state on
 * its first step with a gradient, so a frozen learner (head and BatchNorm training) holds
 * buffers for those parameters only; unfreezing frees them (fastai clears the state) and the
 * next step allocates them for every parameter. One Adam step on zero gradients stands in for
 * a training step (the state it allocates is the same; no forward pass is needed).
 * Last line: {"frozen_state_mb": ..., "full_state_mb": ..., "saved_mb": ...}.
 *
 * Run: npx tsx bench/optimizer-memory.ts
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { syntheticDataLoaders } from '../src/testing/synthetic-data.js';
import { visionLearner } from '../src/vision/learner.js';

await ready();
const x = tf.zeros([4, 64, 64, 3]);
const y = tf.tensor1d([0, 1, 0, 1], 'int32');
const dls = syntheticDataLoaders({
  xTrain: x,
  yTrain: y,
  xValid: x.clone(),
  yValid: y.clone(),
  bs: 2,
  vocab: ['a', 'b'],
});
const learn = await visionLearner(dls, 'resnet50', { pretrained: false, logger: () => {} });
learn.freeze();

/** One optimizer step with zero gradients for the learner's trainable variables. */
function step(): void {
  const grads = new Map(learn.trainableVariables.map((v) => [v, tf.zerosLike(v)] as const));
  learn.opt.step(grads);
  tf.dispose([...grads.values()]);
}

const mb = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
const base = tf.memory().numBytes;
const n = learn.opt.allParams.length;
console.log(`ResNet-50, 2 classes: ${n} parameter tensors, Adam (2 buffers each)`);
console.log(`frozen, before any step: ${learn.opt.state.size} parameters with state`);
step();
const frozen = tf.memory().numBytes - base;
console.log(
  `frozen, after a step: ${mb(frozen)} MB of state for ${learn.opt.state.size} of ${n} parameters (head + BatchNorm)`,
);
learn.unfreeze();
step();
const full = tf.memory().numBytes - base;
console.log(`unfrozen, after a step: ${mb(full)} MB of state for ${learn.opt.state.size} of ${n}`);
console.log(
  `a frozen learner used to hold the full state: ${mb(full - frozen)} MB saved while frozen`,
);
learn.opt.dispose();
learn.model.dispose();
dls.dispose();
console.log(
  JSON.stringify({
    frozen_state_mb: mb(frozen),
    full_state_mb: mb(full),
    saved_mb: mb(full - frozen),
  }),
);
