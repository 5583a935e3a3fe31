import * as tf from '@tensorflow/tfjs';
import { setSeed } from '../../src/core/random.js';
import { Learner, type LearnerOptions } from '../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { accuracy } from '../../src/learner/metrics.js';
import {
  makeBlobs,
  type SyntheticDataLoaders,
  syntheticDataLoaders,
} from '../../src/testing/synthetic-data.js';

/** A small MLP with a BatchNorm, seeded initialisers. */
export function tinyMlp(seed: number, nIn = 8, nOut = 3, bn = true): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({
      units: 16,
      inputShape: [nIn],
      kernelInitializer: init(1),
      activation: 'relu',
    }),
  ];
  if (bn) layers.push(tf.layers.batchNormalization());
  layers.push(tf.layers.dense({ units: 16, kernelInitializer: init(2), activation: 'relu' }));
  layers.push(tf.layers.dense({ units: nOut, kernelInitializer: init(3) }));
  return tf.sequential({ layers });
}

/** Blobs data loaders (train 192, valid 64). */
export function blobsDls(seed = 1, bs = 32): SyntheticDataLoaders {
  const { x, y } = makeBlobs({ n: 256, nFeatures: 8, nClasses: 3, seed, spread: 1 });
  const [xTrain, xValid] = tf.split(x, [192, 64]);
  const [yTrain, yValid] = tf.split(y, [192, 64]);
  tf.dispose([x, y]);
  return syntheticDataLoaders({
    xTrain: xTrain as tf.Tensor,
    yTrain: yTrain as tf.Tensor,
    xValid: xValid as tf.Tensor,
    yValid: yValid as tf.Tensor,
    bs,
    seed,
    vocab: ['a', 'b', 'c'],
  });
}

/** A quiet learner over blobs with a 2-group splitter (body, head). */
export function blobsLearner(
  seed = 1,
  options: LearnerOptions = {},
): { learn: Learner; dls: SyntheticDataLoaders; model: tf.LayersModel } {
  setSeed(seed);
  const dls = blobsDls(seed);
  const model = tinyMlp(seed);
  const learn = new Learner(dls, model, {
    lossFunc: new CrossEntropyLossFlat(),
    metrics: [accuracy],
    splitter: (m) => [m.layers.slice(0, -1), m.layers.slice(-1)],
    logger: () => {},
    ...options,
  });
  return { learn, dls, model };
}

/** Disposes the learner's model, optimizer and data. */
export function disposeAll(learn: Learner, dls: SyntheticDataLoaders): void {
  learn.opt.dispose();
  learn.model.dispose();
  dls.dispose();
}

/** Current values of the model's weights as flat arrays. */
export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync() as Float32Array);
}

/**
 * Tensors a first fit leaves alive on purpose: the optimizer's state, allocated on each
 * trainable parameter's first step (one tensor per buffer), for the parameters without state
 * yet. Pass it as `expectNoLeaks`'s `keep`.
 */
export function optStateToAllocate(learn: Learner): number {
  const fresh = learn.trainableVariables.filter((v) => !learn.opt.state.has(v));
  return learn.opt.bufferNames.length * fresh.length;
}
