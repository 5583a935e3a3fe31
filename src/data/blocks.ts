/**
 * Blocks say what kind of data each part of a sample is (fastai's `TransformBlock`): how a
 * value from `getX`/`getY` is encoded, how encoded values are stacked into a batch tensor, and
 * how a batch row is described for display.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, DataError, invalidValue } from '../core/errors.js';
import type { RandomGenerator } from '../core/random.js';
import type { JsonObject } from './batch.js';
import { registerBlock } from './registry.js';
import type { BatchTransform, BatchTransformContext, Transform } from './transforms.js';

/**
 * Which executor runs the batch transforms: `'tensor'` (each transform's tensor ops on the
 * backend), `'cpu'` (the input block's fused batch path, where it has one: images' one
 * JavaScript pass per image), `'auto'` (the fused path on the engines that gain from it, wasm
 * and cpu).
 */
export type AugExecutorChoice = 'auto' | 'tensor' | 'cpu';

/** What a block knows while encoding one value. */
export interface EncodeContext {
  /** True for training items (item transforms may draw random parameters). */
  readonly training: boolean;
  /** This item's own generator. */
  readonly rng: RandomGenerator;
  /** The DataBlock's item transforms. */
  readonly itemTfms: readonly Transform[];
  /**
   * The batch will be collated by this block's fused batch path (see
   * `FittedBlock.fusedBatch.takesAll`): the block may leave work of its item transforms to it
   * (an image block returns the decoded photo with its crop still to sample).
   */
  readonly deferToBatch?: boolean;
}

/** Options of a fitted block's `show` hook. */
export interface ShowOptions {
  /** Grid columns. */
  readonly ncols: number;
  /** PNG file to write. */
  readonly file: string;
  /** Tile edge in pixels. */
  readonly tileSize?: number;
}

/**
 * A block after `setup` on the training data (e.g. a category block with its vocab): the
 * object that encodes values and collates batches.
 */
