/**
 * Train/eval mode and training progress counters: a default callback, as in fastai.
 */
import type { Callback, EventContext } from '../learner/events.js';

/**
 * Sets `learn.training`, and keeps `trainIter` and `pctTrain` (what schedules read) up to
 * date. Added to every learner.
 *
 * @example
 * ```ts
 * learn.cbs.get(tsf.TrainEval); // always there
 * ```
 */
export class TrainEval implements Callback {
  /** Name. */
  readonly name = 'trainEval';
  /** Runs first. */
  readonly order = -10;

  /** Resets counters. */
  beforeFit({ learn }: EventContext): void {
    learn.epoch = 0;
    learn.loss = undefined;
    learn.trainIter = 0;
    learn.pctTrain = 0;
  }

  /** Enters training mode. */
  beforeTrain({ learn }: EventContext): void {
    learn.pctTrain = learn.epoch / learn.nEpoch;
    learn.training = true;
  }

  /** Advances the counters after a training batch. */
  afterBatch({ learn }: EventContext): void {
    if (!learn.training) return;
    learn.pctTrain += 1 / (learn.nIter * learn.nEpoch);
    learn.trainIter += 1;
  }

  /** Enters evaluation mode. */
  beforeValidate({ learn }: EventContext): void {
    learn.training = false;
  }
}
