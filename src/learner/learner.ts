/**
 * The Learner: a tfjs LayersModel, data, a loss and an optimizer, trained by one loop whose
 * every stage is an event that callbacks observe, change or cancel.
 */
import type * as tf from '@tensorflow/tfjs';
import { type LRFinderOptions, lrFind, type SuggestedLRs } from '../callbacks/lr-finder.js';
import { Progress } from '../callbacks/progress.js';
import { Recorder } from '../callbacks/recorder.js';
import {
  type FineTuneOptions,
  type FitFlatCosOptions,
  type FitOneCycleOptions,
  type FitSgdrOptions,
  fineTune,
  fitFlatCos,
  fitOneCycle,
  fitSgdr,
} from '../callbacks/schedule.js';
import { TrainEval } from '../callbacks/train-eval.js';
import type { BatchStream, DataLoadersLike } from '../data/batch.js';
import { BatchState } from './batch-state.js';
import { CallbackList } from './callback-list.js';
import { type Callback, type EventContext, type EventName, runEventSync } from './events.js';
import { buildOptimizer, GroupFreezer } from './group-freezer.js';
import {
  type GetPredsOptions,
  type GetPredsResult,
  getPreds,
  type PredictResult,
  predict,
  type TtaOptions,
  type TtaResult,
  tta,
} from './inference.js';
import {
  eventContext,
  trainingLoopPlan,
  withCallbacks,
  withoutBar,
  withoutLogging,
} from './learner-callbacks.js';
import {
  type ExportOptions,
  exportLearner,
  type LoadOptions,
  loadWeights,
  type SaveOptions,
  saveWeights,
} from './learner-io.js';
import { type LearnerOptions, resolveLearnerOptions } from './learner-options.js';
import { learnerSummary } from './learner-summary.js';
import type { Loss } from './losses.js';
import type { HyperValue } from './lr-range.js';
import type { Metric } from './metrics.js';
import type { Optimizer, OptimizerFactory } from './optimizer.js';
import { type ParamInfo, resolveParamGroups } from './param-groups.js';
import { checkReplacementDls } from './replace-dls.js';
import { type ShowResultsOptions, showResults } from './show-results.js';
import { type FitOptions, TrainingLoop } from './training-loop.js';

// Re-exported for the modules that import them from here (vision/learner.ts, the tests); they
// are defined in learner-options.ts with the defaults that go with them.
export { LEARNER_OPTION_KEYS, type LearnerOptions } from './learner-options.js';

/**
 * fastai's Learner over a tfjs LayersModel: its own training loop (gradients from
 * `tf.variableGrads`, the library's optimizers with parameter groups), fastai's events and
 * callbacks, freezing, schedules, the LR finder, predictions, save/load and export.
 *
 * Every tensor the learner makes is disposed by the learner: `fit`, `lrFind` and `validate`
 * leave `tf.memory()` as they found it; methods returning tensors say who disposes them.
 *
 * @example
 * ```ts
 * const learn = new tsf.Learner(dls, model, {
 *   lossFunc: new tsf.CrossEntropyLossFlat(),
 *   metrics: [tsf.accuracy],
 * });
 * const { valley } = await learn.lrFind();
 * await learn.fitOneCycle(5, valley);
 * await learn.recorder.plotLoss({ file: 'loss.png' });
 * ```
 */
export class Learner {
  private data: DataLoadersLike;
  /** The model. */
  readonly model: tf.LayersModel;
  /** The loss (callbacks such as MixUp swap it during a fit). */
  lossFunc: Loss;
  /** Default learning rate. */
  lr: number;
  /** Weight decay applied on each fit (undefined: the optimizer's default). */
  wd: number | undefined;
  /** Momentum schedule of one-cycle. */
  moms: readonly [number, number, number];
  /** Whether BatchNorm/bias get weight decay. */
  readonly wdBnBias: boolean;
  /** Whether BatchNorm in frozen groups trains. */
  readonly trainBn: boolean;
  /** Validation metrics. */
  readonly metrics: Metric[];
  /** Callbacks, in run order. */
  readonly cbs = new CallbackList();
  /** The Recorder (losses, learning rates, per-epoch values). */
  readonly recorder: Recorder;
  /** Folder for save/load/export. */
  path: string;
  /** Sub-folder of `path` for save/load. */
  modelDir: string;
  /** Split training batches that do not fit the wasm heap (see {@link LearnerOptions.autoMicroBatch}). */
  autoMicroBatch: boolean;
  /**
   * Threads of a training step on the wasm engine (see {@link LearnerOptions.threads}); set it
   * between fits to change it.
   */
  threads: number;
  /** @internal Whether `threads` came from the option or `TSFAST_THREADS` (not the cores). */
  readonly threadsAsked: boolean;
  /** Where Progress writes. */
  logger: (line: string) => void;
  /** True inside `noLogging`: Progress writes nothing. */
  quiet = false;
  /** The optimizer. */
  opt: Optimizer;
  /** Variable metadata (BatchNorm, bias) from the splitter. */
  readonly paramInfo: ReadonlyMap<tf.Variable, ParamInfo>;

