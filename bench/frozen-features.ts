/**
 * Where the pets error comes from, cheaply: the pooled features of the frozen MobileNet v1 0.75
 * body (pretrained BatchNorm statistics, as the recommended recipe keeps them) for the split of
 * `examples/pets.ts` (seed 42), `--passes` augmented passes over the training set and one over
 * the validation set, written as JSON for `bench/torch/head_on_features.py`, which trains
 * fastai's head on them under several schedules and says which photos it gets wrong. Training
 * a head on fixed features takes seconds, so schedules and losses can be compared over many
 * seeds, which full fine-tuning runs (15-25 minutes each here) cannot.
 *
 *   npx tsx bench/frozen-features.ts --out /tmp/pets-features.json [--passes 3]
 *   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/head_on_features.py /tmp/pets-features.json
 *
 * Features: `[mean, max]` pooling of the body's last activation (fastai's concat pooling),
 * 1,536 values per photo. Last line: `{"passes", "n_train", "n_valid", "seconds"}`.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { ready } from '../src/backend/index.js';
import {
  augTransforms,
  CategoryBlock,
  DataBlock,
  getArch,
  getImageFiles,
  ImageBlock,
  RandomSplitter,
  RegexLabeller,
  Resize,
  setSeed,
  usingAttr,
} from '../src/index.js';
import { pretrainedBody } from '../src/vision/pretrained-body.js';

const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(SHARED, 'data', 'pets', 'images') },
    weights: { type: 'string', default: resolve(SHARED, 'models', 'mobilenet_v1_0.75_224') },
    passes: { type: 'string', default: '3' },
    out: { type: 'string', default: '/tmp/pets-features.json' },
  },
});
if (!existsSync(values.data as string) || !existsSync(values.weights as string)) {
  console.log(`skipped: ${values.data} or ${values.weights} is missing (../shared is needed)`);
  process.exit(0);
}
const passes = Number(values.passes);
if (!Number.isInteger(passes) || passes < 1) throw new Error('--passes must be a positive integer');

await ready();
setSeed(42);
const pets = new DataBlock({
  blocks: [ImageBlock, CategoryBlock],
  getItems: getImageFiles,
  splitter: RandomSplitter({ seed: 42 }),
  getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
  itemTfms: Resize(460),
  batchTfms: augTransforms({ size: 224, minScale: 0.75 }),
});
const dls = await pets.dataloaders(values.data as string, { bs: 32, seed: 42 });
const arch = getArch('mobilenet_v1_0.75');
const { body } = await pretrainedBody('frozen-features', dls, arch, {
  weights: values.weights as string,
});
dls.normalize(arch.stats);

interface Features {
  X: number[][];
  Y: number[];
}

async function features(
  stream: AsyncIterable<{ xs: tf.Tensor; ys: tf.Tensor }>,
): Promise<Features> {
  const out: Features = { X: [], Y: [] };
  for await (const { xs, ys } of stream) {
    const pooled = tf.tidy(() => {
      const a = body.apply(xs, { training: false }) as tf.Tensor;
      return tf.concat([a.mean([1, 2]), a.max([1, 2])], 1);
    });
    out.X.push(...(pooled.arraySync() as number[][]));
    out.Y.push(...Array.from(ys.dataSync()));
    tf.dispose([pooled, xs, ys]);
  }
  return out;
}

const start = performance.now();
const valid = await features(dls.valid);
const train: Features[] = [];
for (let p = 0; p < passes; p++) train.push(await features(dls.train));
const seconds = (performance.now() - start) / 1000;
const out = values.out as string;
writeFileSync(`${out}.tmp`, JSON.stringify({ vocab: dls.vocab, valid, train }));
renameSync(`${out}.tmp`, out);
console.log(
  JSON.stringify({ passes, n_train: dls.train.numItems, n_valid: dls.valid.numItems, seconds }),
);
