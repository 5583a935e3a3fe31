import { DataError } from '../core/errors.js';
import type { RandomGenerator } from '../core/random.js';
import type { EncodeContext, FittedBlock } from './blocks.js';
import type { Splits } from './splitters.js';
import type { Transform } from './transforms.js';

/** A getter: item -> the value a block encodes. */
export type Getter = (item: unknown) => unknown;

/** One split (training or validation) of a {@link Datasets}. */
export interface DatasetSplit {
  /** Indices into `Datasets.items`. */
  readonly indices: readonly number[];
  /** The items, in split order. */
  readonly items: readonly unknown[];
  /** Number of items. */
  readonly length: number;
}

/**
 * fastai's `Datasets`: the items, their split, and the fitted blocks. Targets are encoded
 * once for every item when the datasets are built (so a bad label fails early, naming the
 * item); inputs such as images are encoded when a batch is loaded.
 *
 * @example
 * ```ts
 * const dsets = await pets.datasets('../shared/data/pets/images');
 * dsets.train.length; dsets.vocab;
 * ```
 */
export class Datasets {
  /** All items. */
  readonly items: readonly unknown[];
  /** Training and validation indices. */
  readonly splits: Splits;
  /** Fitted blocks, inputs first. */
  readonly blocks: readonly FittedBlock[];
  /** Getter of each block. */
  readonly getters: readonly Getter[];
  /** Number of input blocks. */
  readonly nInp: number;
  /** Item transforms. */
  readonly itemTfms: readonly Transform[];
  /** Training split. */
  readonly train: DatasetSplit;
  /** Validation split. */
  readonly valid: DatasetSplit;
  private readonly eager: (unknown[] | undefined)[];

  /**
   * @param items - All items.
   * @param splits - Training and validation indices.
   * @param blocks - Fitted blocks (inputs first).
   * @param getters - One getter per block.
   * @param nInp - Number of inputs.
   * @param itemTfms - Item transforms.
   * @throws {@link DataError} naming the first item whose eager target fails to encode.
   */
  constructor(
    items: readonly unknown[],
    splits: Splits,
    blocks: readonly FittedBlock[],
    getters: readonly Getter[],
    nInp: number,
    itemTfms: readonly Transform[],
  ) {
    this.items = items;
    this.splits = splits;
    this.blocks = blocks;
    this.getters = getters;
    this.nInp = nInp;
    this.itemTfms = itemTfms;
    const split = (idx: readonly number[]): DatasetSplit => ({
      indices: idx,
      items: idx.map((i) => items[i]),
      length: idx.length,
    });
    this.train = split(splits[0]);
    this.valid = split(splits[1]);
    const used = [...splits[0], ...splits[1]];
    this.eager = blocks.map((b, k) => {
      if (b.lazy) return undefined;
      const enc: unknown[] = new Array(items.length);
      for (const i of used) {
        const value = getValue(getters[k]!, items[i], b.name);
        enc[i] = b.encode(value, items[i], NO_CTX);
      }
      return enc;
    });
  }

  /** Class names of the (first) category target. */
  get vocab(): readonly string[] | undefined {
    return this.blocks.slice(this.nInp).find((b) => b.vocab)?.vocab;
  }

  /** Model outputs of the (first) target. */
  get c(): number {
    return this.blocks[this.nInp]?.c ?? 0;
  }

  /**
   * Encodes item `index` (of `items`) for every block.
   * @param index - Index into `items`.
   * @param training - Training mode for item transforms.
   * @param rng - The item's generator.
   * @param deferToBatch - Let blocks leave work of their item transforms to their fused batch
   *   path (see `EncodeContext.deferToBatch`); only a loader that collates with it may.
   * @returns One encoded sample per block.
   * @throws {@link DataError} naming the item when a getter or decoding fails.
   * @example
   * ```ts
   * const [image, label] = await dsets.load(dsets.train.indices[0], false, rng);
   * ```
   */
  async load(
    index: number,
    training: boolean,
    rng: RandomGenerator,
    deferToBatch = false,
  ): Promise<unknown[]> {
    const item = this.items[index];
    const ctx: EncodeContext = { training, rng, itemTfms: this.itemTfms, deferToBatch };
    return Promise.all(
      this.blocks.map(async (b, k) => {
        const pre = this.eager[k];
        if (pre) return pre[index];
        return b.encode(getValue(this.getters[k]!, item, b.name), item, ctx);
      }),
    );
  }
}

const NO_CTX: EncodeContext = {
  training: false,
  get rng(): RandomGenerator {
    throw new Error('eager blocks draw no random numbers');
  },
  itemTfms: [],
};

function getValue(getter: Getter, item: unknown, block: string): unknown {
  try {
    return getter(item);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(
      `Getter of ${block} failed on item ${typeof item === 'string' ? `"${item}"` : JSON.stringify(item)}: ` +
        `${(err as Error).message}`,
      { cause: err },
    );
  }
}