export interface FittedBlock {
  /** Block name, e.g. `'CategoryBlock'`. */
  readonly name: string;
  /** Class names, for category blocks. */
  readonly vocab?: readonly string[];
  /** Number of model outputs this target needs. */
  readonly c?: number;
  /**
   * Registry name of the loss this target calls for (fastai's block `loss_func`); absent for
   * the default (cross-entropy with a vocab, MSE without).
   */
  readonly lossName?: string;
  /**
   * Range of the target values, for a head that squashes its outputs into it (fastai's
   * `y_range`, e.g. `[-1, 1]` for keypoints); absent for none.
   */
  readonly yRange?: readonly [number, number];
  /**
   * Encode when a batch is loaded (images) rather than once for all items up front
   * (labels, whose errors are then reported before training starts).
   */
  readonly lazy?: boolean;
  /**
   * Encodes one value from `getX`/`getY` (may be async, e.g. decoding an image).
   * @param value - The value.
   * @param item - The item it came from (for error messages).
   * @param ctx - Training flag, generator and item transforms.
   * @returns The encoded sample.
   */
  encode(value: unknown, item: unknown, ctx: EncodeContext): unknown;
  /**
   * Stacks encoded samples into one batch tensor (the caller owns it).
   * @param samples - Encoded samples, in batch order.
   * @param items - Their items (for error messages).
   * @returns The batch tensor.
   */
  collate(samples: readonly unknown[], items: readonly unknown[]): tf.Tensor;
  /**
   * Describes each row of a batch tensor (labels as text), for `showBatch`.
   * @param batch - A tensor made by `collate`.
   * @returns One string per row.
   */
  describe(batch: tf.Tensor): string[];
  /**
   * Draws a batch of inputs with captions to a PNG (image blocks).
   * @param xs - A batch tensor made by `collate` (before `Normalize`).
   * @param titles - One caption per row.
   * @param options - Grid layout and file.
   */
  show?(xs: tf.Tensor, titles: readonly string[], options: ShowOptions): Promise<void>;
  /**
   * The block's own way to collate a batch and apply the batch transforms in one step, for an
   * input block that has a faster executor than the transforms' tensor ops on some engines
   * (vision's image block: the fused CPU pass on wasm and cpu). The loader tries it before the
   * general path (`collate`, then each transform's `apply`).
   */
  readonly fusedBatch?: {
    /**
     * Collates and transforms a batch in one step.
     * @param samples - Encoded samples.
     * @param items - Their items.
     * @param tfms - Batch transforms, sorted by order.
     * @param ctx - Training flag and the batch generator.
     * @param executor - The executor requested.
     * @returns The transformed batch, or `undefined` for the general path.
     */
    collate(
      samples: readonly unknown[],
      items: readonly unknown[],
      tfms: readonly BatchTransform[],
      ctx: BatchTransformContext,
      executor: AugExecutorChoice,
    ): tf.Tensor | undefined;
    /**
     * Whether `collate` will take every batch these transforms make, so that `encode` may
     * leave work to it (`EncodeContext.deferToBatch`).
     * @param tfms - Batch transforms, sorted by order.
     * @param executor - The executor requested.
     * @returns True to defer.
     */
    takesAll(tfms: readonly BatchTransform[], executor: AugExecutorChoice): boolean;
  };
  // --- Targets that move with the input's geometry (segmentation masks) ---
  /**
   * Collates a target that must follow the input's geometry (a segmentation mask, keypoints):
   * called instead of `collate` with the batch transforms and a copy of the batch generator
   * taken before the inputs drew from it, so the target can replay the same random draws.
   * @param samples - Encoded targets, in batch order.
   * @param items - Their items.
   * @param tfms - Batch transforms, sorted by order.
   * @param ctx - Training flag and a fresh copy of the batch generator.
   * @param inputs - The input block's encoded samples (e.g. whether an image left its crop
   *   to the batch executor).
   * @returns The batch tensor (the caller owns it).
   */
  collateWithInput?(
    samples: readonly unknown[],
    items: readonly unknown[],
    tfms: readonly BatchTransform[],
    ctx: BatchTransformContext,
    inputs: readonly unknown[],
  ): tf.Tensor;
  /**
   * Draws inputs with this target over them (a mask overlaid on its image), for `showBatch`.
   * @param xs - Inputs made by `collate` (before `Normalize`).
   * @param ys - Targets made by `collateWithInput`/`collate`.
   * @param options - Grid layout and file.
   */
  showWithInput?(xs: tf.Tensor, ys: tf.Tensor, options: ShowOptions): Promise<void>;
  /** Declarative description (with the vocab), for export. */
  toConfig(): JsonObject;
}

/** A block before setup: fitted on the training values by the DataBlock. */
export interface Block {
  /** Block name. */
  readonly name: string;
  /**
   * Fits the block on the training data.
   * @param trainValues - `getX`/`getY` of every training item.
   * @returns The fitted block.
   */
  setup(trainValues: readonly unknown[]): FittedBlock;
}

/** A block, or a factory called with no arguments (`CategoryBlock` as well as `CategoryBlock()`). */
export type BlockLike = Block | (() => Block);

/**
 * Resolves a {@link BlockLike} to a block.
 * @param b - A block or block factory.
 * @returns The block.
 * @throws {@link ValueError} if `b` is neither.
 * @example
 * ```ts
 * resolveBlock(tsf.CategoryBlock).name; // 'CategoryBlock'
 * ```
 */
export function resolveBlock(b: BlockLike): Block {
  const block = typeof b === 'function' ? b() : b;
  if (!block || typeof block.setup !== 'function') {
    throw invalidValue('blocks[i]', 'a block such as ImageBlock or CategoryBlock', b);
  }
  return block;
}

function itemName(item: unknown): string {
  if (typeof item === 'string') return `"${item}"`;
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return String(item);
  }
}

/** Options of {@link CategoryBlock}. */
export interface CategoryBlockOptions {
  /**
   * Fixed class list; when absent, the sorted distinct training labels.
   * @defaultValue `undefined`
   */
  vocab?: readonly string[];
  /**
   * Sort the vocab found in the training labels.
   * @defaultValue `true`
   */
  sort?: boolean;
}

