import { availableParallelism } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { checkOptionKeys, DataError, invalidValue, ValueError } from '../core/errors.js';
import { RandomGenerator, randomFor } from '../core/random.js';
import type { Batch, DataLoadersLike, JsonObject, NormalizeStats, TestDlOptions } from './batch.js';
import type { AugExecutorChoice } from './blocks.js';
import {
  collateSamples,
  DataLoader,
  type DataLoaderSettings,
  type SkippedItem,
} from './data-loader.js';
import { type DatasetSplit, Datasets } from './datasets.js';
import { ExportedDataLoaders, registerPipelineLoader } from './exported-data-loaders.js';
import { Normalize } from './normalize.js';
import { blockFromConfig, transformFromConfig } from './registry.js';
import { type BatchTransform, isBatchTransform } from './transforms.js';

/** Options of `DataBlock.dataloaders` (and {@link DataLoaders.fromDatasets}). */
export interface DataLoadersOptions {
  /**
   * Batch size.
   * @defaultValue `64`
   */
  bs?: number;
  /**
   * Validation batch size.
   * @defaultValue `bs`
   */
  validBs?: number;
  /**
   * Shuffle training batches every epoch.
   * @defaultValue `true`
   */
  shuffle?: boolean;
  /**
   * Drop the last incomplete training batch.
   * @defaultValue `shuffle`
   */
  dropLast?: boolean;
  /**
   * Seed of shuffling and augmentation; drawn from the global generator (`setSeed`) when absent.
   * @defaultValue `undefined`
   */
  seed?: number;
  /**
   * Images handed to the decoders at once (sharp on libuv's thread pool, 4 threads unless
   * `UV_THREADPOOL_SIZE` says otherwise; TurboJPEG on koffi's worker threads). The ones waiting
   * are queued there, so decoding goes on while the JavaScript thread augments a batch (with 4,
   * the pool sat idle during that pass: 23% fewer images/s on the pets benchmark). A queued
   * image holds no pixels yet.
   * @defaultValue `max(64, availableParallelism())`
   */
  concurrency?: number;
  /**
   * Batches decoded ahead of training (bounds memory to `prefetch + 1` batches).
   * @defaultValue `2`
   */
  prefetch?: number;
  /**
   * Skip items that cannot be loaded (undecodable images), reporting each once through
   * `onSkip`, instead of failing.
   * @defaultValue `false`
   */
  skipBadImages?: boolean;
  /**
   * Called once per skipped item.
   * @defaultValue a `console.warn` naming the item
   */
  onSkip?: (skipped: SkippedItem) => void;
  /**
   * Executor of image augmentation: `'tensor'` (backend tensor ops), `'cpu'` (fused
   * JavaScript pass) or `'auto'` (cpu on the wasm and cpu backends, tensor otherwise).
   * @defaultValue `'auto'`
   */
  augExecutor?: AugExecutorChoice;
}

const DLS_KEYS = [
  'bs',
  'validBs',
  'shuffle',
  'dropLast',
  'seed',
  'concurrency',
  'prefetch',
  'skipBadImages',
  'onSkip',
  'augExecutor',
] as const;

/** Options of {@link DataLoaders.showBatch}. */
export interface ShowBatchOptions {
  /** PNG file to write. */
  file: string;
  /**
   * Rows of the grid.
   * @defaultValue from `maxN` and `ncols`
   */
  nrows?: number;
  /**
   * Columns of the grid.
   * @defaultValue `ceil(sqrt(n))`
   */
  ncols?: number;
  /**
   * Most images shown when `nrows * ncols` is not given.
   * @defaultValue `9`
   */
  maxN?: number;
  /**
   * Tile edge in pixels.
   * @defaultValue `192`
   */
  tileSize?: number;
}

