/**
 * The reference fastai workflow on Oxford-IIIT Pets, through tsfast's public API only:
 * DataBlock (seed-42 RandomSplitter, Resize, augTransforms) -> visionLearner with a pretrained
 * body -> fineTune -> validation error rate (after `learn.tta()`). The last line of output is
 * JSON: `{"error_rate": e, "error_rate_plain": p, "minutes": m, "images_per_s": ...}`.
 *
 * Usage (from the repository root), with the defaults being the recipe the README recommends:
 *   npx tsx examples/pets.ts --data ../shared/data/pets/images \
 *     --weights ../shared/models/mobilenet_v1_0.75_224
 *
 * The recipe: MobileNet v1 0.75 at 224 px, batches of 8, the body's BatchNorm layers on their
 * pretrained statistics throughout (`trainBn: false`, `BnFreeze({ body: true })`, `--bn body`),
 * `fineTune(6, 2e-3, { freezeEpochs: 5, freezePctStart: 0.25, unfrozenLr: 1e-4 })`: five frozen
 * epochs on `fitOneCycle`'s warm-up (0.25, as the fastai book's `fit_one_cycle(3, 3e-3)` before
 * `unfreeze()`; `fine_tune`'s 0.99 leaves the head at its peak rate only at the very end), then
 * six unfrozen at `lrRange(1e-6, 1e-4)` (the fastai book's `slice(1e-6, 1e-4)`). The figures are
 * reported after fastai's `learn.tta()` (4 augmented passes blended with the plain one), with the
 * plain ones beside them (`error_rate_plain`); `--tta false` reports the plain ones only.
 * fastai's own `fine_tune` defaults are `--bn train --freeze-epochs 1 --freeze-pct-start 0.99
 * --unfrozen-lr 1e-3` (half of `--lr`); with batches this small they end worse than the frozen
 * epoch on the ants/bees set, in PyTorch too (docs/benchmarks.md, "Fine-tuning recipe").
 *
 * A folder with `train/` and `val/` (or `valid/`) subfolders of class folders, such as
 * `../shared/data/hymenoptera`, is split and labelled by folder instead of by pet file name.
 *
 * Other flags: --arch, --size (224), --resize (item Resize, 460), --epochs (6),
 * --freeze-epochs (5), --freeze-pct-start (0.25), --lr (fineTune's base rate, 2e-3),
 * --unfrozen-lr (1e-4), --tta (true), --bs (8),
 * --bn body|freeze|train (see below), --seed (42), --split-out FILE (writes the split and
 * labels as JSON, for bench/torch/fine_tune.py). `minutes` is the whole run's wall time (data,
 * model, training, validation, TTA); `images_per_s` counts training images seen per second of
 * `fineTune`.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  augTransforms,
  BnFreeze,
  CategoryBlock,
  DataBlock,
  errorRate,
  GrandparentSplitter,
  getArch,
  getImageFiles,
  ImageBlock,
  parentLabel,
  RandomSplitter,
  RegexLabeller,
  Resize,
  ready,
  setSeed,
  usingAttr,
  visionLearner,
} from '../src/index.js';

const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(SHARED, 'data', 'pets', 'images') },
    arch: { type: 'string', default: 'mobilenet_v1_0.75' },
    weights: { type: 'string' },
    size: { type: 'string', default: '224' },
    resize: { type: 'string' },
    epochs: { type: 'string', default: '6' },
    'freeze-epochs': { type: 'string', default: '5' },
    lr: { type: 'string', default: '2e-3' },
    bs: { type: 'string', default: '8' },
    bn: { type: 'string', default: 'body' },
    seed: { type: 'string', default: '42' },
    'split-out': { type: 'string' },
    'unfrozen-lr': { type: 'string', default: '1e-4' },
    'freeze-pct-start': { type: 'string', default: '0.25' },
    tta: { type: 'string', default: 'true' },
  },
});

const num = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got ${values[name]}`);
  return v;
};

const size = num('size');
const seed = num('seed');
const arch = getArch(values.arch as string);
// The shared folder holds the MobileNet v1 0.75 weights: use them when the default URL would
// need a network this machine may not have.
const sharedMobilenet = resolve(SHARED, 'models', 'mobilenet_v1_0.75_224');
const weights =
  values.weights ??
  (arch.name === 'mobilenet_v1_0.75' && existsSync(sharedMobilenet) ? sharedMobilenet : undefined);

const runStart = performance.now();
const { backend } = await ready();
setSeed(seed);
// A folder with train/ and val/ (or valid/) subfolders of class folders (hymenoptera, ImageNet
// style) is split and labelled by folder; any other folder holds pet photos named
// `<breed>_<n>.jpg`, split at random (20 %).
const dataDir = values.data as string;
const validName = ['val', 'valid'].find((v) => existsSync(join(dataDir, v)));
const byFolder = existsSync(join(dataDir, 'train')) && validName !== undefined;
const pets = new DataBlock({
  blocks: [ImageBlock, CategoryBlock],
  getItems: getImageFiles,
  splitter: byFolder ? GrandparentSplitter({ validName }) : RandomSplitter({ seed }),
  getY: byFolder ? parentLabel : usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
  itemTfms: Resize(values.resize ? num('resize') : 460),
  batchTfms: augTransforms({ size, minScale: 0.75 }),
});
const dls = await pets.dataloaders(dataDir, { bs: num('bs'), seed });
if (values['split-out']) {
  // The split and labels, for the PyTorch reference (bench/torch/fine_tune.py).
  // Written to a temporary file and renamed, so a reader never sees half a file.
  const out = values['split-out'];
  writeFileSync(
    `${out}.tmp`,
    JSON.stringify({ train: dls.trainDs.items, valid: dls.validDs.items, vocab: dls.vocab }),
  );
  renameSync(`${out}.tmp`, out);
}
console.log(
  `backend ${backend}; ${dls.train.numItems} training / ${dls.valid.numItems} validation images, ` +
    `${dls.c} classes; arch ${arch.name}, weights ${weights ?? arch.weights}`,
);

const bnMode = values.bn as string;
if (bnMode !== 'body' && bnMode !== 'freeze' && bnMode !== 'train') {
  throw new Error(`--bn must be body, freeze or train, got ${bnMode}`);
}
if (values.tta !== 'true' && values.tta !== 'false') {
  throw new Error(`--tta must be true or false, got ${values.tta}`);
}
// --bn train is fastai's default: BatchNorm layers of the frozen body still train their
// scale/shift on batch statistics. --bn freeze is fastai's `train_bn=False, cbs=BnFreeze`:
// while the body is frozen its BatchNorm layers keep their pretrained statistics and do not
// train (frozen epochs skip the body's backward pass), and they switch to batch statistics at
// unfreeze. --bn body keeps the body's pretrained statistics for the whole run
// (`BnFreeze({ body: true })`), while their scale and shift train once unfrozen.
const learn = await visionLearner(dls, arch, {
  metrics: [errorRate],
  trainBn: bnMode === 'train',
  cbs: bnMode === 'train' ? [] : [new BnFreeze({ body: bnMode === 'body' })],
  ...(weights !== undefined ? { weights } : {}),
});
const epochs = num('epochs');
const freezeEpochs = num('freeze-epochs');
const start = performance.now();
const baseLr = num('lr');
const unfrozenLr = num('unfrozen-lr');
const freezePctStart = num('freeze-pct-start');
await learn.fineTune(epochs, baseLr, { freezeEpochs, freezePctStart, unfrozenLr });
const seconds = (performance.now() - start) / 1000;
const [validLoss, error] = await learn.validate();
// fastai's `learn.tta()`: the headline figure, with the plain one beside it.
let ttaError: number | undefined;
if (values.tta === 'true') {
  const { preds, targs } = await learn.tta();
  const rate = errorRate(preds, targs);
  ttaError = (await rate.data())[0];
  tf.dispose([preds, targs, rate]);
}
const trained = (epochs + freezeEpochs) * dls.train.numItems;
console.log(
  JSON.stringify({
    error_rate: ttaError ?? error,
    ...(ttaError !== undefined ? { error_rate_plain: error } : {}),
    valid_loss: validLoss,
    minutes: (performance.now() - runStart) / 60_000,
    fine_tune_minutes: seconds / 60,
    images_per_s: trained / seconds,
    backend,
    arch: arch.name,
    size,
    epochs,
    freeze_epochs: freezeEpochs,
    lr: baseLr,
    unfrozen_lr: unfrozenLr,
    freeze_pct_start: freezePctStart,
    bs: num('bs'),
    bn: bnMode,
    n_train: dls.train.numItems,
    n_valid: dls.valid.numItems,
  }),
);
