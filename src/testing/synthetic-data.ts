/**
 * In-memory data for tests and examples: a `DataLoadersLike` over tensors, and seeded
 * synthetic problems (Gaussian blobs, a noisy linear map) that a small model can learn.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { type RandomGenerator, randomFor } from '../core/random.js';
import type { Batch, BatchStream, DataLoadersLike, JsonObject } from '../data/batch.js';

/**
 * Batches over two in-memory tensors: a fresh shuffle per pass when `shuffle`, and new
 * tensors per batch (the consumer disposes them, as the contract says).
 * @example
 * ```ts
 * const stream = new TensorBatchStream(x, y, { bs: 16, shuffle: true, seed: 1 });
 * for await (const { xs, ys } of stream) { tf.dispose([xs, ys]); }
 * ```
 */
export class TensorBatchStream implements BatchStream {
  /** Batches per pass. */
  readonly numBatches: number;
  /** Items per pass. */
  readonly numItems: number;
  private readonly rng: RandomGenerator;
  private readonly bs: number;
  private readonly shuffle: boolean;
  private readonly n: number;

  /**
   * @param xs - Inputs `[N, ...]` (kept, not copied: the caller keeps ownership).
   * @param ys - Targets `[N, ...]`.
   * @param options - `bs`, `shuffle`, `dropLast`, `seed`.
   */
  constructor(
    private readonly xs: tf.Tensor,
    private readonly ys: tf.Tensor,
    options: { bs: number; shuffle?: boolean; dropLast?: boolean; seed?: number },
  ) {
    this.n = xs.shape[0] as number;
    if (ys.shape[0] !== this.n) {
      throw invalidValue('ys', `a tensor with ${this.n} items like xs`, ys.shape);
    }
    this.bs = options.bs;
    this.shuffle = options.shuffle ?? false;
    const dropLast = options.dropLast ?? this.shuffle;
    this.numBatches = dropLast ? Math.floor(this.n / this.bs) : Math.ceil(this.n / this.bs);
    this.numItems = dropLast ? this.numBatches * this.bs : this.n;
    this.rng = randomFor(options.seed);
  }

  /** One pass over the data. */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const order = this.shuffle
      ? this.rng.permutation(this.n)
      : Array.from({ length: this.n }, (_, i) => i);
    for (let b = 0; b < this.numBatches; b++) {
      const idx = order.slice(b * this.bs, Math.min((b + 1) * this.bs, this.n));
      const batch = tf.tidy(() => {
        const i = tf.tensor1d(idx, 'int32');
        return { xs: tf.gather(this.xs, i), ys: tf.gather(this.ys, i) };
      });
      yield batch;
    }
  }
}

/**
 * Options of {@link syntheticDataLoaders}.
 * @example
 * ```ts
 * const { x: xTrain, y: yTrain } = makeBlobs({ n: 64, nFeatures: 8, nClasses: 2, seed: 1 });
 * const { x: xValid, y: yValid } = makeBlobs({ n: 32, nFeatures: 8, nClasses: 2, seed: 2 });
 * const options: SyntheticDataLoadersOptions = { xTrain, yTrain, xValid, yValid, bs: 16, seed: 1 };
 * const dls = syntheticDataLoaders(options);
 * ```
 */
export interface SyntheticDataLoadersOptions {
  /** Training inputs `[N, ...]`. */
  xTrain: tf.Tensor;
  /** Training targets. */
  yTrain: tf.Tensor;
  /** Validation inputs. */
  xValid: tf.Tensor;
  /** Validation targets. */
  yValid: tf.Tensor;
  /**
   * Batch size.
   * @defaultValue 16
   */
  bs?: number;
  /**
   * Class names (category targets).
   * @defaultValue undefined
   */
  vocab?: readonly string[];
  /**
   * Seed of the training shuffle.
   * @defaultValue a fork of the global generator
   */
  seed?: number;
  /**
   * Shuffle (and drop the last partial batch of) the training set.
   * @defaultValue true
   */
  shuffle?: boolean;
}

/**
 * A {@link DataLoadersLike} over in-memory tensors, owning them until `dispose()`.
 * @example
 * ```ts
 * const { x: xTrain, y: yTrain } = makeBlobs({ n: 64, nFeatures: 8, nClasses: 2, seed: 1 });
 * const { x: xValid, y: yValid } = makeBlobs({ n: 32, nFeatures: 8, nClasses: 2, seed: 2 });
 * const dls: SyntheticDataLoaders = syntheticDataLoaders({ xTrain, yTrain, xValid, yValid });
 * await new tsf.Learner(dls, model, { lossFunc: new tsf.CrossEntropyLossFlat() }).fit(1);
 * dls.dispose();
 * ```
 */
