/**
 * The training loop behind `Learner.fit` and `Learner.validate`: fit > epoch > train/validate
 * > batch > backward > step, each stage wrapped in its before/afterCancel/after events
 * (fastai's `_with_events`).
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { checkOptionKeys, invalidValue, TsfastError, ValueError } from '../core/errors.js';
import type { Batch } from '../data/batch.js';
import { type BatchState, need } from './batch-state.js';
import { CancelException, CancelFit, type CancelStage } from './cancel.js';
import { DataParallel } from './data-parallel/data-parallel.js';
import { type Callback, type EventName, runEvent, runEventSync } from './events.js';
import type { GroupFreezer } from './group-freezer.js';
import { FitInterrupt } from './interrupt.js';
import type { Learner } from './learner.js';
import { lowMemoryApply } from './low-memory-forward.js';
import type { HyperValue } from './lr-range.js';
import { accumulateMicroBatches, MicroBatching, type MicroBatchResult } from './micro-batching.js';
import { variableGradsSafe } from './tape.js';

/**
 * Options of {@link Learner.fit}.
 * @example
 * ```ts
 * await learn.fit(2, 1e-3, { wd: 0.1, resetOpt: true, cbs: [new tsf.GradientClip()] });
 * ```
 */
export interface FitOptions {
  /**
   * Weight decay for this fit.
   * @defaultValue the learner's `wd`
   */
  wd?: number;
  /**
   * Callbacks added for this fit only.
   * @defaultValue []
   */
  cbs?: readonly Callback[];
  /**
   * Reset the optimizer state first.
   * @defaultValue false
   */
  resetOpt?: boolean;
}

const STAGE_EVENTS: Record<CancelStage, readonly [EventName, EventName, EventName]> = {
  fit: ['beforeFit', 'afterCancelFit', 'afterFit'],
  epoch: ['beforeEpoch', 'afterCancelEpoch', 'afterEpoch'],
  train: ['beforeTrain', 'afterCancelTrain', 'afterTrain'],
  validate: ['beforeValidate', 'afterCancelValidate', 'afterValidate'],
  batch: ['beforeBatch', 'afterCancelBatch', 'afterBatch'],
  backward: ['beforeBackward', 'afterCancelBackward', 'afterBackward'],
  step: ['beforeStep', 'afterCancelStep', 'afterStep'],
};

/**
 * Runs a Learner's epochs and batches: reads and writes the learner's public loop state
 * (`epoch`, `iter`, `dl`, `loss`...), keeps the tensors of the current batch in a
 * {@link BatchState} and trains the variables a {@link GroupFreezer} leaves trainable.
 * The Learner's `fit` and `validate` are this class.
 * @example
 * ```ts
 * // Every Learner builds one; its fit and validate run it.
 * await learn.fit(1, 1e-3);
 * await learn.validate();
 * ```
 */
export class TrainingLoop {
  // Set when a callback cancelled part of the current batch: its loss is then not a failure.
  private batchCancelled = false;
  // Validation batches of the current phase whose loss was not finite.
  private nonFiniteValid = 0;
  private interrupt: FitInterrupt | undefined;

  /**
   * @param learn - The learner whose state the loop advances.
   * @param batch - Where the current batch's tensors live.
   * @param freezer - Which variables train.
   */
  constructor(
    private readonly learn: Learner,
    private readonly batch: BatchState,
    private readonly freezer: GroupFreezer,
  ) {
    this.microBatching = new MicroBatching((line) => learn.logger(line));
    this.parallel = new DataParallel((line) => learn.logger(line));
  }

  /** Splits training batches over threads on wasm (see data-parallel/data-parallel.ts). */
  private readonly parallel: DataParallel;
  /** Whether the current training batch runs on several threads. */
  private parallelBatch = false;

  /** Splits batches that do not fit the wasm heap (see micro-batching.ts). */
  private readonly microBatching: MicroBatching;

  /**
   * Trains for `nEpoch` epochs at a constant learning rate, validating after each.
   * @param nEpoch - Epochs.
   * @param lr - Learning rate(s); the learner's `lr` when undefined.
   * @param options - See {@link FitOptions}.
   * @returns When training ends (or a callback cancels it).
   * @throws {@link ValueError} for unknown options or a bad `nEpoch`;
   *   {@link TsfastError} `NAN_LOSS` if the training loss is not finite.
   * @example
   * ```ts
   * await learn.fit(3, 1e-3, { wd: 0.01 }); // Learner.fit is this method
   * ```
   */
  async fit(nEpoch: number, lr: HyperValue | undefined, options: FitOptions): Promise<void> {
    checkOptionKeys('fit', options, ['wd', 'cbs', 'resetOpt']);
    if (!(Number.isInteger(nEpoch) && nEpoch > 0)) {
      throw invalidValue('nEpoch', 'a positive integer', nEpoch);
    }
    await ready();
    const learn = this.learn;
    const interrupt = FitInterrupt.enter((line) => learn.logger(line));
    const outer = this.interrupt;
    this.interrupt = interrupt;
    try {
      await this.fitWithCbs(nEpoch, lr, options);
    } finally {
      this.interrupt = outer;
      interrupt.leave();
    }
    interrupt.exitIfInterrupted();
  }