/**
 * fastai's `DataLoaders`: the training loader (shuffled, augmented, `dropLast`) and the
 * validation loader (in order, never augmented), with the vocab and the batch transforms.
 * What `DataBlock.dataloaders` returns and the Learner consumes.
 *
 * @example
 * ```ts
 * const dls = await pets.dataloaders('../shared/data/pets/images', { seed: 42 });
 * dls.vocab?.length;             // 37
 * dls.normalize(tsf.imagenetStats);
 * await dls.showBatch({ nrows: 2, ncols: 4, file: 'batch.png' });
 * ```
 */
export class DataLoaders implements DataLoadersLike {
  /** The datasets. */
  readonly dsets: Datasets;
  /** Training batches. */
  readonly train: DataLoader;
  /** Validation batches. */
  readonly valid: DataLoader;
  private batchTfmList: BatchTransform[];
  private readonly base: DataLoaderSettings;
  private readonly rng: RandomGenerator;

  /**
   * @param dsets - The datasets.
   * @param batchTfms - Batch transforms (augmentation, `Normalize`).
   * @param options - Batch size, shuffling, seed, prefetch...
   * @throws {@link ValueError} on a bad option.
   */
  constructor(
    dsets: Datasets,
    batchTfms: readonly BatchTransform[],
    options: DataLoadersOptions = {},
  ) {
    checkOptionKeys('dataloaders', options, DLS_KEYS);
    const bs = options.bs ?? 64;
    const validBs = options.validBs ?? bs;
    for (const [k, v] of [
      ['bs', bs],
      ['validBs', validBs],
    ] as const) {
      if (!(Number.isInteger(v) && v > 0)) throw invalidValue(k, 'a positive integer', v);
    }
    const shuffle = options.shuffle ?? true;
    const concurrency = options.concurrency ?? Math.max(64, availableParallelism());
    const prefetch = options.prefetch ?? 2;
    if (!(Number.isInteger(concurrency) && concurrency > 0)) {
      throw invalidValue('concurrency', 'a positive integer', concurrency);
    }
    if (!(Number.isInteger(prefetch) && prefetch >= 0)) {
      throw invalidValue('prefetch', 'an integer >= 0', prefetch);
    }
    const executor = options.augExecutor ?? 'auto';
    if (!['auto', 'tensor', 'cpu'].includes(executor)) {
      throw invalidValue('augExecutor', "one of 'auto', 'tensor', 'cpu'", executor);
    }
    this.dsets = dsets;
    this.batchTfmList = [...batchTfms];
    this.rng = randomFor(options.seed);
    const reported = new Set<unknown>();
    const onSkip =
      options.onSkip ??
      ((s: SkippedItem) => {
        if (reported.has(s.item)) return;
        reported.add(s.item);
        console.warn(`tsfast: skipped ${JSON.stringify(s.item)}: ${s.reason}`);
      });
    this.base = {
      bs,
      shuffle,
      dropLast: options.dropLast ?? shuffle,
      augment: true,
      concurrency,
      prefetch,
      skipBadItems: options.skipBadImages ?? false,
      executor,
      onSkip,
    };
    const tfms = () => this.batchTfmList;
    this.train = new DataLoader(dsets, dsets.train.indices, this.base, this.rng.fork(), tfms);
    this.valid = new DataLoader(
      dsets,
      dsets.valid.indices,
      { ...this.base, bs: validBs, shuffle: false, dropLast: false, augment: false },
      this.rng.fork(),
      tfms,
    );
  }

  /**
   * Builds DataLoaders from datasets.
   * @param dsets - The datasets.
   * @param batchTfms - Batch transforms.
   * @param options - See {@link DataLoadersOptions}.
   * @returns The DataLoaders.
   * @example
   * ```ts
   * const dls = tsf.DataLoaders.fromDatasets(dsets, tsf.augTransforms(), { bs: 32 });
   * ```
   */
  static fromDatasets(
    dsets: Datasets,
    batchTfms: readonly BatchTransform[] = [],
    options: DataLoadersOptions = {},
  ): DataLoaders {
    return new DataLoaders(dsets, batchTfms, options);
  }