/**
 * fastai's `CategoryBlock`: single-label classification. Labels become int32 indices into
 * the vocab (sorted distinct training labels); a validation label never seen in training is
 * an error naming the label.
 *
 * @param options - Fixed vocab or sort order.
 * @returns The block.
 * @example
 * ```ts
 * const block = new tsf.DataBlock({
 *   blocks: [tsf.ImageBlock, tsf.CategoryBlock],
 *   getItems: tsf.getImageFiles,
 *   getY: tsf.parentLabel,
 * });
 * ```
 */
export function CategoryBlock(options: CategoryBlockOptions = {}): Block {
  checkOptionKeys('CategoryBlock', options, ['vocab', 'sort']);
  const sort = options.sort ?? true;
  return {
    name: 'CategoryBlock',
    setup(trainValues: readonly unknown[]): FittedBlock {
      let vocab: string[];
      if (options.vocab) vocab = [...options.vocab];
      else {
        vocab = [...new Set(trainValues.map((v) => String(v)))];
        if (sort) vocab.sort(compareLabels);
      }
      return categoryFitted(vocab);
    },
  };
}

function compareLabels(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function categoryFitted(vocab: readonly string[]): FittedBlock {
  const index = new Map(vocab.map((v, i) => [v, i]));
  return {
    name: 'CategoryBlock',
    vocab,
    c: vocab.length,
    encode(value: unknown, item: unknown): number {
      const i = index.get(String(value));
      if (i === undefined) {
        throw new DataError(
          `CategoryBlock: label "${String(value)}" of item ${itemName(item)} is not in the ` +
            `vocab (${vocab.length} labels seen in training). A category seen only in ` +
            'validation cannot be learned: move such items to training or pass `vocab`.',
        );
      }
      return i;
    },
    collate(samples: readonly unknown[]): tf.Tensor {
      return tf.tensor1d(samples as number[], 'int32');
    },
    describe(batch: tf.Tensor): string[] {
      return Array.from(batch.dataSync(), (i) => vocab[i] ?? String(i));
    },
    toConfig(): JsonObject {
      return { name: 'CategoryBlock', vocab: [...vocab] };
    },
  };
}

/** Options of {@link MultiCategoryBlock}. */
export interface MultiCategoryBlockOptions {
  /**
   * Fixed class list; when absent, the sorted distinct training labels.
   * @defaultValue `undefined`
   */
  vocab?: readonly string[];
}

/**
 * fastai's `MultiCategoryBlock`: multi-label classification. Each value is a list of labels
 * (or one string split on spaces); targets are float32 one-hot rows `[N, C]`.
 *
 * @param options - Fixed vocab.
 * @returns The block.
 * @example
 * ```ts
 * const block = new tsf.DataBlock({
 *   blocks: [tsf.ImageBlock, tsf.MultiCategoryBlock],
 *   getX: tsf.ColReader('fname'),
 *   getY: tsf.ColReader('labels', { labelDelim: ' ' }),
 * });
 * ```
 */
export function MultiCategoryBlock(options: MultiCategoryBlockOptions = {}): Block {
  checkOptionKeys('MultiCategoryBlock', options, ['vocab']);
  return {
    name: 'MultiCategoryBlock',
    setup(trainValues: readonly unknown[]): FittedBlock {
      const vocab = options.vocab
        ? [...options.vocab]
        : [...new Set(trainValues.flatMap((v) => toLabelList(v, v)))].sort(compareLabels);
      const index = new Map(vocab.map((v, i) => [v, i]));
      return {
        name: 'MultiCategoryBlock',
        vocab,
        c: vocab.length,
        lossName: 'BCEWithLogitsLossFlat',
        encode(value: unknown, item: unknown): number[] {
          return toLabelList(value, item).map((label) => {
            const i = index.get(label);
            if (i === undefined) {
              throw new DataError(
                `MultiCategoryBlock: label "${label}" of item ${itemName(item)} is not in the ` +
                  'vocab of the training labels; move such items to training or pass `vocab`.',
              );
            }
            return i;
          });
        },
        collate(samples: readonly unknown[]): tf.Tensor {
          const out = new Float32Array(samples.length * vocab.length);
          (samples as number[][]).forEach((idx, r) => {
            for (const i of idx) out[r * vocab.length + i] = 1;
          });
          return tf.tensor2d(out, [samples.length, vocab.length]);
        },
        describe(batch: tf.Tensor): string[] {
          const rows = batch.arraySync() as number[][];
          return rows.map((row) =>
            row
              .map((v, i) => (v > 0.5 ? vocab[i] : undefined))
              .filter((s) => s !== undefined)
              .join(';'),
          );
        },
        toConfig(): JsonObject {
          return { name: 'MultiCategoryBlock', vocab: [...vocab] };
        },
      };
    },
  };
}

function toLabelList(value: unknown, item: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v));
  if (typeof value === 'string') return value.split(/\s+/).filter((s) => s.length > 0);
  throw new DataError(
    `MultiCategoryBlock: item ${itemName(item)} gave ${itemName(value)}; getY must return a ` +
      'list of labels or a space-separated string.',
  );
}

