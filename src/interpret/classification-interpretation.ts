/**
 * `ClassificationInterpretation`: where a classifier goes wrong, as fastai's.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import type { BatchStream, DataLoadersLike } from '../data/batch.js';
import { Normalize } from '../data/normalize.js';
import type { BatchTransform } from '../data/transforms.js';
import type { Learner } from '../learner/learner.js';
import { heatmapSvg } from '../plot/heatmap.js';
import { imageGrid } from '../plot/image-grid.js';
import { svgToPng, writePng } from '../plot/render.js';
import { decodeImage } from '../vision/image/index.js';
import { classificationReport } from './classification-report.js';

/**
 * What an interpretation is computed from: one row per item of the dataset interpreted
 * (the validation set by default).
 *
 * @example
 * ```ts
 * const inputs: tsf.InterpretationInputs = {
 *   probs: [[0.9, 0.1], [0.3, 0.7]],
 *   targets: [0, 0],
 *   losses: [0.105, 1.204],
 *   vocab: ['cat', 'dog'],
 * };
 * ```
 */
export interface InterpretationInputs {
  /** Class probabilities, `[nItems][nClasses]` (after the loss's activation). */
  probs: readonly (readonly number[])[];
  /** Actual class index of each item. */
  targets: readonly number[];
  /** Loss of each item (unreduced). */
  losses: readonly number[];
  /** Class names; `vocab[i]` names class `i`. */
  vocab: readonly string[];
  /**
   * Predicted class of each item.
   * @defaultValue the arg-max of `probs`
   */
  decoded?: readonly number[];
  /**
   * The items themselves (e.g. image paths), for {@link ClassificationInterpretation.plotTopLosses}.
   * @defaultValue none (`plotTopLosses` then needs the images another way)
   */
  items?: readonly unknown[];
  /**
   * Makes the image the model saw for an item: `[H, W, 3]` in [0, 1] (decoded, validation
   * item and batch transforms applied, de-normalised); the caller disposes it. `fromLearner`
   * sets it from the learner's data, so `plotTopLosses` shows the model's input as fastai does.
   * @defaultValue none (`plotTopLosses` shows the image file as it is)
   */
  modelInput?: (item: unknown) => Promise<tf.Tensor3D>;
}

/**
 * One row of {@link ClassificationInterpretation.topLosses}.
 *
 * @example
 * ```ts
 * const [worst] = interp.topLosses(1);
 * console.log(`${worst.predicted}/${worst.actual} loss ${worst.loss.toFixed(2)}`);
 * ```
 */
export interface TopLoss {
  /** Index of the item in the dataset interpreted. */
  index: number;
  /** The item's loss. */
  loss: number;
  /** Actual class name. */
  actual: string;
  /** Predicted class name. */
  predicted: string;
  /** Probability the model gave to the actual class. */
  probability: number;
  /** Probability of the predicted class. */
  predictedProbability: number;
  /** The item (e.g. image path) when known. */
  item: unknown;
}

/**
 * Options of {@link ClassificationInterpretation.plotConfusionMatrix}.
 *
 * @example
 * ```ts
 * await interp.plotConfusionMatrix({ normalize: true, file: 'out/confusion.png' });
 * ```
 */
export interface PlotConfusionMatrixOptions {
  /**
   * Divide each row by its total, so cells show the fraction of each actual class.
   * @defaultValue false
   */
  normalize?: boolean;
  /**
   * PNG file to write (its folder is created).
   * @defaultValue no file (the PNG bytes are still returned)
   */
  file?: string;
  /**
   * Chart title.
   * @defaultValue 'Confusion matrix'
   */
  title?: string;
}

/**
 * Options of {@link ClassificationInterpretation.mostConfused}.
 *
 * @example
 * ```ts
 * interp.mostConfused({ minVal: 2 });
 * ```
 */
export interface MostConfusedOptions {
  /**
   * Smallest count reported.
   * @defaultValue 1
   */
  minVal?: number;
}

/**
 * Options of {@link ClassificationInterpretation.fromLearner}.
 *
 * @example
 * ```ts
 * const interp = await tsf.ClassificationInterpretation.fromLearner(learn, { dsIdx: 1 });
 * ```
 */
