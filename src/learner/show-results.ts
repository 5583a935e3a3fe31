/**
 * `learn.showResults()`: a grid of inputs with their targets and the model's predictions
 * (fastai's `show_results`). What a tile shows depends on the target: each target block name
 * has a renderer (`registerResultsRenderer`), so segmentation can draw its masks without
 * touching this file; classification is built in.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import { randomFor } from '../core/random.js';
import type { Batch, BatchStream, DataLoadersLike, NormalizeStats } from '../data/batch.js';
import { type GridTile, imageGrid } from '../plot/image-grid.js';
import type { Learner } from './learner.js';

/**
 * Options of {@link Learner.showResults}.
 * @example
 * ```ts no-run (needs a learner over images)
 * await learn.showResults({ maxN: 6, ncols: 3, file: 'results.png' });
 * ```
 */
export interface ShowResultsOptions {
  /**
   * PNG file to write (its folder is created; written atomically).
   * @defaultValue no file (the PNG bytes are still returned)
   */
  file?: string;
  /**
   * Dataset the items come from: 1 = validation, 0 = training (shown without augmentation).
   * @defaultValue 1
   */
  dsIdx?: 0 | 1;
  /**
   * Another stream to take the first `maxN` items from (overrides `dsIdx` and `shuffle`).
   * @defaultValue undefined
   */
  dl?: BatchStream;
  /**
   * Most items shown.
   * @defaultValue 9
   */
  maxN?: number;
  /**
   * Show items drawn at random from the dataset rather than its first ones (when the data
   * can make a test set of its items, as `DataBlock` DataLoaders can; otherwise the first
   * items of the stream are shown).
   * @defaultValue true
   */
  shuffle?: boolean;
  /**
   * Seed of the random draw; when absent, drawn from the global generator (`setSeed`).
   * @defaultValue undefined
   */
  seed?: number;
  /**
   * Grid columns.
   * @defaultValue `ceil(sqrt(n))`
   */
  ncols?: number;
  /**
   * Tile edge in pixels.
   * @defaultValue 192
   */
  tileSize?: number;
}

/**
 * The batch a {@link ResultsRenderer} draws. Every tensor belongs to `showResults`, which
 * disposes them after the renderer returns.
 * @example
 * ```ts
 * const render: tsf.ResultsRenderer = ({ images, targets, decoded }) => [];
 * ```
 */
export interface ResultsBatch {
  /** The inputs as displayable images `[N, H, W, 3]` in [0, 1] (`Normalize` undone). */
  readonly images: tf.Tensor4D;
  /** Targets, as the target block collates them. */
  readonly targets: tf.Tensor;
  /** The model's activations (probabilities for classification). */
  readonly preds: tf.Tensor;
  /** The decoded predictions (class indices, thresholded labels, masks...). */
  readonly decoded: tf.Tensor;
  /** The class names, when the target has them. */
  readonly vocab: readonly string[] | undefined;
}

/**
 * Draws a results batch as grid tiles (image and caption). Tensors placed in the returned
 * tiles are disposed by `showResults` once the grid is drawn.
 * @example
 * ```ts
 * // Captions each image with its decoded class (what the default renderer also shows).
 * tsf.registerResultsRenderer('MyBlock', async (batch) => {
 *   const decoded = await batch.decoded.data();
 *   return tf.unstack(batch.images).map((image, i) => ({
 *     image: image as tf.Tensor3D,
 *     title: String(decoded[i]),
 *   }));
 * });
 * ```
 */
export type ResultsRenderer = (batch: ResultsBatch) => GridTile[] | Promise<GridTile[]>;

const renderers = new Map<string, ResultsRenderer>();

/**
 * Sets how `showResults` draws results for a target block (by the fitted block's `name`,
 * e.g. `'CategoryBlock'`), replacing any earlier renderer of that name.
 * @param blockName - The target block's name.
 * @param renderer - The renderer.
 * @throws {@link ValueError} on an empty name.
 * @example
 * ```ts
 * // Shows only the images, captioned with their target class.
 * tsf.registerResultsRenderer('MyBlock', async (batch) => {
 *   const targets = await batch.targets.data();
 *   return tf.unstack(batch.images).map((image, i) => ({
 *     image: image as tf.Tensor3D,
 *     title: `target ${targets[i]}`,
 *   }));
 * });
 * ```
 */
