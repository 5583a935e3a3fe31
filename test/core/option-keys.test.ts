/**
 * Option-key lists are checked against their options interfaces at compile time (this file is
 * type-checked with the rest of the project by `tsc -p tsconfig.json`; the `@ts-expect-error`
 * lines fail the typecheck if the check stops catching a mismatch).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRACKER_KEYS, type TrackerOptions } from '../../src/callbacks/tracker.js';
import { checkOptionKeys, ValueError } from '../../src/core/errors.js';

interface FitLikeOptions {
  wd?: number;
  cbs?: readonly unknown[];
  resetOpt?: boolean;
}

/** A function as the library writes them: typed options, a literal list of their keys. */
function fitLike(options: FitLikeOptions = {}): void {
  checkOptionKeys('fitLike', options, ['wd', 'cbs', 'resetOpt']);
}

describe('option-key lists against their interfaces', () => {
  it('a list naming exactly the keys type-checks and still refuses unknown keys at run time', () => {
    fitLike({ wd: 0.1 });
    assert.throws(() => fitLike({ wdd: 1 } as FitLikeOptions), ValueError);
  });

  it('a list missing a key or naming an extra one does not type-check', () => {
    const options: FitLikeOptions = {};
    // @ts-expect-error `resetOpt` is in the interface but not in the list.
    checkOptionKeys('fitLike', options, ['wd', 'cbs']);
    // @ts-expect-error `momentum` is in the list but not in the interface.
    checkOptionKeys('fitLike', options, ['wd', 'cbs', 'resetOpt', 'momentum']);
    // The order of the list does not matter.
    checkOptionKeys('fitLike', options, ['resetOpt', 'wd', 'cbs']);
  });

  it('the lists that subclasses extend at run time match their interfaces too', () => {
    const options: TrackerOptions = { monitor: 'valid_loss' };
    checkOptionKeys('TrackerCallback', options, TRACKER_KEYS);
    // @ts-expect-error a key dropped from the list shows.
    checkOptionKeys(
      'TrackerCallback',
      {} as TrackerOptions,
      TRACKER_KEYS.slice(1) as ['mode', 'minDelta', 'resetOnFit'],
    );
  });
});