  /** Current epoch. */
  epoch = 0;
  /** Epochs of the current fit. */
  nEpoch = 1;
  /** Batch index in the current phase. */
  iter = 0;
  /** Batches in the current phase. */
  nIter = 0;
  /** Training batches done in this fit. */
  trainIter = 0;
  /** Fraction of training done. */
  pctTrain = 0;
  /** Current phase. */
  training = false;
  /** The stream of the current phase. */
  dl: BatchStream | undefined;
  /**
   * Loss of the current batch as a number, from `afterLoss` on; `undefined` before it in each
   * batch (and before the first batch).
   */
  loss: number | undefined = undefined;

  private readonly optFunc: OptimizerFactory;
  private readonly freezer: GroupFreezer;
  private readonly batch = new BatchState();
  private readonly loop: TrainingLoop;

  /**
   * @param dls - Training and validation batches.
   * @param model - A tfjs LayersModel (built: its weights exist).
   * @param options - See {@link LearnerOptions}.
   * @throws {@link ValueError} for unknown options or a splitter giving no weights.
   */
  constructor(dls: DataLoadersLike, model: tf.LayersModel, options: LearnerOptions = {}) {
    const resolved = resolveLearnerOptions(dls, options);
    this.data = dls;
    this.model = model;
    this.lossFunc = resolved.lossFunc;
    this.lr = resolved.lr;
    this.wd = resolved.wd;
    this.wdBnBias = resolved.wdBnBias;
    this.trainBn = resolved.trainBn;
    this.moms = resolved.moms;
    this.metrics = resolved.metrics;
    this.path = resolved.path;
    this.modelDir = resolved.modelDir;
    this.logger = resolved.logger;
    this.autoMicroBatch = resolved.autoMicroBatch;
    this.threads = resolved.threads.threads;
    this.threadsAsked = resolved.threads.source !== 'cores';
    this.optFunc = resolved.optFunc;
    const { groups, info } = resolveParamGroups(model, resolved.splitter(model));
    this.paramInfo = info;
    this.freezer = new GroupFreezer(groups);
    this.loop = new TrainingLoop(this, this.batch, this.freezer);
    this.opt = this.createOpt();
    this.recorder = new Recorder();
    for (const cb of [new TrainEval(), this.recorder, new Progress(), ...resolved.cbs]) {
      this.addCb(cb);
    }
    this.freezeTo(0);
  }

  /**
   * The data. Settable, as in fastai (progressive resizing: `learn.dls = dls224` after
   * training at 128 px); the new data must have the same targets (`c`, vocab) and gets the
   * old one's `Normalize` statistics when it has none. Model, optimizer state and callbacks
   * stay; the next fit reads the new batches.
   * @throws {@link ValueError} (on set) when the targets differ.
   * @example
   * ```ts
   * const { train, valid, vocab } = learn.dls;
   * console.log(`${train.numBatches} + ${valid.numBatches} batches of ${vocab?.join(', ')}`);
   * ```
   */
  get dls(): DataLoadersLike {
    return this.data;
  }

  /**
   * Replaces the data (progressive resizing); see the getter.
   * @param dls - The new data, with the same targets.
   * @throws {@link ValueError} when its `c` or vocab differ.
   * @example
   * ```ts
   * await learn.fitOneCycle(2, 1e-3);
   * learn.dls = await pets.dataloaders('images', { bs: 32 }); // pets with a larger Resize
   * await learn.fitOneCycle(2, 1e-3);
   * ```
   */
  set dls(dls: DataLoadersLike) {
    this.data = checkReplacementDls(this.data, dls);
  }

  /** Number of parameter groups. */
  get nGroups(): number {
    return this.freezer.groups.length;
  }

  /** The variables of each group. */
  get paramGroups(): readonly (readonly tf.Variable[])[] {
    return this.freezer.groups;
  }

