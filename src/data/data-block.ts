import { checkOptionKeys, DataError, invalidValue, ValueError } from '../core/errors.js';
import { RandomGenerator } from '../core/random.js';
import { type BlockLike, type FittedBlock, resolveBlock } from './blocks.js';
import { collateSamples } from './data-loader.js';
import { DataLoaders, type DataLoadersOptions } from './data-loaders.js';
import { Datasets, type Getter } from './datasets.js';
import { type DataSplitter, RandomSplitter, type Splits } from './splitters.js';
import { type BatchTransform, isBatchTransform, type Transform } from './transforms.js';

/** Options of {@link DataBlock}. */
export interface DataBlockOptions {
  /** The blocks: inputs first, then the target, e.g. `[ImageBlock, CategoryBlock]`. */
  blocks: readonly BlockLike[];
  /**
   * Lists the items of a source (e.g. {@link getImageFiles}); when absent, the source must
   * be the array of items (e.g. CSV rows).
   * @defaultValue `undefined`
   */
  getItems?: (source: string) => Promise<readonly unknown[]> | readonly unknown[];
  /**
   * Splits the items into training and validation.
   * @defaultValue `RandomSplitter()`
   */
  splitter?: DataSplitter;
  /**
   * Item -> input value (e.g. a file path); one per input block.
   * @defaultValue identity
   */
  getX?: Getter | readonly Getter[];
  /**
   * Item -> target value (e.g. a label); one per target block.
   * @defaultValue identity
   */
  getY?: Getter | readonly Getter[];
  /**
   * Per-item transforms (e.g. `Resize(460)`).
   * @defaultValue `[]`
   */
  itemTfms?: Transform | readonly Transform[];
  /**
   * Per-batch transforms (e.g. `augTransforms({ size: 224 })`).
   * @defaultValue `[]`
   */
  batchTfms?: BatchTransform | readonly BatchTransform[];
  /**
   * Number of input blocks (tsfast batches hold one input tensor).
   * @defaultValue `blocks.length - 1`
   */
  nInp?: number;
}

const DB_KEYS = [
  'blocks',
  'getItems',
  'splitter',
  'getX',
  'getY',
  'itemTfms',
  'batchTfms',
  'nInp',
] as const;

/** Options of {@link DataBlock.summary}. */
export interface SummaryOptions {
  /**
   * Also sends each line here as it is produced (e.g. `console.log`, to follow a slow step).
   * @defaultValue nowhere: the text is returned
   */
  log?: (line: string) => void;
}

const identity: Getter = (x) => x;

function list<T>(v: T | readonly T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...(v as readonly T[])] : [v as T];
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `"${v}"`;
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (typeof v === 'object' && v !== null && 'width' in v && 'height' in v) {
    const im = v as { width: number; height: number };
    return `RGB image ${im.width}x${im.height}`;
  }
  try {
    const s = JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * fastai's `DataBlock`: a declarative description of how to turn a source (a folder, a list of
 * rows) into datasets and DataLoaders.
 *
 * @example
 * ```ts no-run (needs the pets photos)
 * const pets = new tsf.DataBlock({
 *   blocks: [tsf.ImageBlock, tsf.CategoryBlock],
 *   getItems: tsf.getImageFiles,
 *   splitter: tsf.RandomSplitter({ seed: 42 }),
 *   getY: tsf.usingAttr(tsf.RegexLabeller(/(.+)_\d+.jpg$/), 'name'),
 *   itemTfms: tsf.Resize(460),
 *   batchTfms: tsf.augTransforms({ size: 224, minScale: 0.75 }),
 * });
 * const dls = await pets.dataloaders('../shared/data/pets/images');
 * ```
 */
export class DataBlock {
  /** The blocks, inputs first. */
  readonly blocks: readonly BlockLike[];
  /** Number of input blocks. */
  readonly nInp: number;
  /** Item transforms. */
  readonly itemTfms: readonly Transform[];
  /** Batch transforms. */
  readonly batchTfms: readonly BatchTransform[];
  private readonly options: DataBlockOptions;
  private readonly getters: Getter[];