export interface FromLearnerOptions {
  /**
   * Dataset to interpret: 1 = validation, 0 = training (the training stream is shuffled,
   * so its items are not known and `plotTopLosses` needs `items`).
   * @defaultValue 1
   */
  dsIdx?: 0 | 1;
  /**
   * The items in the order the stream yields them (e.g. image paths).
   * @defaultValue read from the validation DataLoader when it is tsfast's `DataLoader`
   */
  items?: readonly unknown[];
}

/**
 * Options of {@link ClassificationInterpretation.plotTopLosses}.
 *
 * @example
 * ```ts no-run (needs an interpretation of images)
 * await interp.plotTopLosses(9, { file: 'out/top-losses.png', ncols: 3 });
 * ```
 */
export interface PlotTopLossesOptions {
  /** PNG file to write (its folder is created). */
  file: string;
  /**
   * Columns of the grid.
   * @defaultValue `Math.ceil(Math.sqrt(k))`
   */
  ncols?: number;
  /**
   * Edge of each image in pixels.
   * @defaultValue 192
   */
  tileSize?: number;
  /**
   * Show the highest losses (true) or the lowest.
   * @defaultValue true
   */
  largest?: boolean;
}

/**
 * An `[actual, predicted, count]` row of {@link ClassificationInterpretation.mostConfused}.
 * @example
 * ```ts
 * for (const [actual, predicted, count] of interp.mostConfused({ minVal: 2 })) {
 *   console.log(`${actual} taken for ${predicted} ${count} times`);
 * }
 * ```
 */
export type ConfusedPair = [actual: string, predicted: string, count: number];

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

/**
 * Interprets a classifier's predictions on a dataset: the confusion matrix, the most
 * confused class pairs and the items with the highest loss, with plots. Build it with
 * `ClassificationInterpretation.fromLearner(learn)` (which runs `learn.getPreds`) or from
 * predictions you already have.
 *
 * @example
 * ```ts
 * const interp = new tsf.ClassificationInterpretation({
 *   probs: [[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]],
 *   targets: [0, 0, 1],
 *   losses: [0.105, 1.204, 0.223],
 *   vocab: ['cat', 'dog'],
 * });
 * interp.confusionMatrix(); // [[1, 1], [0, 1]]
 * interp.mostConfused();    // [['cat', 'dog', 1]]
 * ```
 */
export class ClassificationInterpretation {
  /** Class names. */
  readonly vocab: readonly string[];
  /** Class probabilities per item. */
  readonly probs: readonly (readonly number[])[];
  /** Actual class per item. */
  readonly targets: readonly number[];
  /** Predicted class per item. */
  readonly decoded: readonly number[];
  /** Loss per item. */
  readonly losses: readonly number[];
  /** The items, when known. */
  readonly items: readonly unknown[] | undefined;
  /** Makes the model's input image for an item, when known (see {@link InterpretationInputs}). */
  readonly modelInput: ((item: unknown) => Promise<tf.Tensor3D>) | undefined;

  /**
   * @param inputs - Probabilities, targets, losses and vocab (and optionally the items).
   * @throws {@link ValueError} when the lengths disagree or a class index is out of range.
   */
  constructor(inputs: InterpretationInputs) {
    checkOptionKeys('ClassificationInterpretation', inputs, [
      'probs',
      'targets',
      'losses',
      'vocab',
      'decoded',
      'items',
      'modelInput',
    ]);
    const { probs, targets, losses, vocab } = inputs;
    const n = targets.length;
    const c = vocab.length;
    if (c === 0) throw invalidValue('vocab', 'a non-empty list of class names', vocab);
    const lengths: [string, number | undefined][] = [
      ['probs', probs.length],
      ['losses', losses.length],
      ['decoded', inputs.decoded?.length],
      ['items', inputs.items?.length],
    ];
    for (const [name, len] of lengths) {
      if (len !== undefined && len !== n) {
        throw new ValueError(
          `ClassificationInterpretation: \`${name}\` has ${len} entries but \`targets\` has ${n}; ` +
            'pass one per item',
        );
      }
    }
    probs.forEach((row, i) => {
      if (row.length !== c) {
        throw new ValueError(
          `ClassificationInterpretation: probs[${i}] has ${row.length} classes but vocab has ${c}`,
        );
      }
    });
    const decoded = inputs.decoded ?? probs.map(argmax);
    const checkIdx = (name: string, arr: readonly number[]) =>
      arr.forEach((v, i) => {
        if (!Number.isInteger(v) || v < 0 || v >= c) {
          throw new ValueError(
            `ClassificationInterpretation: ${name}[${i}] = ${v} is not a class index in [0, ${c - 1}]`,
          );
        }
      });
    checkIdx('targets', targets);
    checkIdx('decoded', decoded);
    this.vocab = vocab;
    this.probs = probs;
    this.targets = targets;
    this.decoded = decoded;
    this.losses = losses;
    this.items = inputs.items;
    this.modelInput = inputs.modelInput;
  }