  /** Index of the first trainable group (0 = unfrozen). */
  get frozenIndex(): number {
    return this.freezer.frozenIndex;
  }

  /** The variables that receive gradients now (unfrozen groups, plus BatchNorm if `trainBn`). */
  get trainableVariables(): readonly tf.Variable[] {
    return this.freezer.trainable;
  }

  /** Current input batch (owned by the learner). */
  get xb(): tf.Tensor {
    return this.batch.xb;
  }

  /** Current target batch (owned by the learner). */
  get yb(): tf.Tensor {
    return this.batch.yb;
  }

  /** Model output of the current batch, after `afterPred` (owned by the learner). */
  get pred(): tf.Tensor {
    return this.batch.pred;
  }

  /** Loss tensor of the current batch, after `afterLoss` (owned by the learner). */
  get lossTensor(): tf.Scalar | undefined {
    return this.batch.loss;
  }

  /** Gradients of the current batch, after `afterBackward` (owned by the learner). */
  get grads(): ReadonlyMap<tf.Variable, tf.Tensor> | undefined {
    return this.batch.grads;
  }

  /**
   * Replaces the current batch (MixUp, CutMix); the learner takes ownership of the new
   * tensors and still disposes the old ones at the end of the batch.
   * @param xb - New inputs.
   * @param yb - New targets.
   * @example
   * ```ts
   * const double: tsf.Callback = {
   *   name: 'double',
   *   beforeBatch: ({ learn }) => learn.replaceBatch(learn.xb.mul(2), learn.yb.clone()),
   * };
   * await learn.fit(1, 1e-3, { cbs: [double] });
   * ```
   */
  replaceBatch(xb: tf.Tensor, yb: tf.Tensor): void {
    this.batch.setBatch(xb, yb);
  }

  /**
   * Replaces the current model output (in `afterPred`; must stay differentiable).
   * @param pred - New output; the learner takes ownership.
   * @example
   * ```ts
   * const soften: tsf.Callback = {
   *   name: 'soften',
   *   afterPred: ({ learn }) => learn.replacePred(learn.pred.mul(0.5)),
   * };
   * await learn.fit(1, 1e-3, { cbs: [soften] });
   * ```
   */
  replacePred(pred: tf.Tensor): void {
    this.batch.setPred(pred);
  }

  /**
   * Replaces the gradients used by the step (gradient clipping, accumulation); the learner
   * takes ownership of the new tensors.
   * @param grads - Gradient per variable.
   * @example
   * ```ts
   * const clip: tsf.Callback = {
   *   name: 'clip',
   *   afterBackward: ({ learn }) => {
   *     const grads = [...(learn.grads ?? [])];
   *     learn.replaceGrads(new Map(grads.map(([v, g]) => [v, tf.clipByValue(g, -1, 1)])));
   *   },
   * };
   * await learn.fit(1, 1e-3, { cbs: [clip] });
   * ```
   */
  replaceGrads(grads: Map<tf.Variable, tf.Tensor>): void {
    this.batch.setGrads(grads);
  }

  // ----- callbacks -----

  /**
   * Adds callbacks (runs their `afterCreate`).
   * @param cbs - Callbacks.
   * @returns This learner.
   * @example
   * ```ts
   * learn.addCbs([new tsf.EarlyStopping({ patience: 2 })]);
   * ```
   */
  addCbs(cbs: readonly Callback[]): this {
    for (const cb of cbs) this.addCb(cb);
    return this;
  }

  /**
   * Adds one callback (runs its `afterCreate`).
   * @param cb - The callback.
   * @returns This learner.
   * @example
   * ```ts
   * learn.addCb(new tsf.CSVLogger());
   * ```
   */
  addCb(cb: Callback): this {
    this.cbs.add(cb);
    runEventSync([cb], 'afterCreate', this.context('afterCreate'));
    return this;
  }

  /**
   * Removes callbacks.
   * @param cbs - Callbacks (by object).
   * @returns This learner.
   * @example
   * ```ts
   * learn.removeCbs([learn.cbs.get('progress')!]);
   * ```
   */
  removeCbs(cbs: readonly Callback[]): this {
    for (const cb of cbs) this.cbs.remove(cb);
    return this;
  }

  /**
   * Runs `fn` with extra callbacks, removed afterwards (fastai's `added_cbs`).
   * @param cbs - Callbacks to add.
   * @param fn - The work.
   * @returns What `fn` returns.
   * @example
   * ```ts
   * await learn.withCbs([new tsf.GradientClip()], () => learn.fit(1));
   * ```
   */
  withCbs<T>(cbs: readonly Callback[], fn: () => Promise<T>): Promise<T> {
    return withCallbacks(this, cbs, fn);
  }