  /**
   * @param options - Blocks, getters, splitter and transforms.
   * @throws {@link ValueError} on a wrong number of getters, blocks or a non-batch transform.
   */
  constructor(options: DataBlockOptions) {
    checkOptionKeys('DataBlock', options, DB_KEYS);
    if (!options.blocks || options.blocks.length < 1) {
      throw invalidValue(
        'blocks',
        'a list of blocks such as [ImageBlock, CategoryBlock]',
        options.blocks,
      );
    }
    this.options = options;
    this.blocks = options.blocks;
    const nInp = options.nInp ?? Math.max(1, options.blocks.length - 1);
    if (nInp !== 1 || options.blocks.length > 2) {
      throw new ValueError(
        `DataBlock: tsfast batches hold one input and at most one target; got ${options.blocks.length} ` +
          `blocks with nInp=${nInp}. Use [inputBlock, targetBlock].`,
      );
    }
    this.nInp = nInp;
    const getX = list(options.getX);
    const getY = list(options.getY);
    const nTarget = options.blocks.length - nInp;
    if (getX.length > nInp) {
      throw new ValueError(
        `DataBlock: getX contains ${getX.length} functions, but must contain ${nInp}.`,
      );
    }
    if (getY.length > nTarget) {
      throw new ValueError(
        `DataBlock: getY contains ${getY.length} functions, but must contain ${nTarget}` +
          (nTarget === 0 ? ' (there is no target block).' : '.'),
      );
    }
    this.getters = [
      ...Array.from({ length: nInp }, (_, i) => getX[i] ?? identity),
      ...Array.from({ length: nTarget }, (_, i) => getY[i] ?? identity),
    ];
    this.itemTfms = list(options.itemTfms);
    this.batchTfms = list(options.batchTfms);
    for (const t of this.batchTfms) {
      if (!isBatchTransform(t)) {
        throw invalidValue(
          'batchTfms',
          'batch transforms such as augTransforms() or Normalize',
          (t as Transform)?.name,
        );
      }
    }
  }

  /**
   * Lists and splits the items of `source`, and fits the blocks (vocab) on the training
   * part. Targets are encoded for every item here, so a bad label fails now, naming the item.
   *
   * @param source - A folder (for `getItems`) or the items themselves.
   * @returns The datasets.
   * @throws {@link DataError} on an empty source, overlapping or out-of-range splits, or an
   *   item whose label cannot be read or encoded.
   * @example
   * ```ts
   * const dsets = await pets.datasets('../shared/data/pets/images');
   * ```
   */
  async datasets(source: unknown): Promise<Datasets> {
    const items = await this.getItems(source);
    const splits = this.split(items);
    const fitted: FittedBlock[] = this.blocks.map((b, k) => {
      const block = resolveBlock(b);
      const getter = this.getters[k]!;
      const isTarget = k >= this.nInp;
      const values = isTarget
        ? splits[0].map((i) => {
            try {
              return getter(items[i]);
            } catch (err) {
              if (err instanceof DataError) throw err;
              throw new DataError(
                `getY failed on item ${describe(items[i])}: ${(err as Error).message}`,
                {
                  cause: err,
                },
              );
            }
          })
        : [];
      return block.setup(values);
    });
    return new Datasets(items, splits, fitted, this.getters, this.nInp, this.itemTfms);
  }

  /**
   * Builds the DataLoaders: shuffled, augmented training batches (`dropLast`) and
   * validation batches in order.
   * @param source - A folder (for `getItems`) or the items themselves.
   * @param options - Batch size (64), seed, prefetch... (see {@link DataLoadersOptions}).
   * @returns The DataLoaders.
   * @throws {@link DataError} as {@link DataBlock.datasets} does.
   * @example
   * ```ts
   * const dls = await pets.dataloaders('../shared/data/pets/images', { bs: 32, seed: 42 });
   * ```
   */
  async dataloaders(source: unknown, options: DataLoadersOptions = {}): Promise<DataLoaders> {
    const dsets = await this.datasets(source);
    return new DataLoaders(dsets, this.batchTfms, options);
  }

