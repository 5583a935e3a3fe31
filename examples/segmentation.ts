/**
 * Segmentation of Oxford-IIIT Pet trimaps (pet / background / border) with a U-Net on a
 * pretrained MobileNetV2 body, through tsfast's public API only: the 600 photos that have a
 * trimap, a seeded 80/20 split, `MaskBlock` with the trimap values 1, 2, 3 as three codes,
 * `unetLearner`, `fineTune`, then pixel accuracy and mean IoU (mean over the three classes of
 * intersection over union, fastai's `JaccardCoeffMulti`) on the held-out 20 %, predicted with
 * flip test-time augmentation (`flipTta`: the probabilities for each photo and its mirror,
 * the mirror's flipped back, averaged). The last line of output is JSON:
 * `{"pixel_accuracy": a, "mean_iou": m, "pixel_accuracy_plain": ap, "mean_iou_plain": mp,
 * "minutes": t}`, the `_plain` figures from one plain pass (`learn.validate()`), and `minutes`
 * the whole run (data, model, training, evaluation).
 *
 * Usage (from the repository root):
 *   npx tsx examples/segmentation.ts
 *
 * Flags: --size (128), --epochs (unfrozen epochs, 32), --freeze-epochs (1), --lr (fineTune's base
 * rate, 2e-3), --bs (8), --seed (42), --arch (mobilenet_v2_0.35), --weights (the shared
 * MobileNetV2 0.35 backbone), --cut (block_16_project_BN: the deepest 112-channel map, not the
 * 1280-channel `out_relu`, whose middle block would hold 59 M weights), --last-cross (false:
 * fastai's full-resolution residual block costs most of the U-Net's compute here), --limit (use
 * only the first N photos, for quick checks), --tta (true: report the flip-TTA figures; false:
 * the plain ones), --results (a PNG of validation results), --keep (a
 * folder to export the trained learner to, for `loadLearner`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  augTransforms,
  flipTta,
  getArch,
  JaccardCoeffMulti,
  pixelAccuracy,
  Resize,
  ready,
  SegmentationDataLoaders,
  setSeed,
  showSegmentationResults,
  unetLearner,
} from '../src/index.js';

const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: join(SHARED, 'data', 'pets', 'images') },
    trimaps: { type: 'string', default: join(SHARED, 'data', 'pets', 'trimaps') },
    arch: { type: 'string', default: 'mobilenet_v2_0.35' },
    weights: { type: 'string', default: join(SHARED, 'models', 'mobilenet_v2_0.35_224_notop') },
    cut: { type: 'string', default: 'block_16_project_BN' },
    size: { type: 'string', default: '128' },
    epochs: { type: 'string', default: '32' },
    'freeze-epochs': { type: 'string', default: '1' },
    lr: { type: 'string', default: '2e-3' },
    bs: { type: 'string', default: '8' },
    seed: { type: 'string', default: '42' },
    'last-cross': { type: 'string', default: 'false' },
    limit: { type: 'string' },
    results: { type: 'string' },
    keep: { type: 'string' },
    tta: { type: 'string', default: 'true' },
  },
});

if (!['true', 'false'].includes(values.tta as string)) {
  throw new Error(`--tta must be true or false, got ${values.tta}`);
}
const num = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got ${values[name]}`);
  return v;
};

const images = values.images as string;
const trimaps = values.trimaps as string;
for (const dir of [images, trimaps]) {
  if (!existsSync(dir)) throw new Error(`${dir} does not exist (see --images / --trimaps)`);
}
const trimapOf = (file: unknown) => join(trimaps, basename(String(file)).replace(/\.jpg$/, '.png'));
let files = readdirSync(images)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((f) => join(images, f))
  .filter((f) => existsSync(trimapOf(f)));
if (values.limit !== undefined) files = files.slice(0, num('limit'));

const size = num('size');
const seed = num('seed');
const { backend } = await ready();
setSeed(seed);
const dls = await SegmentationDataLoaders.fromLabelFunc(files, trimapOf, {
  codes: ['pet', 'background', 'border'],
  values: [1, 2, 3],
  validPct: 0.2,
  seed,
  bs: num('bs'),
  // The whole photo squished to size x size, so validation scores every pixel of it.
  itemTfms: Resize(size, { method: 'squish' }),
  batchTfms: augTransforms(),
});
const arch = getArch(values.arch as string);
console.log(
  `backend ${backend}; ${dls.train.numItems} training / ${dls.valid.numItems} validation ` +
    `photos at ${size} px; arch ${arch.name} cut at ${values.cut}`,
);
const learn = await unetLearner(dls, arch, {
  weights: values.weights as string,
  cut: values.cut as string,
  lastCross: values['last-cross'] === 'true',
  metrics: [pixelAccuracy, JaccardCoeffMulti()],
  seed,
});
await learn.fineTune(num('epochs'), num('lr'), { freezeEpochs: num('freeze-epochs') });
if (values.keep !== undefined) await learn.export(resolve(values.keep as string));
const [, accuracyPlain, meanIouPlain] = await learn.validate();
let accuracy = accuracyPlain;
let meanIou = meanIouPlain;
if (values.tta === 'true') {
  const { preds, targs } = await flipTta(learn);
  const acc = pixelAccuracy(preds, targs!);
  accuracy = (await acc.data())[0]!;
  const iou = JaccardCoeffMulti();
  await iou.accumulate(preds, targs!);
  meanIou = iou.value;
  for (const t of [preds, targs!, acc]) t.dispose();
}
if (values.results !== undefined) {
  await showSegmentationResults(learn, { file: values.results as string, maxN: 6 });
}
console.log(
  JSON.stringify({
    pixel_accuracy: accuracy,
    mean_iou: meanIou,
    pixel_accuracy_plain: accuracyPlain,
    mean_iou_plain: meanIouPlain,
    // performance.now() counts from the process start: module loading, data, model, training
    // and evaluation (flip TTA included) are all in the figure.
    minutes: performance.now() / 60_000,
  }),
);
