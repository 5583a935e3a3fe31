import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/ready.js';
import { CallbackError } from '../../src/core/errors.js';
import {
  CancelBackward,
  CancelBatch,
  CancelEpoch,
  CancelException,
  CancelFit,
  CancelStep,
  CancelTrain,
  CancelValid,
} from '../../src/learner/cancel.js';
import {
  type Callback,
  EVENTS,
  type EventContext,
  type EventName,
} from '../../src/learner/events.js';
import { Learner } from '../../src/learner/learner.js';
import { CrossEntropyLossFlat } from '../../src/learner/losses.js';
import { blobsDls, disposeAll, tinyMlp } from './fixtures.js';

type Thrower = { name: string; make: () => Error };
const THROWERS: Thrower[] = [
  { name: 'Error', make: () => new Error('boom') },
  { name: 'CancelBatch', make: () => new CancelBatch() },
  { name: 'CancelBackward', make: () => new CancelBackward() },
  { name: 'CancelStep', make: () => new CancelStep() },
  { name: 'CancelTrain', make: () => new CancelTrain() },
  { name: 'CancelValid', make: () => new CancelValid() },
  { name: 'CancelEpoch', make: () => new CancelEpoch() },
  { name: 'CancelFit', make: () => new CancelFit() },
];

// To reach an afterCancel event, something must cancel its stage first.
const TRIGGER: Partial<Record<EventName, [EventName, () => Error]>> = {
  afterCancelBackward: ['beforeBackward', () => new CancelBackward()],
  afterCancelStep: ['beforeStep', () => new CancelStep()],
  afterCancelBatch: ['beforeBatch', () => new CancelBatch()],
  afterCancelTrain: ['beforeTrain', () => new CancelTrain()],
  afterCancelValidate: ['beforeValidate', () => new CancelValid()],
  afterCancelEpoch: ['beforeEpoch', () => new CancelEpoch()],
  afterCancelFit: ['beforeFit', () => new CancelFit()],
};

const VALID_PHASE_EVENTS: EventName[] = ['afterPred', 'afterLoss'];

const BATCH_EVENTS: EventName[] = [
  'beforeBatch',
  'afterPred',
  'afterLoss',
  'beforeBackward',
  'afterBackward',
  'beforeStep',
  'afterStep',
  'afterBatch',
];

function throwOnce(
  event: EventName,
  make: () => Error,
  phase: 'train' | 'valid' | 'any',
): Callback {
  let done = false;
  return {
    name: `throw-${event}`,
    [event]: (ctx: EventContext) => {
      if (done) return;
      if (phase !== 'any' && ctx.training !== (phase === 'train')) return;
      done = true;
      throw make();
    },
  };
}

describe('every path out of a batch disposes what the batch created', () => {
  let learn: Learner;
  let dispose: () => void;
  before(async () => {
    await ready();
    const dls = blobsDls(5, 64); // 3 training and 1 validation batches: enough for every path
    learn = new Learner(dls, tinyMlp(5), {
      lossFunc: new CrossEntropyLossFlat(),
      logger: () => {},
    });
    dispose = () => disposeAll(learn, dls);
    await learn.fit(1, 1e-3); // allocates the optimizer state, which stays on purpose
  });
  after(() => dispose());

  const events = EVENTS.filter((e) => e !== 'afterCreate');
  for (const event of events) {
    it(`a callback throwing in "${event}" (an error, each cancel kind) leaks nothing`, async () => {
      const phases: ('train' | 'valid' | 'any')[] = VALID_PHASE_EVENTS.includes(event)
        ? ['train', 'valid']
        : ['any'];
      for (const phase of phases) {
        // Every cancel kind where a batch's tensors are alive; an error everywhere else.
        const kinds = BATCH_EVENTS.includes(event) ? THROWERS : THROWERS.slice(0, 1);
        for (const thrower of kinds) {
          const cbs: Callback[] = [throwOnce(event, thrower.make, phase)];
          const trigger = TRIGGER[event];
          if (trigger) cbs.push(throwOnce(trigger[0], trigger[1], phase));
          const n0 = tf.memory().numTensors;
          let fired = false;
          const spy: Callback = {
            name: 'spy',
            afterFit: () => {
              fired = true;
            },
          };
          const outcome = await learn.fit(1, 1e-3, { cbs: [...cbs, spy] }).then(
            () => 'returned',
            (err: unknown) => err,
          );
          const where = `${thrower.name} in ${event} (${phase})`;
          assert.equal(tf.memory().numTensors, n0, `tensor count changed after ${where}`);
          if (thrower.name === 'Error' && outcome !== 'returned') {
            assert.ok(outcome instanceof CallbackError, `${where}: ${String(outcome)}`);
            assert.match(outcome.message, new RegExp(`"${event}": boom`));
          }
          if (outcome !== 'returned' && thrower.name !== 'Error') {
            // A cancel thrown outside its stage escapes the loop as itself, never as NAN_LOSS.
            assert.ok(outcome instanceof CancelException, `${where}: ${String(outcome)}`);
          }
          if (event !== 'afterFit' && outcome === 'returned') assert.ok(fired, where);
        }
      }
    });
  }
});