  /**
   * Walks the first training item through every step (items, split, getters, block
   * encoding with the item transforms, collation of a small batch, batch transforms), and
   * names the step that fails. Returns the report rather than printing it (a notebook shows a
   * returned string; in a script, log it).
   * @param source - As for {@link DataBlock.datasets}.
   * @param options - Where lines also go as they are produced.
   * @returns The report, one line per step.
   * @throws {@link DataError} naming the failing step, with the report up to it in the message
   *   and the underlying error as `cause`.
   * @example
   * ```ts
   * console.log(await pets.summary('../shared/data/pets/images'));
   * ```
   */
  async summary(source: unknown, options: SummaryOptions = {}): Promise<string> {
    checkOptionKeys('summary', options, ['log']);
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(line);
      options.log?.(line);
    };
    const step = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
      try {
        return await f();
      } catch (err) {
        log(`  FAILED at "${name}": ${(err as Error).message}`);
        throw new DataError(
          `DataBlock.summary: step "${name}" failed: ${(err as Error).message}\n${lines.join('\n')}`,
          { cause: err },
        );
      }
    };
    log(`Collecting items from ${describe(source)}`);
    const items = await step('getItems', () => this.getItems(source));
    log(`Found ${items.length} items`);
    const splits = await step('splitter', () => this.split(items));
    log(`${splits.length} datasets of sizes ${splits[0].length},${splits[1].length}`);
    const item = items[splits[0][0]!];
    log(`Building one sample from ${describe(item)}`);
    const values: unknown[] = [];
    for (let k = 0; k < this.blocks.length; k++) {
      const getterName = k < this.nInp ? 'getX' : 'getY';
      const value = await step(getterName, () => this.getters[k]!(item));
      log(`  ${getterName}: ${describe(value)}`);
      values.push(value);
    }
    const dsets = await step('setup blocks (getY on every training item, vocab)', () =>
      this.datasets(source),
    );
    log(`Vocab: ${dsets.vocab ? `${dsets.vocab.length} classes` : 'none'}`);
    const samples: unknown[] = [];
    for (let k = 0; k < dsets.blocks.length; k++) {
      const block = dsets.blocks[k]!;
      const value = values[k];
      const itemTfms = this.itemTfms.map((t) => t.name).join(', ') || 'none';
      const enc = await step(
        `${block.name}.encode${block.lazy ? ` (item transforms: ${itemTfms})` : ''}`,
        () =>
          block.encode(value, item, {
            training: true,
            rng: new RandomGenerator(0),
            itemTfms: this.itemTfms,
          }),
      );
      log(`  ${block.name}: ${describe(enc)}`);
      samples.push(enc);
    }
    const batch = await step('collate and batch transforms', () =>
      collateSamples(
        dsets,
        [samples, samples],
        [item, item],
        this.batchTfms,
        {
          training: true,
          rng: new RandomGenerator(0),
        },
        'tensor',
      ),
    );
    log(
      `Batch of 2: xs ${batch.xs.dtype} [${batch.xs.shape}], ys ${batch.ys.dtype} [${batch.ys.shape}]`,
    );
    log(`Batch transforms: ${this.batchTfms.map((t) => t.name).join(', ') || 'none'}`);
    batch.xs.dispose();
    batch.ys.dispose();
    return lines.join('\n');
  }

  private async getItems(source: unknown): Promise<readonly unknown[]> {
    let items: readonly unknown[];
    if (this.options.getItems) {
      if (typeof source !== 'string') {
        throw invalidValue('source', 'a folder path (getItems is set)', source);
      }
      items = await this.options.getItems(source);
    } else if (Array.isArray(source)) {
      items = source;
    } else {
      throw invalidValue('source', 'an array of items (no getItems is set)', source);
    }
    if (items.length === 0) {
      throw new DataError(
        `DataBlock: getItems found no items in ${describe(source)}. Check the path and the file ` +
          'extensions (getImageFiles lists .jpg, .jpeg, .png, ...).',
      );
    }
    return items;
  }

  private split(items: readonly unknown[]): Splits {
    const splitter = this.options.splitter ?? RandomSplitter();
    const [train, valid] = splitter(items);
    const seen = new Set<number>();
    for (const i of [...train, ...valid]) {
      if (!Number.isInteger(i) || i < 0 || i >= items.length) {
        throw new DataError(
          `DataBlock: the splitter returned index ${i} for ${items.length} items.`,
        );
      }
      if (seen.has(i)) {
        throw new DataError(
          `DataBlock: the splitter put item ${describe(items[i])} in both training and validation.`,
        );
      }
      seen.add(i);
    }
    if (train.length === 0) throw new DataError('DataBlock: the splitter left no training items.');
    return [train, valid];
  }
}