  /**
   * Runs `learn.getPreds` on a dataset (validation by default) with losses and decoded
   * predictions, and builds the interpretation from them, as fastai's `from_learner`.
   *
   * @param learn - A classification learner (its data has a vocab).
   * @param options - `dsIdx`, `items`.
   * @returns The interpretation (it holds plain arrays: no tensors to dispose).
   * @throws {@link ValueError} when the data has no vocab (not single-label classification)
   *   or the predictions do not match the vocab.
   *
   * @example
   * ```ts
   * const interp = await tsf.ClassificationInterpretation.fromLearner(learn);
   * console.table(interp.mostConfused().slice(0, 5));
   * ```
   */
  static async fromLearner(
    learn: Learner,
    options: FromLearnerOptions = {},
  ): Promise<ClassificationInterpretation> {
    checkOptionKeys('ClassificationInterpretation.fromLearner', options, ['dsIdx', 'items']);
    const dsIdx = options.dsIdx ?? 1;
    if (dsIdx !== 0 && dsIdx !== 1)
      throw invalidValue('dsIdx', '0 (training) or 1 (validation)', dsIdx);
    const vocab = learn.dls.vocab;
    if (vocab === undefined) {
      throw new ValueError(
        'ClassificationInterpretation.fromLearner: the data has no vocab; interpretation needs a ' +
          'single-label classification (CategoryBlock) target',
      );
    }
    const res = await learn.getPreds({ dsIdx, withLoss: true, withDecoded: true });
    try {
      const preds = res.preds;
      const targs = res.targs as tf.Tensor; // present: withLoss throws on a stream without targets
      if (preds.rank !== 2 || preds.shape[1] !== vocab.length || targs.rank !== 1) {
        throw new ValueError(
          `ClassificationInterpretation.fromLearner: expected predictions [N, ${vocab.length}] and ` +
            `class-index targets [N]; got predictions [${preds.shape}] and targets [${targs.shape}] ` +
            '(multi-label and regression targets are not supported)',
        );
      }
      const probs = (await preds.array()) as number[][];
      const targets = Array.from(await targs.data(), (v) => Math.round(v));
      const losses = Array.from(await res.losses!.data());
      const decoded = Array.from(await res.decoded!.data(), (v) => Math.round(v));
      const stream = dsIdx === 1 ? learn.dls.valid : undefined;
      const items = options.items ?? (stream ? streamItems(stream) : undefined);
      const inputs: InterpretationInputs = { probs, targets, losses, vocab, decoded };
      const modelInput = modelInputOf(learn.dls);
      if (modelInput) inputs.modelInput = modelInput;
      if (items !== undefined && items.length === targets.length) inputs.items = items;
      else if (options.items !== undefined) inputs.items = options.items; // let the constructor report it
      return new ClassificationInterpretation(inputs);
    } finally {
      tf.dispose([res.preds, res.targs, res.losses, res.decoded].filter((t) => t !== undefined));
    }
  }

  /**
   * Counts of (actual, predicted) pairs.
   *
   * @returns `cm[actual][predicted]`, a `vocab.length` square matrix whose total is the
   *   number of items and whose diagonal counts the correct predictions.
   *
   * @example
   * ```ts
   * const cm = interp.confusionMatrix();
   * const accuracy = cm.reduce((s, row, i) => s + row[i], 0) / interp.targets.length;
   * ```
   */
  confusionMatrix(): number[][] {
    const c = this.vocab.length;
    const cm = Array.from({ length: c }, () => new Array<number>(c).fill(0));
    this.targets.forEach((t, i) => {
      cm[t]![this.decoded[i]!]! += 1;
    });
    return cm;
  }

  /**
   * scikit-learn's classification report of these predictions: precision, recall, F1 and
   * support per class, then accuracy and the macro and weighted averages (fastai's
   * `print_classification_report`).
   *
   * @returns The report text (not printed: `console.log(interp.printClassificationReport())`).
   *
   * @example
   * ```ts
   * console.log(interp.printClassificationReport());
   * ```
   * @remarks Differs from fastai: returns the text rather than printing it.
   */
  printClassificationReport(): string {
    return classificationReport(this.targets, this.decoded, this.vocab);
  }