  private async fitWithCbs(
    nEpoch: number,
    lr: HyperValue | undefined,
    options: FitOptions,
  ): Promise<void> {
    const learn = this.learn;
    await learn.withCbs(options.cbs ?? [], async () => {
      if (options.resetOpt) learn.opt.clearState();
      const wd = options.wd ?? learn.wd;
      if (wd !== undefined) learn.opt.setHyper('wd', wd);
      learn.opt.setHyper('lr', lr ?? learn.lr);
      learn.nEpoch = nEpoch;
      try {
        await this.withEvents('fit', async () => {
          for (let epoch = 0; epoch < learn.nEpoch; epoch++) {
            learn.epoch = epoch;
            await this.withEvents('epoch', async () => {
              learn.dl = learn.dls.train;
              await this.withEvents('train', () => this.allBatches());
              learn.dl = learn.dls.valid;
              await this.withEvents('validate', () => this.allBatches());
              this.reportNonFiniteValid();
            });
          }
        });
      } finally {
        this.batch.end();
        learn.dl = undefined;
      }
    });
  }

  /**
   * Runs the validation set through the model, with its events and callbacks.
   * @returns When the pass ends.
   * @example
   * ```ts
   * await learn.validate(); // Learner.validate is this method
   * ```
   */
  async validate(): Promise<void> {
    await ready();
    this.learn.dl = this.learn.dls.valid;
    try {
      await this.withEvents('validate', () => this.allBatches());
      this.reportNonFiniteValid();
    } finally {
      this.batch.end();
      this.learn.dl = undefined;
    }
  }

  private run(event: EventName): Promise<void> {
    return runEvent(this.learn.cbs.list, event, this.learn.context(event));
  }

  private runSync(event: EventName): void {
    runEventSync(this.learn.cbs.list, event, this.learn.context(event));
  }

  // Only a cancellation of this very stage is caught: an outer one (CancelFit inside a
  // batch) must unwind through the inner stages to its own.
  private async withEvents(
    stage: CancelStage,
    fn: () => Promise<void> | void,
    beforeAfter?: () => Promise<void>,
  ): Promise<void> {
    const [before, afterCancel, after] = STAGE_EVENTS[stage];
    try {
      await this.run(before);
      await fn();
    } catch (err) {
      if (!(err instanceof CancelException && err.stage === stage)) throw err;
      if (stage === 'batch' || stage === 'step') this.batchCancelled = true;
      await this.run(afterCancel);
    }
    if (beforeAfter) await beforeAfter();
    await this.run(after);
  }

  // The Learner's own report of a diverged model: a validation loss that is not finite.
  private reportNonFiniteValid(): void {
    const n = this.nonFiniteValid;
    this.nonFiniteValid = 0;
    if (n === 0) return;
    const learn = this.learn;
    learn.logger(
      `Validation loss is not finite (NaN or infinite) in ${n} of ${learn.nIter} batches at ` +
        `epoch ${learn.epoch}: the model's outputs overflowed (learning rate too high, or ` +
        'BatchNorm statistics diverged) or the validation inputs hold NaN. Lower the learning ' +
        'rate (see learn.lrFind()), add TerminateOnNaN, or reload a checkpoint.',
    );
  }

  private async allBatches(): Promise<void> {
    const dl = need(this.learn.dl, 'dl');
    this.learn.nIter = dl.numBatches;
    let i = 0;
    for await (const batch of dl) {
      this.learn.iter = i++;
      await this.oneBatch(batch);
      if (this.interrupt?.requested) throw new CancelFit('interrupted by Ctrl-C (SIGINT)');
    }
  }

  private async oneBatch(batch: Batch): Promise<void> {
    const learn = this.learn;
    learn.loss = undefined;
    this.batchCancelled = false;
    this.batch.setBatch(batch.xs, batch.ys);
    try {
      await this.withEvents('batch', () => this.doOneBatch());
      const loss = learn.loss;
      if (!learn.training && loss !== undefined && !Number.isFinite(loss)) this.nonFiniteValid++;
      if (learn.training && !this.batchCancelled && loss !== undefined && !Number.isFinite(loss)) {
        const lrs = learn.opt.getHyper('lr').map((v) => v.toPrecision(3));
        throw new TsfastError(
          'NAN_LOSS',
          `Training loss is ${learn.loss} at epoch ${learn.epoch}, batch ${learn.iter} (lr ${lrs.join(', ')}); ` +
            'training stopped. Lower the learning rate (see learn.lrFind()), check the inputs and ' +
            'targets for NaN, or add GradientClip. The weights may hold NaN now: reload a checkpoint.',
        );
      }
    } finally {
      this.batch.end();
    }
  }

