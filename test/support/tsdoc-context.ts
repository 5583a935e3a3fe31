/**
 * The free names an `@example` in `src/` may use without defining them, each meaning "a value of
 * the obvious type", and the small real values the examples run with.
 *
 * Beyond these, an example sees `tsf` (the package, `import * as tsf from 'tsfast'`), `tf`
 * (`@tensorflow/tfjs`), the names of `tsfast/testing` by their bare names (as a user imports
 * them), and, for an example of a module's own helper, that module's exports by bare name.
 * Any other free name is a compile error: define it in the example.
 *
 * An example runs in a fresh temporary folder (its current directory) that holds `cat.jpg`, a
 * small JPEG. It is run only when every context name it mentions has a value in
 * {@link makeRunContext}; the others (a `dls` of images, a `pets` data block...) are type-checked
 * only. Keep this list short: a name belongs here only when many examples use it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RandomGenerator, setSeed } from '../../src/core/random.js';
import type * as tsf from '../../src/index.js';
import { ClassificationInterpretation } from '../../src/interpret/classification-interpretation.js';
import { Adam } from '../../src/learner/adam.js';
import { Learner } from '../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { accuracy } from '../../src/learner/metrics.js';
import { makeBlobs, syntheticDataLoaders } from '../../src/testing/synthetic-data.js';

/** The types of the context's names. */
export interface ExampleContext {
  /** A learner (run: a 3-class blobs MLP over in-memory data, 12 batches per epoch, quiet). */
  learn: tsf.Learner;
  /** Data loaders of images (type-checked only). */
  dls: tsf.DataLoaders;
  /** A model (run: a small dense model, 8 inputs, 3 outputs). */
  model: tf.LayersModel;
  /** A seeded random generator. */
  rng: tsf.RandomGenerator;
  /** A batch of images, `[N, H, W, 3]` in [0, 1] (run: `[2, 8, 8, 3]`). */
  x: tf.Tensor4D;
  /** A batch of images, `[N, H, W, 3]` in [0, 1] (run: `[2, 8, 8, 3]`). */
  xs: tf.Tensor4D;
  /** Integer targets of a batch (run: `[2]`). */
  y: tf.Tensor;
  /** Integer targets of a batch (run: `[2]`). */
  ys: tf.Tensor;
  /** One image, `[H, W, 3]` in [0, 1] (run: `[8, 8, 3]`). */
  tensor: tf.Tensor3D;
  /** A batch transform's context (run: training, seeded). */
  ctx: tsf.BatchTransformContext;
  /** Learning rates of an LR-finder run, increasing. */
  lrs: number[];
  /** The losses matching {@link lrs}. */
  losses: number[];
  /** Trainable variables (run: two small ones). */
  params: tf.Variable[];
  /** One trainable variable. */
  w: tf.Variable;
  /** One trainable variable. */
  v: tf.Variable;
  /** A gradient of {@link v}'s shape. */
  g: tf.Tensor;
  /** An optimizer over {@link params} (run: Adam). */
  opt: tsf.Optimizer;
  /** Image file paths (type-checked only). */
  files: string[];
  /** Items to split (run: the numbers 0..99). */
  items: number[];
  /** Raw bytes of a JPEG file (run: a 16x12 JPEG, from {@link makeJpegBytes}). */
  bytes: Uint8Array;
  /** A folder (run: a fresh temporary folder). */
  dir: string;
  /** A data block of labelled images (type-checked only). */
  pets: tsf.DataBlock;
  /** Datasets of images (type-checked only). */
  dsets: tsf.Datasets;
  /** A classification interpretation (run: 12 predictions over 3 classes, no items). */
  interp: tsf.ClassificationInterpretation;
}

/** The context's names, in a fixed order. */
export const CONTEXT_NAMES = [
  'learn',
  'dls',
  'model',
  'rng',
  'x',
  'xs',
  'y',
  'ys',
  'tensor',
  'ctx',
  'lrs',
  'losses',
  'params',
  'w',
  'v',
  'g',
  'opt',
  'files',
  'items',
  'bytes',
  'dir',
  'pets',
  'dsets',
  'interp',
] as const satisfies readonly (keyof ExampleContext)[];

// Every key of ExampleContext is listed above (a missing one fails the compile here).
type Missing = Exclude<keyof ExampleContext, (typeof CONTEXT_NAMES)[number]>;
const allListed: Missing extends never ? true : never = true;
void allListed;

