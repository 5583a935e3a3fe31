/**
 * Named cancellation: a callback throws one of these to skip part of the loop. The loop
 * catches it at the matching stage, runs `afterCancel<Stage>` and then `after<Stage>`.
 */

/**
 * Base class of the cancellation exceptions (never an error: the loop catches them).
 * @example
 * ```ts
 * try {
 *   await learn.fit(1);
 * } catch (err) {
 *   if (err instanceof tsf.CancelException) console.log('escaped the loop at', err.stage);
 * }
 * ```
 */
export class CancelException extends Error {
  /** The stage this exception cancels. */
  readonly stage: CancelStage;

  /**
   * @param stage - The stage to cancel.
   * @param message - Optional reason, shown if the exception escapes the loop.
   */
  constructor(stage: CancelStage, message?: string) {
    super(message ?? `cancel ${stage}`);
    this.stage = stage;
    this.name = new.target.name;
  }
}

/**
 * Stages a callback can cancel.
 * @example
 * ```ts no-run (throws)
 * const stage: tsf.CancelStage = 'epoch';
 * throw new tsf.CancelException(stage); // as `throw new tsf.CancelEpoch()`
 * ```
 */
export type CancelStage = 'batch' | 'backward' | 'step' | 'train' | 'validate' | 'epoch' | 'fit';

/**
 * Skips the rest of this batch (no backward pass and no optimizer step once thrown before
 * them); `afterCancelBatch` then `afterBatch` run.
 *
 * @example
 * ```ts
 * const skipSmall: tsf.Callback = {
 *   name: 'skipSmall',
 *   beforeBatch: ({ learn }) => { if (learn.xb.shape[0] < 2) throw new tsf.CancelBatch(); },
 * };
 * ```
 */
export class CancelBatch extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('batch', message);
  }
}

/**
 * Skips the gradient computation of this batch (so no step either).
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CancelBackward();
 * ```
 */
export class CancelBackward extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('backward', message);
  }
}

/**
 * Skips the optimizer step of this batch.
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CancelStep();
 * ```
 */
export class CancelStep extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('step', message);
  }
}

/**
 * Ends the training phase of this epoch (validation still runs).
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CancelTrain();
 * ```
 */
export class CancelTrain extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('train', message);
  }
}

/**
 * Skips the validation phase of this epoch (the LR finder uses it).
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CancelValid();
 * ```
 */
export class CancelValid extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('validate', message);
  }
}

/**
 * Ends this epoch; the next one starts.
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CancelEpoch();
 * ```
 */
export class CancelEpoch extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('epoch', message);
  }
}

/**
 * Ends training (`afterCancelFit`, then `afterFit` run): early stopping, the LR finder.
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CancelFit('no improvement');
 * ```
 */
export class CancelFit extends CancelException {
  /** @param message - Optional reason. */
  constructor(message?: string) {
    super('fit', message);
  }
}