  /**
   * Plots the confusion matrix (rows = actual, columns = predicted) with every class
   * labelled, as PNG.
   *
   * @param options - `normalize`, `file`, `title`.
   * @returns The PNG bytes (also written to `file` when given).
   * @throws {@link ValueError} on unknown options.
   *
   * @example
   * ```ts
   * await interp.plotConfusionMatrix({ file: 'out/confusion.png' });
   * ```
   */
  async plotConfusionMatrix(options: PlotConfusionMatrixOptions = {}): Promise<Buffer> {
    checkOptionKeys('plotConfusionMatrix', options, ['normalize', 'file', 'title']);
    const normalize = options.normalize ?? false;
    let cm: number[][] = this.confusionMatrix();
    if (normalize) {
      cm = cm.map((row) => {
        const total = row.reduce((a, b) => a + b, 0);
        return row.map((v) => (total === 0 ? 0 : v / total));
      });
    }
    const svg = heatmapSvg(cm, {
      rowLabels: this.vocab,
      colLabels: this.vocab,
      title: options.title ?? (normalize ? 'Confusion matrix (normalized)' : 'Confusion matrix'),
      xLabel: 'Predicted',
      yLabel: 'Actual',
    });
    if (options.file !== undefined) await writePng(svg, options.file);
    return svgToPng(svg);
  }

  /**
   * The off-diagonal cells of the confusion matrix with at least `minVal` items, most
   * frequent first (ties in class order).
   *
   * @param options - `minVal`.
   * @returns `[actual, predicted, count]` rows.
   * @throws {@link ValueError} when `minVal` is not a number.
   *
   * @example
   * ```ts
   * console.table(interp.mostConfused().slice(0, 5));
   * ```
   */
  mostConfused(options: MostConfusedOptions = {}): ConfusedPair[] {
    checkOptionKeys('mostConfused', options, ['minVal']);
    const minVal = options.minVal ?? 1;
    if (typeof minVal !== 'number' || Number.isNaN(minVal)) {
      throw invalidValue('minVal', 'a number', minVal);
    }
    const cm = this.confusionMatrix();
    const out: ConfusedPair[] = [];
    cm.forEach((row, i) => {
      row.forEach((count, j) => {
        if (i !== j && count >= minVal && count > 0)
          out.push([this.vocab[i]!, this.vocab[j]!, count]);
      });
    });
    return out.sort((a, b) => b[2] - a[2]);
  }