  /**
   * Rebuilds inference-only DataLoaders (no items; `encodeInputs`, `vocab`, `c` and the
   * batch transforms work) from {@link DataLoaders.toConfig}: what `loadLearner` uses, so an
   * exported learner can `predict` on image paths with no user code.
   * @param config - An exported pipeline description.
   * @returns The DataLoaders.
   * @throws {@link DataError} on a description without blocks or naming an unregistered
   *   block or transform.
   * @example
   * ```ts no-run (needs an exported learner's data config)
   * import { readFile } from 'node:fs/promises';
   * const text = await readFile('models/export/dls.json', 'utf8');
   * const dls = tsf.DataLoaders.fromConfig(JSON.parse(text));
   * const xs = await dls.encodeInputs(['my_cat.jpg']);
   * ```
   */
  static fromConfig(config: JsonObject): DataLoaders {
    const blockConfigs = config.blocks;
    if (!Array.isArray(blockConfigs) || blockConfigs.length === 0) {
      throw new DataError(`DataLoaders.fromConfig: no "blocks" in ${JSON.stringify(config)}.`);
    }
    const blocks = (blockConfigs as JsonObject[]).map((b) => blockFromConfig(b));
    const list = (key: string) =>
      ((config[key] as JsonObject[] | undefined) ?? []).map(transformFromConfig);
    const batchTfms = list('batchTfms').filter(isBatchTransform);
    const nInp = typeof config.nInp === 'number' ? config.nInp : 1;
    const dsets = new Datasets(
      [],
      [[], []],
      blocks,
      blocks.map(() => (x: unknown) => x),
      nInp,
      list('itemTfms'),
    );
    const bs = typeof config.bs === 'number' ? config.bs : 64;
    return new DataLoaders(dsets, batchTfms, { bs });
  }

  /** Training batch size. */
  get bs(): number {
    return this.base.bs;
  }

  /** Training items. */
  get trainDs(): DatasetSplit {
    return this.dsets.train;
  }

  /** Validation items. */
  get validDs(): DatasetSplit {
    return this.dsets.valid;
  }

  /** Class names of the category target, or `undefined`. */
  get vocab(): readonly string[] | undefined {
    return this.dsets.vocab;
  }

  /** Number of model outputs the targets need. */
  get c(): number {
    return this.dsets.c;
  }

  /** Range of the targets for the model's head (fastai's `y_range`), if the target block says. */
  get yRange(): readonly [number, number] | undefined {
    return this.dsets.blocks[this.dsets.nInp]?.yRange;
  }

  /** Registry name of the loss the target block calls for (fastai's `dls.loss_func`), if any. */
  get lossName(): string | undefined {
    return this.dsets.blocks[this.dsets.nInp]?.lossName;
  }

  /** The batch transforms, sorted by order. */
  get batchTfms(): readonly BatchTransform[] {
    return [...this.batchTfmList].sort((a, b) => a.order - b.order);
  }

  /** Items skipped so far by either loader (with `skipBadImages`). */
  get skipped(): readonly SkippedItem[] {
    return [...this.train.skipped, ...this.valid.skipped];
  }

  /**
   * Sets the `Normalize` batch transform, replacing any earlier one (what `visionLearner`
   * calls with the pretrained model's statistics).
   * @param stats - Per-channel mean and std, e.g. {@link imagenetStats}.
   * @example
   * ```ts
   * dls.normalize(tsf.imagenetStats);
   * ```
   */
  normalize(stats: NormalizeStats): void {
    this.batchTfmList = [
      ...this.batchTfmList.filter((t) => !(t instanceof Normalize)),
      new Normalize(stats),
    ];
  }

  /**
   * The `Normalize` transform in use, if any.
   * @returns The transform or `undefined`.
   * @example
   * ```ts
   * dls.normalizer?.stats.mean;
   * ```
   */
  get normalizer(): Normalize | undefined {
    return this.batchTfmList.find((t): t is Normalize => t instanceof Normalize);
  }

