/**
 * Trains a pets classifier and exports it for the example web page: a DataBlock over a folder
 * of Oxford-IIIT Pet photos (`<breed>_<n>.jpg`), MobileNet v1 0.75 fine-tuned with its body
 * frozen, then `exportForWeb` into `examples/web/model` (what `npm run example:web` serves)
 * and `learn.export` into `examples/web/learner` (what a Node service loads with `loadLearner`).
 *
 *   npx tsx examples/web/train.ts --data ../shared/data/pets/images \
 *     --weights ../shared/models/mobilenet_v1_0.75_224 --size 128 --epochs 1
 *
 * Without `--data` the pets archive is downloaded once with `untarData(URLs.PETS)`; without
 * `--weights` the ImageNet weights come from the TensorFlow.js model storage (cached).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CategoryBlock,
  DataBlock,
  errorRate,
  exportForWeb,
  getImageFiles,
  ImageBlock,
  mobilenetV1,
  RandomSplitter,
  RegexLabeller,
  Resize,
  URLs,
  untarData,
  usingAttr,
  visionLearner,
} from '../../src/index.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    weights: { type: 'string' },
    size: { type: 'string', default: '128' },
    epochs: { type: 'string', default: '1' },
    out: { type: 'string', default: join(import.meta.dirname, 'model') },
    learner: { type: 'string', default: join(import.meta.dirname, 'learner') },
  },
});

const data = values.data ?? join(await untarData(URLs.PETS), 'images');
const pets = new DataBlock({
  blocks: [ImageBlock, CategoryBlock],
  getItems: getImageFiles,
  splitter: RandomSplitter({ seed: 42 }),
  getY: usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
  itemTfms: Resize(Number(values.size)),
});
const dls = await pets.dataloaders(data, { bs: 32 });
const learn = await visionLearner(dls, mobilenetV1({ alpha: 0.75 }), {
  ...(values.weights ? { weights: values.weights } : {}),
  metrics: [errorRate],
  trainBn: false,
});
await learn.fitOneCycle(Number(values.epochs), 3e-3);
const { dir, inference } = await exportForWeb(learn, resolve(values.out));
console.log(
  `exported ${inference.vocab?.length} classes, ${inference.input.width}x${inference.input.height} input, to ${dir}`,
);
console.log(`learner for loadLearner: ${await learn.export(resolve(values.learner))}`);
console.log('serve the page with: npm run example:web');