  /**
   * Runs `fn` without the Progress output (fastai's `no_logging`).
   * @param fn - The work.
   * @returns What `fn` returns.
   * @example
   * ```ts
   * await learn.noLogging(() => learn.fit(1));
   * ```
   */
  noLogging<T>(fn: () => Promise<T>): Promise<T> {
    return withoutLogging(this, fn);
  }

  /**
   * Runs `fn` without the progress bar (the table is still written).
   * @param fn - The work.
   * @returns What `fn` returns.
   * @example
   * ```ts
   * await learn.noBar(() => learn.fit(1));
   * ```
   */
  noBar<T>(fn: () => Promise<T>): Promise<T> {
    return withoutBar(this, fn);
  }

  /**
   * The plan of the loop: for each event, the callbacks that run there, in order.
   * @returns The plan as text; not printed (a notebook shows the returned string).
   * @example
   * ```ts
   * console.log(learn.showTrainingLoop());
   * ```
   */
  showTrainingLoop(): string {
    return trainingLoopPlan(this.cbs);
  }

  /**
   * fastai's `Learner.summary`: every layer with its output shape on a training batch, its
   * parameter count and whether it trains, the totals, the optimizer, the loss, the frozen
   * groups and the callbacks.
   * @returns The text (not printed: `console.log(await learn.summary())`).
   * @throws {@link ValueError} when the training data yields no batch.
   * @example
   * ```ts
   * console.log(await learn.summary());
   * ```
   */
  summary(): Promise<string> {
    return learnerSummary(this);
  }

  // ----- optimizer and freezing -----

  /**
   * Builds a fresh optimizer from `optFunc` (flags for weight decay and BatchNorm applied).
   * @returns The new optimizer (also stored in `opt`; the old one is disposed).
   * @example
   * ```ts
   * learn.createOpt();
   * ```
   */
  createOpt(): Optimizer {
    const opt = buildOptimizer(this.optFunc, this.freezer.groups, this.lr, this.paramInfo, {
      wdBnBias: this.wdBnBias,
      trainBn: this.trainBn,
    });
    // Undefined on the constructor's call, when no optimizer exists yet.
    const old = (this as { opt?: Optimizer }).opt;
    this.opt = opt;
    old?.dispose();
    return opt;
  }

  /**
   * Freezes the groups before `n` (negative counts from the end): only later groups train,
   * plus BatchNorm when `trainBn`. Clears the optimizer state, as fastai does.
   * @param n - First trainable group.
   * @throws {@link ValueError} if `n` is not an integer.
   * @example
   * ```ts
   * learn.freezeTo(-2); // train the last two groups
   * ```
   */
  freezeTo(n: number): void {
    this.freezer.freezeTo(n, this.opt);
  }

  /**
   * Freezes every group but the last (`freezeTo(-1)`).
   * @example
   * ```ts
   * learn.freeze();
   * ```
   */
  freeze(): void {
    this.freezeTo(-1);
  }

  /**
   * Trains every group (`freezeTo(0)`).
   * @example
   * ```ts
   * learn.unfreeze();
   * ```
   */
  unfreeze(): void {
    this.freezeTo(0);
  }

  /**
   * Makes BatchNorm layers run in inference mode (moving statistics, no update) even while
   * training, or back; used by {@link BnFreeze}.
   * @param layers - BatchNorm layers.
   * @param on - `true` to force inference mode, `false` to restore.
   * @example
   * ```ts
   * const bns = learn.model.layers.filter((l) => l.getClassName() === 'BatchNorm');
   * learn.setBnEval(bns, true); // their statistics stay as they are while training
   * learn.setBnEval(bns, false);
   * ```
   */
  setBnEval(layers: readonly tf.layers.Layer[], on: boolean): void {
    this.freezer.setBnEval(layers, on);
  }

  // ----- training -----

  /**
   * Trains for `nEpoch` epochs at a constant learning rate (set `lr` first, fastai's `fit`).
   * @param nEpoch - Epochs.
   * @param lr - Learning rate(s). Defaults to the learner's `lr`.
   * @param options - Weight decay, callbacks for this fit, optimizer reset.
   * @returns When training ends (or a callback cancels it).
   * @throws {@link TsfastError} `NAN_LOSS` if the training loss becomes NaN or infinite;
   *   {@link CallbackError} if a callback fails.
   * @example
   * ```ts
   * await learn.fit(3, 1e-3);
   * ```
   */
  fit(nEpoch: number, lr?: HyperValue, options: FitOptions = {}): Promise<void> {
    return this.loop.fit(nEpoch, lr, options);
  }