export interface SyntheticDataLoaders extends DataLoadersLike {
  /** Frees the four tensors. */
  dispose(): void;
}

/**
 * Data loaders over in-memory tensors, for tests and examples. The loaders take ownership
 * of the four tensors (`dispose()` frees them).
 * @param options - See {@link SyntheticDataLoadersOptions}.
 * @returns The loaders.
 * @throws `ValueError` (from `tsfast`) for unknown options or mismatched lengths.
 * @example
 * ```ts
 * const { x: xTrain, y: yTrain } = makeBlobs({ n: 64, nFeatures: 8, nClasses: 2, seed: 1 });
 * const { x: xValid, y: yValid } = makeBlobs({ n: 32, nFeatures: 8, nClasses: 2, seed: 2 });
 * const dls = syntheticDataLoaders({ xTrain, yTrain, xValid, yValid, bs: 32, vocab: ['a', 'b'] });
 * ```
 */
export function syntheticDataLoaders(options: SyntheticDataLoadersOptions): SyntheticDataLoaders {
  checkOptionKeys('syntheticDataLoaders', options, [
    'xTrain',
    'yTrain',
    'xValid',
    'yValid',
    'bs',
    'vocab',
    'seed',
    'shuffle',
  ]);
  const bs = options.bs ?? 16;
  const shuffle = options.shuffle ?? true;
  const { xTrain, yTrain, xValid, yValid } = options;
  const train = new TensorBatchStream(xTrain, yTrain, {
    bs,
    shuffle,
    dropLast: shuffle,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const valid = new TensorBatchStream(xValid, yValid, { bs, shuffle: false, dropLast: false });
  const vocab = options.vocab;
  const c = vocab?.length ?? (yTrain.rank > 1 ? (yTrain.shape[1] as number) : 1);
  const config: JsonObject = { kind: 'synthetic', bs, vocab: vocab ? [...vocab] : null };
  return {
    train,
    valid,
    vocab,
    c,
    toConfig: () => config,
    dispose: () => tf.dispose([xTrain, yTrain, xValid, yValid]),
  };
}

/**
 * Options of {@link makeBlobs}.
 * @example
 * ```ts
 * const { x, y } = makeBlobs({ n: 300, nFeatures: 4, nClasses: 3, spread: 0.5, seed: 1 });
 * ```
 */
export interface MakeBlobsOptions {
  /**
   * Items.
   * @defaultValue 256
   */
  n?: number;
  /**
   * Features per item.
   * @defaultValue 8
   */
  nFeatures?: number;
  /**
   * Classes.
   * @defaultValue 3
   */
  nClasses?: number;
  /**
   * Spread of each blob around its centre (centres are at distance ~2).
   * @defaultValue 1
   */
  spread?: number;
  /**
   * Seed.
   * @defaultValue a fork of the global generator
   */
  seed?: number;
}

/**
 * What {@link makeBlobs} returns.
 * @example
 * ```ts
 * const blobs: Blobs = makeBlobs({ n: 64, seed: 1 });
 * tf.dispose([blobs.x, blobs.y]);
 * ```
 */
export interface Blobs {
  /** Features, float32 `[n, nFeatures]`. */
  x: tf.Tensor2D;
  /** Class of each item, int32 `[n]` in `[0, nClasses)`. */
  y: tf.Tensor1D;
}

/**
 * Overlapping Gaussian blobs: a classification problem a small MLP learns but not perfectly.
 * @param options - See {@link MakeBlobsOptions}.
 * @returns `x` float32 `[n, nFeatures]` and `y` int32 `[n]`; the caller disposes them.
 * @example
 * ```ts
 * const { x, y } = makeBlobs({ n: 200, seed: 1 });
 * ```
 */
export function makeBlobs(options: MakeBlobsOptions = {}): Blobs {
  checkOptionKeys('makeBlobs', options, ['n', 'nFeatures', 'nClasses', 'spread', 'seed']);
  const n = options.n ?? 256;
  const d = options.nFeatures ?? 8;
  const k = options.nClasses ?? 3;
  const spread = options.spread ?? 1;
  const rng = randomFor(options.seed);
  const centres = Array.from({ length: k }, () =>
    Array.from({ length: d }, () => rng.normal(0, (2 / Math.sqrt(d)) * 1.5)),
  );
  const xs = new Float32Array(n * d);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.randInt(0, k);
    ys[i] = c;
    for (let j = 0; j < d; j++) xs[i * d + j] = (centres[c]?.[j] ?? 0) + rng.normal(0, spread);
  }
  return { x: tf.tensor2d(xs, [n, d]), y: tf.tensor1d(ys, 'int32') };
}