function tinyModel(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [8],
        kernelInitializer: init(1),
        activation: 'relu',
      }),
      tf.layers.dense({ units: 3, kernelInitializer: init(2) }),
    ],
  });
}

/** A small JPEG (16x12, one colour), the run value of `bytes`; made once, copied per example. */
export async function makeJpegBytes(): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp');
  const buf = await sharp({
    create: { width: 16, height: 12, channels: 3, background: { r: 200, g: 100, b: 50 } },
  })
    .jpeg()
    .toBuffer();
  return new Uint8Array(buf);
}

/** Predictions of a 3-class problem with some confusions (b taken for a three times...). */
function tinyInterpretation(): ClassificationInterpretation {
  const targets = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
  const predicted = [0, 0, 1, 0, 0, 0, 0, 1, 2, 0, 1, 2];
  const probs = predicted.map((p) => [0, 1, 2].map((c) => (c === p ? 0.8 : 0.1)));
  const losses = targets.map((t, i) => -Math.log(probs[i]?.[t] ?? 1));
  return new ClassificationInterpretation({ probs, targets, losses, vocab: ['a', 'b', 'c'] });
}

/**
 * Fresh values for the names an example may be run with (a new set per example, so that one
 * example's fit or dispose does not change the next one's inputs). Names absent here make an
 * example type-checked only.
 */
export function makeRunContext(
  dir: string,
  bytes?: Uint8Array,
): {
  values: Partial<ExampleContext>;
  dispose: () => void;
} {
  setSeed(1);
  // Examples that open 'cat.jpg' find a small JPEG in their folder (the current directory).
  if (bytes) writeFileSync(join(dir, 'cat.jpg'), bytes);
  const { x: bx, y: by } = makeBlobs({ n: 256, nFeatures: 8, nClasses: 3, seed: 1, spread: 1 });
  const [xTrain, xValid] = tf.split(bx, [192, 64]);
  const [yTrain, yValid] = tf.split(by, [192, 64]);
  tf.dispose([bx, by]);
  const data = syntheticDataLoaders({
    xTrain: xTrain as tf.Tensor,
    yTrain: yTrain as tf.Tensor,
    xValid: xValid as tf.Tensor,
    yValid: yValid as tf.Tensor,
    bs: 16,
    seed: 1,
    vocab: ['a', 'b', 'c'],
  });
  const learnModel = tinyModel(1);
  const learn = new Learner(data, learnModel, {
    lossFunc: new CrossEntropyLossFlat(),
    metrics: [accuracy],
    splitter: (m) => [m.layers.slice(0, -1), m.layers.slice(-1)],
    logger: () => {},
  });
  const model = tinyModel(2);
  const params = [
    tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 1)),
    tf.variable(tf.zeros([3])),
  ];
  const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2));
  const v = tf.variable(tf.ones([4]));
  const g = tf.fill([4], 0.5);
  const opt = new Adam([params], { lr: 1e-3 });
  const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const xs = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1], 'int32');
  const ys = tf.tensor1d([1, 0], 'int32');
  const tensor = tf.randomUniform([8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
  // A U-shaped loss curve over 1e-7..10, as an LR finder records it.
  const lrs = Array.from({ length: 100 }, (_, i) => 1e-7 * 10 ** (i * 0.08));
  const losses = lrs.map((lr) => 2 + (Math.log10(lr) + 2) ** 2 / 10);
  const rng = new RandomGenerator(42);
  const values: Partial<ExampleContext> = {
    learn,
    model,
    rng,
    x,
    xs,
    y,
    ys,
    tensor,
    ctx: { training: true, rng: new RandomGenerator(7) },
    lrs,
    losses,
    params,
    w,
    v,
    g,
    opt,
    items: Array.from({ length: 100 }, (_, i) => i),
    dir,
    interp: tinyInterpretation(),
    ...(bytes ? { bytes: bytes.slice() } : {}),
  };
  const dispose = () => {
    for (const t of [x, xs, y, ys, tensor, g, w, v, ...params]) {
      if (!t.isDisposed) t.dispose();
    }
    try {
      opt.dispose();
      learn.opt.dispose();
    } catch {
      // an example may have disposed them already
    }
    for (const m of [learnModel, model]) {
      try {
        m.dispose();
      } catch {
        // likewise
      }
    }
    data.dispose();
  };
  return { values, dispose };
}
