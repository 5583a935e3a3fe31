import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BackendError,
  checkOptionKeys,
  DataError,
  invalidValue,
  TsfastError,
  ValueError,
} from '../../src/core/errors.js';

describe('errors', () => {
  it('carry a code and their class name', () => {
    const err = new DataError('bad "x.jpg"');
    assert.ok(err instanceof TsfastError);
    assert.equal(err.code, 'DATA');
    assert.equal(err.name, 'DataError');
    assert.equal(new BackendError('b').code, 'BACKEND');
  });

  it('invalidValue names the option and the value received', () => {
    const err = invalidValue('validPct', 'a number in [0, 1)', 2);
    assert.ok(err instanceof ValueError);
    assert.equal(err.message, '`validPct` must be a number in [0, 1). Received: validPct=2');
  });

  it('checkOptionKeys rejects unknown keys and lists the valid ones', () => {
    // As from plain JavaScript: the options are untyped, so only the run-time check applies.
    const ok: object = { validPct: 0.1 };
    const typo: object = { validpct: 0.1 };
    checkOptionKeys('RandomSplitter', ok, ['validPct', 'seed']);
    assert.throws(
      () => checkOptionKeys('RandomSplitter', typo, ['validPct', 'seed']),
      /RandomSplitter: unknown option `validpct`. Valid options: `validPct`, `seed`/,
    );
  });
});
