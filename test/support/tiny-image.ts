import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CategoryBlock } from '../../src/data/blocks.js';
import { DataBlock } from '../../src/data/data-block.js';
import type { DataLoaders } from '../../src/data/data-loaders.js';
import { parentLabel } from '../../src/data/labellers.js';
import { GrandparentSplitter } from '../../src/data/splitters.js';
import { Learner, type LearnerOptions } from '../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { ImageBlock } from '../../src/vision/image/image-block.js';
import { Resize } from '../../src/vision/image/resize.js';
import { SHARED_DIR } from './shared.js';

/** The real ants-and-bees photos of `../shared`. */
export const HYMENOPTERA = join(SHARED_DIR, 'data', 'hymenoptera');

/** The first `n` photos of each class in `split` (`train` or `val`), sorted by name. */
export function hymenopteraFiles(split: 'train' | 'val', n: number): string[] {
  return ['ants', 'bees'].flatMap((c) =>
    readdirSync(join(HYMENOPTERA, split, c))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, n)
      .map((f) => join(HYMENOPTERA, split, c, f)),
  );
}

/** A few real ants/bees photos at `size` px: `nTrain` + `nValid` per class, bs 8. */
export async function hymenopteraDls(size = 32, nTrain = 8, nValid = 4): Promise<DataLoaders> {
  const block = new DataBlock({
    blocks: [ImageBlock, CategoryBlock],
    splitter: GrandparentSplitter({ validName: 'val' }),
    getY: parentLabel,
    itemTfms: Resize(size),
  });
  const items = [...hymenopteraFiles('train', nTrain), ...hymenopteraFiles('val', nValid)];
  return block.dataloaders(items, { bs: 8, seed: 1 });
}

/** A tiny convolutional classifier that takes any image size (global pooling). */
export function tinyConvNet(nOut: number, seed = 1): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [null, null, 3] as unknown as number[],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.batchNormalization(),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: nOut, kernelInitializer: init(2) }),
    ],
  });
}

/** A quiet learner of {@link tinyConvNet} on `dls`, two groups (body, head). */
export function tinyImageLearner(dls: DataLoaders, options: LearnerOptions = {}): Learner {
  return new Learner(dls, tinyConvNet(dls.c), {
    lossFunc: new CrossEntropyLossFlat(),
    splitter: (m) => [m.layers.slice(0, -1), m.layers.slice(-1)],
    logger: () => {},
    ...options,
  });
}
