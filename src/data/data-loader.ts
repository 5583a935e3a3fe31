import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { DataError } from '../core/errors.js';
import { RandomGenerator } from '../core/random.js';
import type { Batch, BatchStream } from './batch.js';
import type { AugExecutorChoice } from './blocks.js';
import type { Datasets } from './datasets.js';
import type { BatchTransform, BatchTransformContext } from './transforms.js';

/** A file or item that could not be loaded and was skipped. */
export interface SkippedItem {
  /** The item. */
  readonly item: unknown;
  /** Why. */
  readonly reason: string;
}

/** Settings of one {@link DataLoader}. */
export interface DataLoaderSettings {
  /** Batch size. */
  readonly bs: number;
  /** Reshuffle every pass. */
  readonly shuffle: boolean;
  /** Drop the last incomplete batch. */
  readonly dropLast: boolean;
  /** Random item and batch transforms run (training mode). */
  readonly augment: boolean;
  /** Items handed to sharp at once (decoded on its thread pool, the rest queued there). */
  readonly concurrency: number;
  /** Batches decoded ahead of the consumer. */
  readonly prefetch: number;
  /** Skip items that fail to load with a {@link DataError}, reporting each once. */
  readonly skipBadItems: boolean;
  /** Executor of image augmentation. */
  readonly executor: AugExecutorChoice;
  /** Called once per skipped item. */
  readonly onSkip: (skipped: SkippedItem) => void;
}

/**
 * Batches of one split: seeded shuffling, `dropLast`, items decoded ahead of time in
 * sharp with bounded concurrency and memory (at most `prefetch + 1` batches in flight), then
 * collated and passed through the batch transforms. Each `for await` is one pass.
 *
 * Randomness is drawn in a fixed order when a batch is scheduled (the shuffle at the start of
 * a pass, then one seed per item and one per batch), so the same seed gives the same batches
 * however decoding is timed.
 *
 * @example
 * ```ts
 * for await (const { xs, ys } of dls.train) {
 *   // ... train on xs, ys
 *   tf.dispose([xs, ys]);
 * }
 * ```
 */
export class DataLoader implements BatchStream {
  /** The datasets. */
  readonly dsets: Datasets;
  /** Indices (into `dsets.items`) this loader serves. */
  readonly indices: readonly number[];
  /** Settings. */
  readonly settings: DataLoaderSettings;
  /** Items skipped so far (with `skipBadItems`). */
  readonly skipped: SkippedItem[] = [];
  private readonly rng: RandomGenerator;
  private readonly tfms: () => readonly BatchTransform[];
  private readonly skippedSet = new Set<number>();

  /**
   * @param dsets - The datasets.
   * @param indices - Item indices of this split.
   * @param settings - Batch size, shuffling, prefetch...
   * @param rng - The loader's generator (owned).
   * @param tfms - Returns the current batch transforms (so `normalize()` applies at once).
   */
  constructor(
    dsets: Datasets,
    indices: readonly number[],
    settings: DataLoaderSettings,
    rng: RandomGenerator,
    tfms: () => readonly BatchTransform[],
  ) {
    this.dsets = dsets;
    this.indices = indices;
    this.settings = settings;
    this.rng = rng;
    this.tfms = tfms;
  }

  /** Batch size. */
  get bs(): number {
    return this.settings.bs;
  }

  /** Whether batches carry targets (not so for a test set made without labels). */
  get hasTargets(): boolean {
    return this.dsets.blocks.length > this.dsets.nInp;
  }

  /** Items per pass (after `dropLast`). */
  get numItems(): number {
    const n = this.indices.length;
    return this.settings.dropLast ? n - (n % this.settings.bs) : n;
  }

  /** Batches per pass. */
  get numBatches(): number {
    const n = this.indices.length;
    return this.settings.dropLast
      ? Math.floor(n / this.settings.bs)
      : Math.ceil(n / this.settings.bs);
  }