export function registerResultsRenderer(blockName: string, renderer: ResultsRenderer): void {
  if (typeof blockName !== 'string' || blockName === '') {
    throw invalidValue('blockName', 'a block name such as "CategoryBlock"', blockName);
  }
  renderers.set(blockName, renderer);
}

/**
 * The renderer `showResults` uses for a target block, e.g. to wrap the built-in one.
 * @param blockName - The target block's name.
 * @returns The renderer, or `undefined`.
 * @example
 * ```ts
 * const base = tsf.getResultsRenderer('CategoryBlock')!;
 * tsf.registerResultsRenderer('CategoryBlock', async (b) => (await base(b)).slice(0, 4));
 * ```
 */
export function getResultsRenderer(blockName: string): ResultsRenderer | undefined {
  return renderers.get(blockName);
}

/** Green or red, as fastai colours a right or wrong prediction. */
const RIGHT = '#1a7f37';
const WRONG = '#cf222e';

/**
 * fastai's classification results: the target over the prediction, the prediction green when
 * right and red when wrong.
 */
function renderClassification(batch: ResultsBatch): GridTile[] {
  const targets = Array.from(batch.targets.dataSync());
  const decoded = Array.from(batch.decoded.dataSync());
  const name = (i: number) => batch.vocab?.[i] ?? String(i);
  const images = tf.unstack(batch.images) as tf.Tensor3D[];
  return images.map((image, k) => ({
    image,
    title: `${name(targets[k]!)}\n${name(decoded[k]!)}`,
    lineColors: ['#111', targets[k] === decoded[k] ? RIGHT : WRONG],
  }));
}

/** Multi-label: the target labels over the predicted ones, green when the sets agree. */
function renderMultiLabel(batch: ResultsBatch): GridTile[] {
  const targets = batch.targets.arraySync() as number[][];
  const decoded = batch.decoded.arraySync() as number[][];
  const labels = (row: number[]) =>
    row
      .map((v, i) => (v > 0.5 ? (batch.vocab?.[i] ?? String(i)) : undefined))
      .filter((s) => s !== undefined)
      .join(';');
  const images = tf.unstack(batch.images) as tf.Tensor3D[];
  return images.map((image, k) => {
    const t = labels(targets[k]!);
    const p = labels(decoded[k]!);
    return { image, title: `${t}\n${p}`, lineColors: ['#111', t === p ? RIGHT : WRONG] };
  });
}

registerResultsRenderer('CategoryBlock', renderClassification);
registerResultsRenderer('MultiCategoryBlock', renderMultiLabel);

/**
 * fastai's `show_results`: runs the model on a few items (drawn at random from the validation
 * set by default, processed as validation data) and draws them in a grid captioned by the
 * renderer of the target block: for classification, the target over the prediction, green
 * when right and red when wrong.
 * @param learn - The learner.
 * @param options - See {@link ShowResultsOptions}.
 * @returns The PNG bytes (also written to `file` when given).
 * @throws {@link ValueError} when the inputs are not images, no renderer fits the target, or
 *   the data yields no item.
 * @example
 * ```ts no-run (needs a learner over images)
 * await tsf.showResults(learn, { file: 'results.png' });
 * ```
 */
export async function showResults(
  learn: Learner,
  options: ShowResultsOptions = {},
): Promise<Buffer> {
  checkOptionKeys('showResults', options, [
    'file',
    'dsIdx',
    'dl',
    'maxN',
    'shuffle',
    'seed',
    'ncols',
    'tileSize',
  ]);
  const maxN = options.maxN ?? 9;
  if (!(Number.isInteger(maxN) && maxN > 0)) throw invalidValue('maxN', 'a positive integer', maxN);
  await ready();
  const renderer = rendererFor(learn.dls);
  const { xs, ys } = await sampleBatch(learn.dls, options, maxN);
  let tiles: GridTile[] = [];
  const owned: tf.Tensor[] = [xs, ys];
  try {
    if (xs.rank !== 4 || xs.shape[3] !== 3) {
      throw new ValueError(
        `showResults: the inputs have shape [${xs.shape}]; only image batches [N, H, W, 3] can be shown.`,
      );
    }
    const [images, preds, decoded] = tf.tidy(() => {
      const out = learn.model.apply(xs, { training: false }) as tf.Tensor;
      const act = learn.lossFunc.activation(out);
      return [denormalize(xs, normalizerStats(learn.dls)), act, learn.lossFunc.decodes(act)];
    });
    owned.push(images, preds, decoded);
    tiles = await renderer({
      images: images as tf.Tensor4D,
      targets: ys,
      preds,
      decoded,
      vocab: learn.dls.vocab,
    });
    return await drawGrid(tiles, options);
  } finally {
    tf.dispose(owned);
    tf.dispose(
      tiles.map((t) => t.image).filter((im): im is tf.Tensor3D => im instanceof tf.Tensor),
    );
  }
}