  private async doOneBatch(): Promise<void> {
    const { learn, batch } = this;
    if (!learn.training) {
      tf.tidy(() => {
        batch.setPred(this.applyModel(batch.xb, false));
        this.runSync('afterPred');
        this.setLoss(learn.lossFunc.compute(batch.pred, batch.yb) as tf.Scalar);
        this.runSync('afterLoss');
      });
      return;
    }
    this.parallelBatch = await this.parallel.prepare(
      { threads: learn.threads, explicit: learn.threadsAsked, batchShape: batch.xb.shape },
      learn.model,
      learn.lossFunc,
      learn.cbs.list,
      this.freezer.inferenceBn,
    );
    try {
      this.backward();
    } catch (err) {
      if (!(err instanceof CancelException && err.stage === 'backward')) throw err;
      this.batchCancelled = true;
      await this.run('afterCancelBackward');
    }
    await this.run('afterBackward');
    if (batch.grads === undefined) return;
    await this.withEvents('step', () => {
      learn.opt.step(need(batch.grads, 'grads'));
    });
    batch.zeroGrad();
  }

  // Forward, afterPred, loss, afterLoss and beforeBackward run inside the gradient tape
  // (synchronous hooks); the gradients come out of lowMemoryVariableGrads (tf.variableGrads's
  // values, with the backward pass's memory freed as it goes).
  private backward(): void {
    const { learn, batch, freezer } = this;
    if (freezer.trainable.length === 0) {
      throw new ValueError(
        'Nothing to train: every parameter group is frozen. Call learn.unfreeze() or freezeTo(n) with n < nGroups.',
      );
    }
    this.microBatching.backward(
      batch.xb,
      learn.model,
      learn.autoMicroBatch,
      () => (this.parallelBatch ? this.parallelBackward() : this.wholeBackward()),
      (size) => this.splitBackward(size),
    );
  }

  private wholeBackward(): void {
    const { learn, batch, freezer } = this;
    const { value, grads } = variableGradsSafe(() => {
      batch.setPred(this.applyModel(batch.xb, true));
      this.runSync('afterPred');
      this.setLoss(learn.lossFunc.compute(batch.pred, batch.yb) as tf.Scalar);
      this.runSync('afterLoss');
      this.runSync('beforeBackward');
      return need(batch.loss, 'lossTensor');
    }, freezer.trainable as tf.Variable[]);
    batch.own(value); // the tape returns the loss tensor itself (or a copy): the batch owns it
    const map = new Map<tf.Variable, tf.Tensor>();
    for (const [name, g] of Object.entries(grads)) {
      const v = freezer.trainableByName.get(name);
      if (v !== undefined && g != null) map.set(v, g);
      else if (g != null) g.dispose();
    }
    batch.setGrads(map);
  }

  // The loss as a number from `afterLoss` on: read once per batch, as logging needs anyway.
  private setLoss(loss: tf.Scalar): void {
    const t = this.batch.setLoss(loss);
    this.learn.loss = t.dataSync()[0] as number;
  }

  // A batch too big for the wasm heap (see micro-batching.ts): the hooks run once, after the
  // micro-batches, on the whole batch's predictions and loss.
  private splitBackward(size: number): void {
    const { batch, freezer } = this;
    this.useAccumulated(
      accumulateMicroBatches(batch.xb, batch.yb, size, freezer.trainable as tf.Variable[], (x, y) =>
        this.slicePass(x, y),
      ),
    );
  }

  // All threads (see data-parallel.ts): as with micro-batches, the hooks run once, after the
  // slices, on the whole batch's predictions and loss.
  private parallelBackward(): void {
    const { learn, batch, freezer } = this;
    this.useAccumulated(
      this.parallel.backward(
        batch.xb,
        batch.yb,
        learn.model,
        freezer.trainable as tf.Variable[],
        freezer.inferenceBn,
        (x, y) => this.slicePass(x, y),
      ),
    );
  }

  private slicePass(x: tf.Tensor, y: tf.Tensor): { pred: tf.Tensor; loss: tf.Scalar } {
    const pred = this.applyModel(x, true);
    return { pred, loss: this.learn.lossFunc.compute(pred, y) as tf.Scalar };
  }

  private useAccumulated(r: MicroBatchResult): void {
    const { batch } = this;
    batch.setPred(r.pred);
    batch.own(r.pred);
    this.runSync('afterPred');
    this.setLoss(r.loss);
    batch.own(r.loss);
    this.runSync('afterLoss');
    this.runSync('beforeBackward');
    batch.setGrads(r.grads);
  }

  private applyModel(x: tf.Tensor, training: boolean): tf.Tensor {
    // Training: intermediate outputs freed as the graph is walked (see lowMemoryApply).
    const out = training
      ? lowMemoryApply(this.learn.model, x, true)
      : this.learn.model.apply(x, { training });
    if (Array.isArray(out)) {
      throw new ValueError(
        `The model has ${out.length} outputs; the Learner trains single-output models.`,
      );
    }
    return out as tf.Tensor;
  }
}