/** Options of {@link RegressionBlock}. */
export interface RegressionBlockOptions {
  /**
   * Number of targets per item; inferred from the first training value when absent.
   * @defaultValue `undefined`
   */
  nOut?: number;
}

/**
 * fastai's `RegressionBlock`: float targets, `[N]` for one number per item, `[N, k]` for lists.
 *
 * @param options - Number of targets.
 * @returns The block.
 * @example
 * ```ts
 * const block = new tsf.DataBlock({
 *   blocks: [tsf.ImageBlock, tsf.RegressionBlock],
 *   getX: tsf.ColReader('fname'),
 *   getY: tsf.ColReader('age'),
 * });
 * ```
 */
export function RegressionBlock(options: RegressionBlockOptions = {}): Block {
  checkOptionKeys('RegressionBlock', options, ['nOut']);
  return {
    name: 'RegressionBlock',
    setup(trainValues: readonly unknown[]): FittedBlock {
      const first = trainValues[0];
      const scalar = options.nOut === undefined ? !Array.isArray(first) : false;
      const k = options.nOut ?? (Array.isArray(first) ? first.length : 1);
      const toNumbers = (value: unknown, item: unknown): number[] => {
        const arr = Array.isArray(value) ? value : [value];
        const nums = arr.map((v) => (typeof v === 'number' ? v : Number(v)));
        if (nums.length !== k || nums.some((n) => !Number.isFinite(n))) {
          throw new DataError(
            `RegressionBlock: item ${itemName(item)} gave ${itemName(value)}; expected ` +
              `${k} finite number(s).`,
          );
        }
        return nums;
      };
      return {
        name: 'RegressionBlock',
        c: k,
        encode: toNumbers,
        collate(samples: readonly unknown[]): tf.Tensor {
          const flat = (samples as number[][]).flat();
          return scalar ? tf.tensor1d(flat) : tf.tensor2d(flat, [samples.length, k]);
        },
        describe(batch: tf.Tensor): string[] {
          const rows = batch.arraySync() as number[] | number[][];
          return rows.map((r) =>
            Array.isArray(r) ? r.map((v) => v.toFixed(2)).join(', ') : r.toFixed(2),
          );
        },
        toConfig(): JsonObject {
          return { name: 'RegressionBlock', nOut: k, scalar };
        },
      };
    },
  };
}

registerBlock('CategoryBlock', (cfg) => categoryFitted((cfg.vocab as string[] | undefined) ?? []));
registerBlock('MultiCategoryBlock', (cfg) =>
  MultiCategoryBlock({ vocab: (cfg.vocab as string[] | undefined) ?? [] }).setup([]),
);
registerBlock('RegressionBlock', (cfg) => {
  const k = Number(cfg.nOut ?? 1);
  return RegressionBlock().setup(cfg.scalar === false ? [Array(k).fill(0)] : [0]);
});