  /**
   * Runs the validation set through the model (with callbacks) and returns the loss and
   * metrics.
   * @returns `[validLoss, ...metrics]`.
   * @example
   * ```ts
   * const [loss, acc] = await learn.validate();
   * ```
   */
  async validate(): Promise<number[]> {
    await this.loop.validate();
    return this.recorder.validValues(this);
  }

  /**
   * One-cycle training: LR cosine warm-up from `lrMax/div` to `lrMax` over `pctStart`, then
   * cosine down to `lrMax/divFinal`; momentum the other way (fastai's `fit_one_cycle`).
   * @param nEpoch - Epochs.
   * @param lrMax - Peak learning rate(s). Defaults to the learner's `lr`.
   * @param options - `div`, `divFinal`, `pctStart`, `wd`, `moms`, `cbs`.
   * @returns When training ends.
   * @example
   * ```ts
   * await learn.fitOneCycle(3, 3e-3);
   * await learn.fitOneCycle(10, tsf.lrRange(1e-5, 1e-3));
   * ```
   */
  fitOneCycle(nEpoch: number, lrMax?: HyperValue, options: FitOneCycleOptions = {}): Promise<void> {
    return fitOneCycle(this, nEpoch, lrMax, options);
  }

  /**
   * Flat then cosine annealing (fastai's `fit_flat_cos`).
   * @param nEpoch - Epochs.
   * @param lr - Learning rate(s). Defaults to the learner's `lr`.
   * @param options - `divFinal`, `pctStart`, `wd`, `cbs`.
   * @returns When training ends.
   * @example
   * ```ts
   * await learn.fitFlatCos(5, 1e-3);
   * ```
   */
  fitFlatCos(nEpoch: number, lr?: HyperValue, options: FitFlatCosOptions = {}): Promise<void> {
    return fitFlatCos(this, nEpoch, lr, options);
  }

  /**
   * SGD with warm restarts (fastai's `fit_sgdr`).
   * @param nCycles - Number of cycles.
   * @param cycleLen - Epochs of the first cycle.
   * @param lrMax - Peak learning rate(s).
   * @param options - `cycleMult`, `wd`, `cbs`.
   * @returns When training ends.
   * @example
   * ```ts
   * await learn.fitSgdr(3, 1, 1e-3); // 1 + 2 + 4 epochs
   * ```
   */
  fitSgdr(
    nCycles: number,
    cycleLen: number,
    lrMax?: HyperValue,
    options: FitSgdrOptions = {},
  ): Promise<void> {
    return fitSgdr(this, nCycles, cycleLen, lrMax, options);
  }

  /**
   * Transfer learning: one-cycle with the body frozen, then unfrozen with discriminative
   * rates (fastai's `fine_tune`).
   * @param epochs - Unfrozen epochs.
   * @param baseLr - Base learning rate. Defaults to 2e-3.
   * @param options - `freezeEpochs`, `lrMult`, `pctStart`, `div`, `wd`, `cbs`.
   * @returns When training ends.
   * @example
   * ```ts
   * await learn.fineTune(4);
   * ```
   */
  fineTune(epochs: number, baseLr?: number, options: FineTuneOptions = {}): Promise<void> {
    return fineTune(this, epochs, baseLr, options);
  }

  /**
   * The LR range test: trains with an exponentially growing learning rate, then restores
   * weights and optimizer state exactly, and suggests learning rates.
   * @param options - `startLr`, `endLr`, `numIt`, `stopDiv`, `suggestFuncs`, `file` (plot).
   * @returns The suggestions, by name (`valley` by default).
   * @example
   * ```ts
   * const { valley, steep } = await learn.lrFind({ suggestFuncs: ['valley', 'steep'] });
   * ```
   */
  lrFind(options: LRFinderOptions = {}): Promise<SuggestedLRs> {
    return lrFind(this, options);
  }

  // ----- predictions -----