  /**
   * One pass over the split.
   * @returns An async iterator of batches; the consumer disposes each batch's tensors.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    // Batches are tensors: the engine must be chosen first (showBatch or oneBatch may be the
    // first tensor work of a script), or tfjs would start on its default backend.
    await ready();
    const { bs, shuffle, dropLast, prefetch } = this.settings;
    const order = shuffle
      ? this.rng.permutation(this.indices.length).map((k) => this.indices[k]!)
      : [...this.indices];
    const batches: number[][] = [];
    for (let s = 0; s < order.length; s += bs) {
      const b = order.slice(s, s + bs);
      if (b.length < bs && dropLast) break;
      batches.push(b);
    }
    const limiter = new Limiter(this.settings.concurrency);
    const sortedTfms = [...this.tfms()].sort((a, b) => a.order - b.order);
    const defer =
      this.dsets.blocks[0]?.fusedBatch?.takesAll(sortedTfms, this.settings.executor) ?? false;
    const queue: Promise<Settled>[] = [];
    let next = 0;
    const fill = () => {
      while (queue.length <= prefetch && next < batches.length) {
        queue.push(this.schedule(batches[next++]!, limiter, defer));
      }
    };
    fill();
    while (queue.length > 0) {
      const settled = await queue.shift()!;
      fill();
      if (!settled.ok) throw settled.error;
      const batch = this.collate(settled.value);
      if (batch) yield batch;
    }
  }

  private schedule(indices: number[], limiter: Limiter, defer: boolean): Promise<Settled> {
    const training = this.settings.augment;
    const seeds = indices.map(() => this.rng.tensorSeed());
    const batchSeed = this.rng.tensorSeed();
    const loads = indices.map((idx, k) =>
      limiter.run(() => this.loadOne(idx, training, new RandomGenerator(seeds[k]!), defer)),
    );
    return Promise.all(loads).then(
      (samples): Settled => ({ ok: true, value: { indices, samples, batchSeed } }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
  }

  private async loadOne(
    idx: number,
    training: boolean,
    rng: RandomGenerator,
    defer: boolean,
  ): Promise<unknown[] | undefined> {
    if (this.skippedSet.has(idx)) return undefined;
    try {
      return await this.dsets.load(idx, training, rng, defer);
    } catch (err) {
      if (!(this.settings.skipBadItems && err instanceof DataError)) throw err;
      this.skippedSet.add(idx);
      const skipped = { item: this.dsets.items[idx], reason: err.message };
      this.skipped.push(skipped);
      this.settings.onSkip(skipped);
      return undefined;
    }
  }

  private collate(loaded: Loaded): Batch | undefined {
    const keep = loaded.samples
      .map((s, k) => ({ s, item: this.dsets.items[loaded.indices[k]!] }))
      .filter((e): e is { s: unknown[]; item: unknown } => e.s !== undefined);
    if (keep.length === 0) return undefined;
    return collateSamples(
      this.dsets,
      keep.map((e) => e.s),
      keep.map((e) => e.item),
      this.tfms(),
      { training: this.settings.augment, rng: new RandomGenerator(loaded.batchSeed) },
      this.settings.executor,
    );
  }
}

/**
 * Stacks encoded samples into a batch and applies the batch transforms to the inputs (through
 * the input block's fused executor when it has one for the active backend).
 *
 * @param dsets - The datasets (for the blocks).
 * @param samples - Per item, one encoded sample per block.
 * @param items - The items.
 * @param tfms - Batch transforms.
 * @param ctx - Training flag and the batch generator.
 * @param executor - Executor of image augmentation.
 * @returns The batch; the caller owns its tensors.
 * @throws {@link DataError} when samples cannot be stacked (e.g. images of different sizes).
 * @example
 * ```ts
 * const idx = dsets.valid.indices.slice(0, 4);
 * const samples = await Promise.all(idx.map((i) => dsets.load(i, false, rng)));
 * const items = idx.map((i) => dsets.items[i]);
 * const tfms = [tsf.Normalize.fromStats(tsf.imagenetStats)];
 * const batch = collateSamples(dsets, samples, items, tfms, { training: false, rng }, 'auto');
 * ```
 */
export function collateSamples(
  dsets: Datasets,
  samples: readonly (readonly unknown[])[],
  items: readonly unknown[],
  tfms: readonly BatchTransform[],
  ctx: BatchTransformContext,
  executor: AugExecutorChoice,
): Batch {
  const sorted = [...tfms].sort((a, b) => a.order - b.order);
  const input = dsets.blocks[0]!;
  const xSamples = samples.map((s) => s[0]);
  const target = dsets.blocks[dsets.nInp];
  // A target that follows the input's geometry replays the batch's draws on a copy.
  const replay = target?.collateWithInput ? { training: ctx.training, rng: ctx.rng.clone() } : null;
  let xs = input.fusedBatch?.collate(xSamples, items, sorted, ctx, executor);
  if (!xs) {
    const raw = input.collate(xSamples, items);
    xs = tf.tidy(() => {
      let x = raw;
      for (const t of sorted) x = t.apply(x, ctx);
      return x === raw ? raw.clone() : x;
    });
    raw.dispose();
  }
  const tSamples = samples.map((s) => s[dsets.nInp]);
  let ys: tf.Tensor;
  try {
    if (replay) ys = target!.collateWithInput!(tSamples, items, sorted, replay, xSamples);
    else ys = target ? target.collate(tSamples, items) : tf.zeros([items.length]);
  } catch (err) {
    xs.dispose();
    throw err;
  }
  return { xs, ys };
}

interface Loaded {
  indices: number[];
  samples: (unknown[] | undefined)[];
  batchSeed: number;
}

type Settled = { ok: true; value: Loaded } | { ok: false; error: unknown };

/** A FIFO semaphore: at most `limit` tasks run at once. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