  /**
   * Validation items in order, with the training item and batch augmentation (for TTA).
   * @returns A stream of batches.
   * @example
   * ```ts
   * for await (const b of dls.validWithAugmentation()) {
   *   console.log(b.xs.shape); // augmented validation images
   * }
   * ```
   */
  validWithAugmentation(): DataLoader {
    return new DataLoader(
      this.dsets,
      this.dsets.valid.indices,
      { ...this.valid.settings, augment: true },
      this.rng.fork(),
      () => this.batchTfmList,
    );
  }

  /**
   * Batches of new items (e.g. image paths), made as the validation set is: in order, no
   * augmentation, the same item and batch transforms (fastai's `test_dl`). Without
   * `withLabels` the batches hold no targets (`hasTargets` is false); with it, each item's
   * target is read by the DataBlock's `getY` and encoded with the training vocab, so a label
   * the vocab lacks fails here, naming the item.
   * @param items - Raw items, as `getItems` would return them.
   * @param options - `withLabels`, `bs`, `skipBadImages`.
   * @returns A loader for `learn.getPreds({ dl })`.
   * @throws {@link ValueError} on no items or a bad option; {@link DataError} naming an item
   *   whose label cannot be read or encoded (with `withLabels`).
   * @example
   * ```ts
   * const dl = dls.testDl(await tsf.getImageFiles('new-photos'));
   * const { preds } = await learn.getPreds({ dl });
   * ```
   */
  testDl(items: readonly unknown[], options: TestDlOptions = {}): DataLoader {
    checkOptionKeys('testDl', options, ['withLabels', 'bs', 'skipBadImages']);
    if (!Array.isArray(items) || items.length === 0) {
      throw invalidValue('items', 'a non-empty array of items', items);
    }
    const bs = options.bs ?? this.valid.bs;
    if (!(Number.isInteger(bs) && bs > 0)) throw invalidValue('bs', 'a positive integer', bs);
    const d = this.dsets;
    const withLabels = options.withLabels ?? false;
    const n = withLabels ? d.blocks.length : d.nInp;
    const dsets = new Datasets(
      items,
      [[], items.map((_, i) => i)],
      d.blocks.slice(0, n),
      d.getters.slice(0, n),
      d.nInp,
      d.itemTfms,
    );
    const settings = {
      ...this.valid.settings,
      bs,
      skipBadItems: options.skipBadImages ?? this.valid.settings.skipBadItems,
    };
    return new DataLoader(
      dsets,
      dsets.valid.indices,
      settings,
      this.rng.fork(),
      () => this.batchTfmList,
    );
  }

  /**
   * The model input for raw items (e.g. image paths), made as for validation (no
   * augmentation) and normalised.
   * @param items - Raw items, as `getItems` would return them.
   * @returns `xs`; the caller disposes it.
   * @throws {@link DataError} naming an item that cannot be loaded.
   * @example
   * ```ts
   * const xs = await dls.encodeInputs(['my_cat.jpg']);
   * ```
   */
  async encodeInputs(items: readonly unknown[]): Promise<tf.Tensor> {
    if (items.length === 0) throw new ValueError('encodeInputs: `items` is empty.');
    await ready();
    const input = this.dsets.blocks[0]!;
    const getter = this.dsets.getters[0]!;
    const rng = new RandomGenerator(0);
    const sorted = [...this.batchTfmList].sort((a, b) => a.order - b.order);
    // The same decoding as the validation loader's, so predictions see what validation saw.
    const deferToBatch = input.fusedBatch?.takesAll(sorted, this.base.executor) ?? false;
    const ctx = { training: false, rng, itemTfms: this.dsets.itemTfms, deferToBatch };
    const samples = await Promise.all(
      items.map(async (item) => [await input.encode(getter(item), item, ctx)]),
    );
    const batch = collateSamples(
      { ...this.dsets, blocks: [input], nInp: 1 } as unknown as Datasets,
      samples,
      items,
      this.batchTfmList,
      { training: false, rng },
      this.base.executor,
    );
    batch.ys.dispose();
    return batch.xs;
  }

