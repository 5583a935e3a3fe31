/**
 * How an exported learner's data description becomes data loaders again: the data layer
 * registers its rebuild function here, and `loadLearner` (a layer below) calls it.
 */
import type { BatchStream, DataLoadersLike, JsonObject } from './batch.js';

/**
 * Rebuilds data loaders from an exported pipeline description.
 * @example
 * ```ts
 * const loader: tsf.PipelineLoader = (config) => tsf.DataLoaders.fromConfig(config);
 * tsf.registerPipelineLoader(loader);
 * ```
 */
export type PipelineLoader = (config: JsonObject) => DataLoadersLike | Promise<DataLoadersLike>;

let pipelineLoader: PipelineLoader | undefined;

/**
 * Registers how `loadLearner` rebuilds the data pipeline from its exported JSON (the data
 * module registers its `DataLoaders.fromConfig` here).
 * @param loader - The function.
 * @example
 * ```ts
 * tsf.registerPipelineLoader((cfg) => tsf.DataLoaders.fromConfig(cfg));
 * ```
 */
export function registerPipelineLoader(loader: PipelineLoader): void {
  pipelineLoader = loader;
}

/**
 * Rebuilds the data pipeline of an exported learner with the registered loader.
 * @param config - The exported pipeline description.
 * @returns The rebuilt loaders, or `undefined` when no loader is registered.
 * @example
 * ```ts no-run (needs an exported learner's pipeline)
 * const dls = await rebuildDataLoaders({ blocks: [], vocab: ['cat', 'dog'] });
 * ```
 */
export async function rebuildDataLoaders(config: JsonObject): Promise<DataLoadersLike | undefined> {
  return pipelineLoader === undefined ? undefined : await pipelineLoader(config);
}

const EMPTY: BatchStream = {
  numBatches: 0,
  numItems: 0,
  async *[Symbol.asyncIterator]() {},
};

/**
 * The data of a loaded learner when no pipeline loader is registered: vocab, `c` and the
 * exported configuration, with empty training and validation streams.
 * @example
 * ```ts no-run (needs an exported learner)
 * const inf = await tsf.loadLearner('export');
 * inf.dls.vocab; // ['cat', 'dog']
 * ```
 */
export class ExportedDataLoaders implements DataLoadersLike {
  /** Empty. */
  readonly train = EMPTY;
  /** Empty. */
  readonly valid = EMPTY;

  /**
   * @param vocab - Class names.
   * @param c - Number of outputs.
   * @param config - The exported pipeline description.
   */
  constructor(
    readonly vocab: readonly string[] | undefined,
    readonly c: number,
    private readonly config: JsonObject | null,
  ) {}

  /** @returns The exported pipeline description (empty object if none). */
  toConfig(): JsonObject {
    return this.config ?? {};
  }
}
