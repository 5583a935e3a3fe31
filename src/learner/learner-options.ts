/**
 * The Learner's options: what a user may pass, and the same with every default applied (the
 * only form the Learner reads, so a default is decided in one place).
 */
import type * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, DataError, invalidValue } from '../core/errors.js';
import type { DataLoadersLike } from '../data/batch.js';
import { Adam } from './adam.js';
import { type ThreadCount, trainingThreads } from './data-parallel/threads.js';
import type { Callback } from './events.js';
import { CrossEntropyLossFlat, type Loss, lossFromConfig } from './losses.js';
import { type Metric, type MetricFunc, toMetric } from './metrics.js';
import type { OptimizerFactory } from './optimizer.js';
import { type Splitter, trainableParams } from './param-groups.js';

/**
 * A loss given as a plain function of (predictions, targets) returning a scalar.
 * @example
 * ```ts
 * const mae: tsf.LossFunction = (pred, targ) => pred.sub(targ).abs().mean();
 * const learn = new tsf.Learner(dls, model, { lossFunc: mae });
 * ```
 */
export type LossFunction = (pred: tf.Tensor, targ: tf.Tensor) => tf.Tensor;

/**
 * Options of {@link Learner}.
 * @example
 * ```ts
 * const options: tsf.LearnerOptions = {
 *   lossFunc: new tsf.CrossEntropyLossFlat(),
 *   metrics: [tsf.accuracy, tsf.errorRate],
 *   wd: 0.01,
 * };
 * const learn = new tsf.Learner(dls, model, options);
 * ```
 */
export interface LearnerOptions {
  /**
   * The loss: a {@link Loss} (activation and decoding included) or a plain function.
   * @defaultValue `CrossEntropyLossFlat` when the data has a vocab, else `MSELossFlat`
   */
  lossFunc?: Loss | LossFunction;
  /**
   * Builds the optimizer from the parameter groups and the learning rate.
   * @defaultValue `(groups, lr) => new Adam(groups, { lr })`
   */
  optFunc?: OptimizerFactory;
  /**
   * Default learning rate.
   * @defaultValue 1e-3
   */
  lr?: number;
  /**
   * Splits the model into parameter groups, body first, head last.
   * @defaultValue {@link trainableParams} (one group)
   */
  splitter?: Splitter;
  /**
   * Weight decay set on every `fit`; `undefined` keeps the optimizer's default.
   * @defaultValue undefined
   */
  wd?: number;
  /**
   * Apply weight decay to BatchNorm and bias parameters too.
   * @defaultValue false
   */
  wdBnBias?: boolean;
  /**
   * BatchNorm layers in frozen groups still train their scale/shift (and run on batch
   * statistics unless {@link BnFreeze} is added).
   * @defaultValue true
   */
  trainBn?: boolean;
  /**
   * Momentum schedule of one-cycle: start, middle, end.
   * @defaultValue [0.95, 0.85, 0.95]
   */
  moms?: readonly [number, number, number];
  /**
   * Metrics computed on the validation set each epoch.
   * @defaultValue []
   */
  metrics?: readonly (MetricFunc | Metric)[];
  /**
   * Extra callbacks, kept for every fit.
   * @defaultValue []
   */
  cbs?: readonly Callback[];
  /**
   * Folder for `save`/`load`/`export`.
   * @defaultValue '.'
   */
  path?: string;
  /**
   * Sub-folder of `path` where `save`/`load` write.
   * @defaultValue 'models'
   */
  modelDir?: string;
  /**
   * Where the Progress callback writes its table lines.
   * @defaultValue `console.log`
   */
  logger?: (line: string) => void;
  /**
   * On wasm, split a training batch that does not fit the heap into micro-batches with
   * gradient accumulation (one step per batch; BatchNorm sees a micro-batch at a time), and
   * say so once. `false` lets the memory error through instead.
   * @defaultValue true
   */
  autoMicroBatch?: boolean;
  /**
   * Threads a training step uses on the wasm engine (data-parallel: each thread takes a slice
   * of the batch; see docs/guide.md). 1 trains on the main thread only. With the default (the
   * machine's cores), a batch is split only when each slice holds about 1e8 multiply-adds or
   * more (small models train faster unsplit); a count given here or in `TSFAST_THREADS` always
   * splits.
   * @defaultValue `TSFAST_THREADS`, else the machine's cores (`os.availableParallelism()`)
   */
  threads?: number;
}

/**
 * The option keys `Learner` accepts (helpers built on it pass them through).
 * @example
 * ```ts
 * const options: tsf.LearnerOptions & { pretrained?: boolean } = { wd: 0.01, pretrained: true };
 * tsf.checkOptionKeys('visionLearner', options, [...LEARNER_OPTION_KEYS, 'pretrained']);
 * ```
 */
export const LEARNER_OPTION_KEYS = [
  'lossFunc',
  'optFunc',
  'lr',
  'splitter',
  'wd',
  'wdBnBias',
  'trainBn',
  'moms',
  'metrics',
  'cbs',
  'path',
  'modelDir',
  'logger',
  'autoMicroBatch',
  'threads',
] as const;

