/**
 * The contract between data and training: what a DataLoader yields and what the Learner
 * consumes. Kept in its own file so the learner depends on this shape, not on how batches
 * are made.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * One batch. Images are NHWC float32 in [0, 1] before `Normalize`, normalised after;
 * category targets are int32 `[N]` label indices, multi-category targets float32 `[N, C]`
 * one-hot, regression targets float32 `[N]` or `[N, k]`.
 *
 * The consumer owns both tensors and disposes them when done with the batch.
 */
export interface Batch {
  /** Model input. */
  readonly xs: tf.Tensor;
  /** Targets. */
  readonly ys: tf.Tensor;
}

/**
 * A finite, re-iterable stream of batches: each `for await` is one pass (one epoch), with a
 * fresh shuffle and fresh augmentation draws in training.
 */
export interface BatchStream extends AsyncIterable<Batch> {
  /** Batches per pass. */
  readonly numBatches: number;
  /** Items per pass (after `dropLast`). */
  readonly numItems: number;
  /**
   * `false` when the batches carry no targets (a test set made without labels): `ys` is then
   * a placeholder, and `getPreds` returns no `targs`.
   * @defaultValue `true`
   */
  readonly hasTargets?: boolean;
}

/** Per-channel statistics that `Normalize` uses: `(x - mean) / std` on [0, 1] pixels. */
export interface NormalizeStats {
  /** Per-channel mean. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation. */
  readonly std: readonly number[];
}

/** ImageNet statistics, as torchvision and fastai use them. */
export const imagenetStats: NormalizeStats = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Maps [0, 1] pixels to [-1, 1], as the tfjs/Keras MobileNets expect. */
export const inceptionStats: NormalizeStats = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

/** A JSON value, as `toConfig()` methods return and `fromConfig()` methods take. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * What the Learner needs from its data: `DataBlock.dataloaders()` returns a class that
 * implements this, and tests may implement it over in-memory tensors.
 */
export interface DataLoadersLike {
  /** Shuffled, augmented training batches (`dropLast`). */
  readonly train: BatchStream;
  /** Validation batches in order, never augmented. */
  readonly valid: BatchStream;
  /** Class names (index = label) for category targets; `undefined` otherwise. */
  readonly vocab: readonly string[] | undefined;
  /** Number of model outputs the targets need (classes, or regression targets). */
  readonly c: number;
  /**
   * Registry name of the loss the targets call for (fastai's `dls.loss_func`, e.g.
   * `'BCEWithLogitsLossFlat'` for multi-label); the learner's default when it is given none.
   */
  readonly lossName?: string;
  /** Range of the targets, for a head squashing into it (fastai's `y_range`), if any. */
  readonly yRange?: readonly [number, number];
  /**
   * Validation items in order, with the training augmentation (for test-time augmentation).
   * Absent when the pipeline has none.
   */
  validWithAugmentation?(): BatchStream;
  /**
   * The model input for raw items (e.g. image paths), made as for validation and normalised.
   * The caller disposes the tensor.
   */
  encodeInputs?(items: readonly unknown[]): Promise<tf.Tensor>;
  /** Sets the `Normalize` batch transform (replacing any earlier one). */
  normalize?(stats: NormalizeStats): void;
  /** Declarative description of the inference pipeline, for `export`/`loadLearner`. */
  toConfig?(): JsonObject;
  /**
   * Batches of new items made as the validation set is (fastai's `test_dl`), with their
   * targets when `withLabels`.
   */
  testDl?(items: readonly unknown[], options?: TestDlOptions): BatchStream;
}

/**
 * Options of `dls.testDl` (fastai's `test_dl`).
 * @example
 * ```ts
 * const dl = dls.testDl(files, { withLabels: true, bs: 16 });
 * ```
 */
export interface TestDlOptions {
  /**
   * Read each item's target with the DataBlock's `getY` too (the items must then have
   * labels the vocab knows).
   * @defaultValue `false`
   */
  withLabels?: boolean;
  /**
   * Batch size.
   * @defaultValue the validation batch size
   */
  bs?: number;
  /**
   * Skip items that cannot be loaded (listed in the loader's `skipped`) instead of failing.
   * @defaultValue the DataLoaders' `skipBadImages`
   */
  skipBadImages?: boolean;
}