  /**
   * Predictions for a whole dataset, in order (eval mode, no callbacks).
   * @param options - `dsIdx` (0 train, 1 valid), `dl` (another stream, e.g.
   *   `dls.testDl(files)`), `withLoss`, `withDecoded`, `withInput`, `act`.
   * @returns Tensors the caller disposes (`tf.dispose(Object.values(result))`); no `targs`
   *   for a stream without targets.
   * @example
   * ```ts
   * const { preds, targs } = await learn.getPreds();
   * const { preds: test } = await learn.getPreds({ dl: learn.dls.testDl!(files) });
   * ```
   */
  getPreds(options: GetPredsOptions = {}): Promise<GetPredsResult> {
    return getPreds(this, options);
  }

  /**
   * Prediction for one item: a tensor without batch axis (or with a batch of one), or a raw
   * item the data pipeline can encode (e.g. an image path).
   * @param item - The item.
   * @returns Decoded label and index (classification), probabilities, decoded values.
   * @example
   * ```ts
   * // One item as getX gives it: a file for an image learner ('my_cat.jpg'), here a tensor.
   * const { label, probs } = await learn.predict(tf.tensor1d([0.1, 2, -1, 0.5, 0, 1, 3, -2]));
   * console.log(label, probs);
   * ```
   */
  predict(item: unknown): Promise<PredictResult> {
    return predict(this, item);
  }

  /**
   * Test-time augmentation: mean of `n` augmented passes over the validation set, blended
   * with the plain predictions (`lerp(aug, plain, beta)`).
   * @param options - `n`, `beta`.
   * @returns `preds` and `targs`; the caller disposes them.
   * @example
   * ```ts no-run (needs image data with augmentation transforms)
   * const { preds, targs } = await learn.tta({ n: 4 });
   * ```
   */
  tta(options: TtaOptions = {}): Promise<TtaResult> {
    return tta(this, options);
  }

  /**
   * fastai's `show_results`: a grid of items (drawn at random from the validation set by
   * default) with their targets and the model's predictions; for classification the target
   * over the prediction, green when right and red when wrong. Other targets draw through
   * the renderer registered for their block (`registerResultsRenderer`).
   * @param options - `file`, `maxN` (9), `dsIdx` (1), `dl`, `shuffle` (true), `seed`,
   *   `ncols`, `tileSize`.
   * @returns The PNG bytes (also written to `file` when given).
   * @example
   * ```ts no-run (needs a learner on images)
   * await learn.showResults({ file: 'results.png' });
   * ```
   */
  showResults(options: ShowResultsOptions = {}): Promise<Buffer> {
    return showResults(this, options);
  }

  // ----- persistence -----

  /**
   * Saves weights (and optimizer state) to `path/modelDir/name/`.
   * @param name - Name of the checkpoint.
   * @param options - `withOpt`.
   * @returns The folder written.
   * @example
   * ```ts
   * await learn.save('stage-1');
   * ```
   */
  save(name: string, options: SaveOptions = {}): Promise<string> {
    return saveWeights(this, name, options);
  }

  /**
   * Loads weights (and optimizer state) saved by {@link Learner.save}.
   * @param name - Name of the checkpoint.
   * @param options - `withOpt`.
   * @returns This learner.
   * @throws {@link DataError} if the files are missing or do not match the model.
   * @example
   * ```ts
   * await learn.save('stage-1');
   * await learn.fit(1, 1e-3);
   * await learn.load('stage-1'); // back to the saved weights
   * ```
   */
  async load(name: string, options: LoadOptions = {}): Promise<this> {
    await loadWeights(this, name, options);
    return this;
  }

  /**
   * Exports the model (topology + weights), the loss and the data pipeline description to
   * a folder that `loadLearner` reads without user code.
   * @param file - Folder, relative to `path`. Defaults to `export`.
   * @param options - Options.
   * @returns The folder written.
   * @example
   * ```ts
   * await learn.export('pets');
   * // A learner on a DataBlock's data reloads with no code; other data is passed back in.
   * const inf = await tsf.loadLearner('pets', { dls: learn.dls });
   * ```
   */
  export(file = 'export', options: ExportOptions = {}): Promise<string> {
    return exportLearner(this, file, options);
  }

  // ----- the loop -----

  /**
   * The context passed to hooks: its fields read the learner's live state (a hook sees what
   * earlier hooks of the same event changed, e.g. TrainEval's `trainIter`).
   * @param event - The event.
   * @returns A context for `event`.
   * @example
   * ```ts
   * await tsf.runEvent(learn.cbs.list, 'beforeFit', learn.context('beforeFit'));
   * ```
   */
  context(event: EventName): EventContext {
    return eventContext(this, event);
  }
}