async function drawGrid(tiles: readonly GridTile[], options: ShowResultsOptions): Promise<Buffer> {
  const { png } = await imageGrid(tiles, {
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.ncols === undefined ? {} : { ncols: options.ncols }),
    ...(options.tileSize === undefined ? {} : { tileSize: options.tileSize }),
  });
  return png;
}

function rendererFor(dls: DataLoadersLike): ResultsRenderer {
  const d = (dls as { dsets?: { blocks?: readonly { name: string }[]; nInp?: number } }).dsets;
  const name = d?.blocks?.[d.nInp ?? 1]?.name ?? (dls.vocab ? 'CategoryBlock' : undefined);
  const renderer = name === undefined ? undefined : renderers.get(name);
  if (renderer === undefined) {
    throw new ValueError(
      `showResults: no results renderer for ${name === undefined ? 'this target' : `"${name}"`}; ` +
        `register one with registerResultsRenderer (known: ${[...renderers.keys()].join(', ')}).`,
    );
  }
  return renderer;
}

function normalizerStats(dls: DataLoadersLike): NormalizeStats | undefined {
  return (dls as { normalizer?: { stats?: NormalizeStats } }).normalizer?.stats;
}

function denormalize(xs: tf.Tensor, stats: NormalizeStats | undefined): tf.Tensor {
  if (stats === undefined) return xs.clipByValue(0, 1);
  return xs
    .mul(tf.tensor1d([...stats.std]))
    .add(tf.tensor1d([...stats.mean]))
    .clipByValue(0, 1);
}

interface SampleSource {
  testDl?: DataLoadersLike['testDl'];
  trainDs?: { items: readonly unknown[] };
  validDs?: { items: readonly unknown[] };
}

/**
 * Up to `maxN` items as one batch: a random (or the first) draw of the dataset's items made
 * into a labelled test set, so they are processed as validation data whatever the split;
 * else the first items of the stream. The caller disposes the batch.
 */
async function sampleBatch(
  dls: DataLoadersLike,
  options: ShowResultsOptions,
  maxN: number,
): Promise<Batch> {
  const src = dls as DataLoadersLike & SampleSource;
  const ds = (options.dsIdx ?? 1) === 0 ? src.trainDs : src.validDs;
  if (options.dl === undefined && ds !== undefined && typeof src.testDl === 'function') {
    const all = ds.items;
    if (all.length === 0) throw new ValueError('showResults: the dataset has no items.');
    const n = Math.min(maxN, all.length);
    const idx =
      (options.shuffle ?? true)
        ? randomFor(options.seed).permutation(all.length).slice(0, n)
        : Array.from({ length: n }, (_, i) => i);
    const dl = src.testDl.call(
      dls,
      idx.map((i) => all[i]),
      { withLabels: true, bs: n },
    );
    return firstBatches(dl, n);
  }
  const stream = options.dl ?? ((options.dsIdx ?? 1) === 0 ? dls.train : dls.valid);
  return firstBatches(stream, maxN);
}

/** The first `n` items of a stream, in one batch. */
async function firstBatches(stream: BatchStream, n: number): Promise<Batch> {
  const xs: tf.Tensor[] = [];
  const ys: tf.Tensor[] = [];
  let have = 0;
  try {
    for await (const b of stream) {
      const take = Math.min(n - have, b.xs.shape[0] ?? 0);
      xs.push(take === b.xs.shape[0] ? b.xs : b.xs.slice(0, take));
      ys.push(take === b.ys.shape[0] ? b.ys : b.ys.slice(0, take));
      if (xs.at(-1) !== b.xs) b.xs.dispose();
      if (ys.at(-1) !== b.ys) b.ys.dispose();
      have += take;
      if (have >= n) break;
    }
    if (have === 0) throw new ValueError('showResults: the data yields no batch.');
    return { xs: tf.concat(xs, 0), ys: tf.concat(ys, 0) };
  } finally {
    tf.dispose([...xs, ...ys]);
  }
}