/**
 * {@link LearnerOptions} with every default applied: a plain-function loss wrapped as a
 * {@link Loss}, metric functions wrapped as {@link Metric}s.
 * @example
 * ```ts
 * const resolved: ResolvedLearnerOptions = resolveLearnerOptions(dls, { lr: 3e-3 });
 * ```
 */
export interface ResolvedLearnerOptions {
  /** See {@link LearnerOptions.lossFunc}. */
  lossFunc: Loss;
  /** See {@link LearnerOptions.optFunc}. */
  optFunc: OptimizerFactory;
  /** See {@link LearnerOptions.lr}. */
  lr: number;
  /** See {@link LearnerOptions.splitter}. */
  splitter: Splitter;
  /** See {@link LearnerOptions.wd}. */
  wd: number | undefined;
  /** See {@link LearnerOptions.wdBnBias}. */
  wdBnBias: boolean;
  /** See {@link LearnerOptions.trainBn}. */
  trainBn: boolean;
  /** See {@link LearnerOptions.moms}. */
  moms: readonly [number, number, number];
  /** See {@link LearnerOptions.metrics}. */
  metrics: Metric[];
  /** See {@link LearnerOptions.cbs}. */
  cbs: readonly Callback[];
  /** See {@link LearnerOptions.path}. */
  path: string;
  /** See {@link LearnerOptions.modelDir}. */
  modelDir: string;
  /** See {@link LearnerOptions.autoMicroBatch}. */
  autoMicroBatch: boolean;
  /** See {@link LearnerOptions.logger}. */
  logger: (line: string) => void;
  /** See {@link LearnerOptions.threads}; `source` says where the count came from. */
  threads: ThreadCount;
}

/**
 * Checks the keys of `options` and applies the defaults.
 * @param dls - The data (its vocab decides the default loss).
 * @param options - What the user passed.
 * @returns Every option, defaults filled in.
 * @throws {@link ValueError} for an unknown key or a learning rate that is not positive.
 * @example
 * ```ts
 * const { lossFunc, lr } = resolveLearnerOptions(dls, {});
 * ```
 */
export function resolveLearnerOptions(
  dls: DataLoadersLike,
  options: LearnerOptions,
): ResolvedLearnerOptions {
  checkOptionKeys('Learner', options, LEARNER_OPTION_KEYS);
  const lossFunc = options.lossFunc ?? defaultLoss(dls);
  checkClasses(dls, lossFunc);
  const lr = options.lr ?? 1e-3;
  if (!(lr > 0)) throw invalidValue('lr', 'a positive number', options.lr);
  return {
    lossFunc: typeof lossFunc === 'function' ? new FunctionLoss(lossFunc) : lossFunc,
    optFunc: options.optFunc ?? ((groups, rate) => new Adam(groups, { lr: rate })),
    lr,
    splitter: options.splitter ?? trainableParams,
    wd: options.wd,
    wdBnBias: options.wdBnBias ?? false,
    trainBn: options.trainBn ?? true,
    moms: options.moms ?? [0.95, 0.85, 0.95],
    metrics: (options.metrics ?? []).map(toMetric),
    cbs: options.cbs ?? [],
    path: options.path ?? '.',
    modelDir: options.modelDir ?? 'models',
    logger: options.logger ?? ((line) => console.log(line)),
    autoMicroBatch: options.autoMicroBatch ?? true,
    threads: trainingThreads(options.threads),
  };
}

// A plain function has no activation or decoding of its own: predictions pass through, so
// getPreds and predict still work with it.
class FunctionLoss implements Loss {
  readonly name: string;
  constructor(private readonly fn: LossFunction) {
    this.name = fn.name || 'lossFunction';
  }
  compute(pred: tf.Tensor, targ: tf.Tensor): tf.Tensor {
    return this.fn(pred, targ);
  }
  activation(pred: tf.Tensor): tf.Tensor {
    return pred.clone();
  }
  decodes(act: tf.Tensor): tf.Tensor {
    return act.clone();
  }
  getConfig(): Record<string, never> {
    return {};
  }
}

// One class makes a classifier with one output: tfjs would fail far away, in the loss's
// one-hot encoding ("depth must be >=2"). The data itself is fine to build and show.
function checkClasses(dls: DataLoadersLike, lossFunc: Loss | LossFunction): void {
  const vocab = dls.vocab;
  if (!(lossFunc instanceof CrossEntropyLossFlat) || vocab === undefined || vocab.length >= 2) {
    return;
  }
  throw new DataError(
    `The data holds a single class (${JSON.stringify(vocab)}); a classifier needs at least two. ` +
      'Check getY (does the labeller give every item the same label?) and the splitter (the ' +
      'vocab comes from the training labels).',
  );
}

function defaultLoss(dls: DataLoadersLike): Loss {
  const name = dls.lossName ?? (dls.vocab !== undefined ? 'CrossEntropyLossFlat' : 'MSELossFlat');
  return lossFromConfig(name, {});
}