  /**
   * One training batch (shuffled and augmented), as fastai's `one_batch`.
   * @returns The batch; the caller disposes its tensors.
   * @example
   * ```ts
   * const { xs, ys } = await dls.oneBatch();
   * ```
   */
  async oneBatch(): Promise<Batch> {
    return firstBatch(this.sampleLoader(this.base.bs, this.batchTfmList));
  }

  /**
   * Writes a PNG grid of training images (augmented, before `Normalize`) captioned with
   * their labels, as fastai's `show_batch`.
   * @param options - File and grid layout.
   * @returns Resolves when the file is written.
   * @throws {@link ValueError} if the input block cannot be shown.
   * @example
   * ```ts
   * await dls.showBatch({ nrows: 2, ncols: 4, file: 'batch.png' });
   * ```
   */
  async showBatch(options: ShowBatchOptions): Promise<void> {
    checkOptionKeys('showBatch', options, ['file', 'nrows', 'ncols', 'maxN', 'tileSize']);
    const input = this.dsets.blocks[0]!;
    if (!input.show) throw new ValueError(`showBatch: ${input.name} inputs cannot be drawn.`);
    const want =
      options.nrows !== undefined && options.ncols !== undefined
        ? options.nrows * options.ncols
        : (options.maxN ?? 9);
    const n = Math.min(want, this.dsets.train.length);
    const tfms = this.batchTfmList.filter((t) => !(t instanceof Normalize));
    const { xs, ys } = await firstBatch(this.sampleLoader(n, tfms));
    try {
      const target = this.dsets.blocks[this.dsets.nInp];
      const ncols =
        options.ncols ??
        (options.nrows !== undefined ? Math.ceil(n / options.nrows) : Math.ceil(Math.sqrt(n)));
      if (target?.showWithInput) {
        const tile = options.tileSize === undefined ? {} : { tileSize: options.tileSize };
        await target.showWithInput(xs, ys, { ncols, file: options.file, ...tile });
        return;
      }
      const titles = target ? target.describe(ys) : Array(n).fill('');
      await input.show(xs, titles, {
        ncols,
        file: options.file,
        ...(options.tileSize === undefined ? {} : { tileSize: options.tileSize }),
      });
    } finally {
      xs.dispose();
      ys.dispose();
    }
  }

  /**
   * Declarative description of the inference pipeline (blocks with vocab, item transforms,
   * validation-time batch transforms), for `export`/`loadLearner`.
   * @returns JSON.
   * @example
   * ```ts
   * JSON.stringify(dls.toConfig());
   * ```
   */
  toConfig(): JsonObject {
    return {
      blocks: this.dsets.blocks.map((b) => b.toConfig()),
      nInp: this.dsets.nInp,
      itemTfms: this.dsets.itemTfms.map((t) => t.toConfig()),
      batchTfms: this.batchTfms.map((t) => t.toConfig()),
      bs: this.base.bs,
    };
  }

  private sampleLoader(bs: number, tfms: readonly BatchTransform[]): DataLoader {
    return new DataLoader(
      this.dsets,
      this.dsets.train.indices,
      { ...this.base, bs, dropLast: false, prefetch: 0 },
      this.rng.fork(),
      () => tfms,
    );
  }
}

async function firstBatch(loader: DataLoader): Promise<Batch> {
  for await (const batch of loader) return batch;
  throw new ValueError('The training set is empty: there is no batch to take.');
}

// loadLearner rebuilds the data pipeline of an exported learner through this. Descriptions
// that no DataBlock wrote (e.g. in-memory test data) keep the exported vocab only.
registerPipelineLoader((config) => {
  if (Array.isArray(config.blocks)) return DataLoaders.fromConfig(config);
  const vocab = Array.isArray(config.vocab) ? (config.vocab as string[]) : undefined;
  const c = typeof config.c === 'number' ? config.c : (vocab?.length ?? 0);
  return new ExportedDataLoaders(vocab, c, config);
});
