/**
 * Data pipeline throughput: images/s from files on disk to normalised, augmented 224x224
 * batches, tsfast against PyTorch + torchvision (bench/torch/data.py: PIL decoding,
 * RandomResizedCrop, flip, rotation, ColorJitter, Normalize, DataLoader with 2 worker
 * processes) in the same run. The two alternate epoch by epoch (the machine is shared and its
 * load drifts), each after one warm-up epoch; CPU time per image is reported too (less
 * sensitive to the load than wall time).
 *
 * JPEGs decode with TurboJPEG when libturbojpeg is installed (the header line and the JSON's
 * `jpeg` say which decoder ran); `.ci/run` installs it.
 *
 * Run: npx tsx bench/data.ts [--rounds 3] [--bs 64]
 * Last line: {"tsfast_img_s": x, "torch_img_s": y, "data_vs_torch": x / y, ...}
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { imagenetStats } from '../src/data/batch.js';
import { CategoryBlock } from '../src/data/blocks.js';
import { DataBlock } from '../src/data/data-block.js';
import type { DataLoaders } from '../src/data/data-loaders.js';
import { getImageFiles } from '../src/data/getters.js';
import { RegexLabeller, usingAttr } from '../src/data/labellers.js';
import { RandomSplitter } from '../src/data/splitters.js';
import type { BatchTransform } from '../src/data/transforms.js';
import { augTransforms } from '../src/vision/augment/aug-transforms.js';
import { ImageBlock } from '../src/vision/image/image-block.js';
import type { ItemTransform } from '../src/vision/image/item-transform.js';
import { RandomResizedCrop } from '../src/vision/image/random-resized-crop.js';
import { Resize } from '../src/vision/image/resize.js';
import { turboJpegStatus } from '../src/vision/image/turbojpeg.js';
import { checkTorchBlas, type TorchBlas, torchEnv } from './support/torch.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const rounds = arg('rounds', 3);
const bs = arg('bs', 64);
const images = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'pets', 'images');

interface EpochFigures {
  images: number;
  seconds: number;
  cpuSeconds: number;
}

async function loaders(itemTfms: ItemTransform, batchTfms: BatchTransform[]): Promise<DataLoaders> {
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
  return dls;
}

async function tsfastEpoch(dls: DataLoaders): Promise<EpochFigures> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  for await (const { xs, ys } of dls.train) {
    if (xs.shape[1] !== 224 || xs.shape[2] !== 224) throw new Error(`bad shape ${xs.shape}`);
    n += xs.shape[0]!;
    tf.dispose([xs, ys]);
  }
  const c = process.cpuUsage(c0);
  return {
    images: n,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (c.user + c.system) / 1e6,
  };
}

/** The torch reference as a child process: one epoch per line written to its stdin. */
function startTorch() {
  const child = spawn(
    '/usr/bin/python3',
    [resolve(import.meta.dirname, 'torch', 'data.py'), images, String(bs)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: torchEnv(),
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('the torch benchmark exited early');
    return r.value;
  };
  return {
    /** Waits for the warm-up epoch; returns the BLAS line to print (refuses the reference one). */
    ready: async (): Promise<string> => {
      const line = await next();
      if (!line.startsWith('ready ')) throw new Error(`unexpected torch output: ${line}`);
      return checkTorchBlas(JSON.parse(line.slice('ready '.length)) as TorchBlas);
    },
    epoch: async (): Promise<EpochFigures> => {
      child.stdin!.write('epoch\n');
      const r = JSON.parse(await next()) as {
        images: number;
        seconds: number;
        cpu_seconds: number;
      };
      return { images: r.images, seconds: r.seconds, cpuSeconds: r.cpu_seconds };
    },
    stop: () => child.stdin!.end(),
  };
}

const sum = (xs: EpochFigures[]) =>
  xs.reduce(
    (a, b) => ({
      images: a.images + b.images,
      seconds: a.seconds + b.seconds,
      cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    }),
    {
      images: 0,
      seconds: 0,
      cpuSeconds: 0,
    },
  );
const fmt = (f: EpochFigures) =>
  `${(f.images / f.seconds).toFixed(1)} img/s, ${((1000 * f.cpuSeconds) / f.images).toFixed(2)} CPU ms/img`;

const { backend } = await ready();
const turbo = turboJpegStatus();
const jpeg = turbo.available ? 'turbojpeg' : 'sharp';
console.log(
  `backend ${backend}, JPEG decoding ${turbo.available ? `TurboJPEG (${turbo.library})` : `sharp (${turbo.library})`}, ` +
    `bs ${bs}, ${rounds} alternating rounds after one warm-up epoch each, 940 pet photos`,
);
const torch = startTorch();
// Same augmentation list as the torch script: random resized crop, flip, rotation (10 deg),
// brightness/contrast 0.2, Normalize.
const same = await loaders(RandomResizedCrop(224), augTransforms({ maxWarp: 0, maxZoom: 1 }));
const [blasLine] = await Promise.all([torch.ready(), tsfastEpoch(same)]);
console.log(blasLine);
const ours: EpochFigures[] = [];
const theirs: EpochFigures[] = [];
for (let r = 0; r < rounds; r++) {
  ours.push(await tsfastEpoch(same));
  theirs.push(await torch.epoch());
  console.log(`round ${r + 1}: tsfast ${fmt(ours[r]!)} | torch ${fmt(theirs[r]!)}`);
}
torch.stop();
const t = sum(ours);
const p = sum(theirs);
console.log(`tsfast (RandomResizedCrop(224) + flip/rotate/lighting + Normalize): ${fmt(t)}`);
console.log(`torch  (2 workers, 1 thread each):                               ${fmt(p)}`);
// For reference (not compared): fastai's full defaults at 224 (adds zoom and perspective
// warp) and the pets recipe (Resize(460), then augTransforms({ size: 224, minScale: 0.75 })).
const defaults = await loaders(RandomResizedCrop(224), augTransforms());
await tsfastEpoch(defaults);
const d = await tsfastEpoch(defaults);
console.log(`tsfast, RandomResizedCrop(224) + augTransforms() defaults: ${fmt(d)}`);
const recipe = await loaders(Resize(460), augTransforms({ size: 224, minScale: 0.75 }));
await tsfastEpoch(recipe);
const rc = await tsfastEpoch(recipe);
console.log(
  `tsfast, pets recipe Resize(460) + augTransforms({ size: 224, minScale: 0.75 }): ${fmt(rc)}`,
);
const round = (v: number, k = 1) => Number(v.toFixed(k));
console.log(
  JSON.stringify({
    tsfast_img_s: round(t.images / t.seconds),
    torch_img_s: round(p.images / p.seconds),
    data_vs_torch: round(t.images / t.seconds / (p.images / p.seconds), 3),
    tsfast_cpu_ms_per_img: round((1000 * t.cpuSeconds) / t.images, 2),
    torch_cpu_ms_per_img: round((1000 * p.cpuSeconds) / p.images, 2),
    tsfast_fastai_defaults_img_s: round(d.images / d.seconds),
    tsfast_pets_recipe_img_s: round(rc.images / rc.seconds),
    backend,
    jpeg,
  }),
);