  /**
   * The `k` items with the highest loss (or lowest, with `largest: false`).
   *
   * @param k - How many; clipped to the number of items.
   * @param options - `largest` (default true).
   * @returns One {@link TopLoss} per item, worst first.
   * @throws {@link ValueError} when `k` is not a positive integer.
   *
   * @example
   * ```ts
   * for (const t of interp.topLosses(5)) console.log(t.actual, '->', t.predicted, t.loss);
   * ```
   */
  topLosses(k?: number, options: { largest?: boolean } = {}): TopLoss[] {
    checkOptionKeys('topLosses', options, ['largest']);
    const n = this.targets.length;
    const count = k ?? n;
    if (!Number.isInteger(count) || count < 1) throw invalidValue('k', 'a positive integer', k);
    const largest = options.largest ?? true;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
      largest ? this.losses[b]! - this.losses[a]! : this.losses[a]! - this.losses[b]!,
    );
    return order.slice(0, Math.min(count, n)).map((i) => {
      const t = this.targets[i]!;
      const p = this.decoded[i]!;
      return {
        index: i,
        loss: this.losses[i]!,
        actual: this.vocab[t]!,
        predicted: this.vocab[p]!,
        probability: this.probs[i]![t]!,
        predictedProbability: this.probs[i]![p]!,
        item: this.items?.[i],
      };
    });
  }

  /**
   * Shows the `k` items with the highest loss as an image grid, each titled
   * `predicted/actual/loss/probability` (fastai's layout; the probability is the one the
   * model gave to the actual class, so with cross-entropy loss = -ln(probability)). Like
   * fastai, each image is the model's input (resized/cropped as for validation and
   * de-normalised) when the interpretation knows how to make it (`fromLearner` does);
   * otherwise the image file as it is.
   *
   * @param k - How many images.
   * @param options - `file` (required), `ncols`, `tileSize`, `largest`.
   * @returns The rows shown, as {@link ClassificationInterpretation.topLosses} returns them.
   * @throws {@link ValueError} when the items are not image paths or bytes (pass `items` to
   *   `fromLearner`); {@link DataError} when an image cannot be read.
   *
   * @example
   * ```ts no-run (needs an interpretation of images)
   * await interp.plotTopLosses(9, { file: 'out/top-losses.png' });
   * ```
   */
  async plotTopLosses(k: number, options: PlotTopLossesOptions): Promise<TopLoss[]> {
    checkOptionKeys('plotTopLosses', options, ['file', 'ncols', 'tileSize', 'largest']);
    if (typeof options?.file !== 'string')
      throw invalidValue('file', 'a PNG file path', options?.file);
    const top = this.topLosses(k, { largest: options.largest ?? true });
    const tileSize = options.tileSize ?? 192;
    const tiles: { image: Awaited<ReturnType<typeof decodeImage>> | tf.Tensor3D; title: string }[] =
      [];
    const made: tf.Tensor3D[] = [];
    try {
      for (const t of top) {
        if (typeof t.item !== 'string' && !(t.item instanceof Uint8Array)) {
          throw new ValueError(
            `plotTopLosses: item ${t.index} is ${t.item === undefined ? 'unknown' : `a ${typeof t.item}`}, ` +
              'not an image path; pass `items` (image paths in dataset order) to fromLearner or ' +
              'the constructor',
          );
        }
        let image: Awaited<ReturnType<typeof decodeImage>> | tf.Tensor3D;
        if (this.modelInput) {
          const x = await this.modelInput(t.item);
          made.push(x);
          image = x;
        } else {
          image = await decodeImage(t.item);
        }
        const names = `${t.predicted}/${t.actual}`;
        // Captions use about tileSize / 14 px glyphs: split long breed pairs over two lines.
        const fits = names.length * 0.6 * Math.max(10, Math.round(tileSize / 14)) <= tileSize + 8;
        tiles.push({
          image,
          title: `${fits ? names : `${t.predicted}/\n${t.actual}`}\n${t.loss.toFixed(2)} / ${formatProb(t.probability)}`,
        });
      }
      const gridOptions: { file: string; ncols?: number; tileSize?: number } = {
        file: options.file,
      };
      if (options.ncols !== undefined) gridOptions.ncols = options.ncols;
      gridOptions.tileSize = tileSize;
      await imageGrid(tiles, gridOptions);
    } finally {
      tf.dispose(made);
    }
    return top;
  }
}

/**
 * The model's input for one item, from data that can encode raw items: the validation
 * pipeline's output, de-normalised with its `Normalize` and clipped to [0, 1].
 */
function modelInputOf(dls: DataLoadersLike): ((item: unknown) => Promise<tf.Tensor3D>) | undefined {
  const encode = dls.encodeInputs?.bind(dls);
  if (encode === undefined) return undefined;
  const tfms = (dls as Partial<{ batchTfms: readonly BatchTransform[] }>).batchTfms ?? [];
  const norm = tfms.find((t): t is Normalize => t instanceof Normalize);
  return async (item) => {
    const xs = await encode([item]);
    try {
      return tf.tidy(() => {
        const x = norm ? norm.decode(xs) : xs;
        return x.squeeze([0]).clipByValue(0, 1) as tf.Tensor3D;
      });
    } finally {
      xs.dispose();
    }
  };
}

/** A probability with two decimals, or one significant digit below 0.01 (fastai prints 0.00). */
function formatProb(p: number): string {
  return p >= 0.01 || p === 0 ? p.toFixed(2) : p.toExponential(0);
}

/** Items of a tsfast `DataLoader` in stream order, minus those it skipped; else undefined. */
function streamItems(stream: BatchStream): unknown[] | undefined {
  const dl = stream as Partial<{
    indices: readonly number[];
    dsets: { items: readonly unknown[] };
    skipped: readonly { item: unknown }[];
    settings: { shuffle: boolean };
  }>;
  if (!Array.isArray(dl.indices) || !Array.isArray(dl.dsets?.items) || dl.settings?.shuffle) {
    return undefined;
  }
  const skipped = new Set((dl.skipped ?? []).map((s) => s.item));
  return dl.indices.map((i) => dl.dsets!.items[i]).filter((item) => !skipped.has(item));
}
