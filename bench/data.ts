/**
 * Data pipeline throughput: images/s from files on disk to normalised, augmented 224x224
 * batches, tsfast against PyTorch + torchvision (bench/torch/data.py: PIL, RandomResizedCrop,
 * flip, rotation, ColorJitter, Normalize, DataLoader with 2 workers) in the same run.
 *
 * Run: npx tsx bench/data.ts [--epochs 2] [--bs 64]
 * Last line: {"tsfast_img_s": x, "torch_img_s": y, "data_vs_torch": x / y, ...}
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { imagenetStats } from '../src/data/batch.js';
import { CategoryBlock } from '../src/data/blocks.js';
import { DataBlock } from '../src/data/data-block.js';
import { getImageFiles } from '../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../src/data/labellers.js';
import { RandomSplitter } from '../src/data/splitters.js';
import type { BatchTransform } from '../src/data/transforms.js';
import { augTransforms } from '../src/vision/augment/aug-transforms.js';
import { ImageBlock } from '../src/vision/image/image-block.js';
import type { ItemTransform } from '../src/vision/image/item-transform.js';
import { RandomResizedCrop } from '../src/vision/image/random-resized-crop.js';
import { Resize } from '../src/vision/image/resize.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const epochs = arg('epochs', 2);
const bs = arg('bs', 64);
const images = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'pets', 'images');

async function tsfastImgPerSec(
  itemTfms: ItemTransform,
  batchTfms: BatchTransform[],
): Promise<number> {
  const block = new DataBlock({
    blocks: [ImageBlock, CategoryBlock],
    getItems: getImageFiles,
    splitter: RandomSplitter({ validPct: 0, seed: 42 }),
    getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
    itemTfms,
    batchTfms,
  });
  const dls = await block.dataloaders(images, { bs, seed: 42 });
  dls.normalize(imagenetStats);
  const pass = async () => {
    let n = 0;
    for await (const { xs, ys } of dls.train) {
      if (xs.shape[1] !== 224 || xs.shape[2] !== 224) throw new Error(`bad shape ${xs.shape}`);
      n += xs.shape[0]!;
      tf.dispose([xs, ys]);
    }
    return n;
  };
  await pass(); // warm-up epoch (JIT, file cache), as the torch side does
  const t0 = performance.now();
  let n = 0;
  for (let e = 0; e < epochs; e++) n += await pass();
  return n / ((performance.now() - t0) / 1000);
}

const { backend } = await ready();
console.log(
  `backend ${backend}, bs ${bs}, ${epochs} timed epoch(s) after one warm-up, pets photos`,
);
// Same augmentation list as the torch script: random resized crop, flip, rotation (10 deg),
// brightness/contrast 0.2, Normalize.
const same = await tsfastImgPerSec(
  RandomResizedCrop(224),
  augTransforms({ maxWarp: 0, maxZoom: 1 }),
);
console.log(
  `tsfast, torch's augmentation list (RandomResizedCrop(224) + flip/rotate/lighting): ${same.toFixed(1)} img/s`,
);
// fastai's full defaults at 224 (adds zoom and perspective warp).
const fastaiDefaults = await tsfastImgPerSec(RandomResizedCrop(224), augTransforms());
console.log(
  `tsfast, RandomResizedCrop(224) + augTransforms() defaults: ${fastaiDefaults.toFixed(1)} img/s`,
);
// The pets recipe: Resize(460) then augTransforms({ size: 224, minScale: 0.75 }).
const recipe = await tsfastImgPerSec(Resize(460), augTransforms({ size: 224, minScale: 0.75 }));
console.log(
  `tsfast, pets recipe Resize(460) + augTransforms({size: 224, minScale: 0.75}): ${recipe.toFixed(1)} img/s`,
);

const torchOut = execFileSync(
  '/usr/bin/python3',
  [resolve(import.meta.dirname, 'torch', 'data.py'), images, String(epochs), String(bs)],
  { encoding: 'utf8' },
);
const torch = JSON.parse(torchOut.trim().split('\n').pop()!) as { torch_img_s: number };
console.log(`torch (2 workers, 1 thread each): ${torch.torch_img_s.toFixed(1)} img/s`);
console.log(
  JSON.stringify({
    tsfast_img_s: Number(same.toFixed(1)),
    torch_img_s: Number(torch.torch_img_s.toFixed(1)),
    data_vs_torch: Number((same / torch.torch_img_s).toFixed(3)),
    tsfast_fastai_defaults_img_s: Number(fastaiDefaults.toFixed(1)),
    tsfast_pets_recipe_img_s: Number(recipe.toFixed(1)),
    backend,
  }),
);
