/**
 * The round trip every serializable object must survive: its config, through JSON text (as an
 * export stores it), rebuilt by the registry, gives the same config again.
 */
import { isDeepStrictEqual } from 'node:util';
import { TsfastError } from '../core/errors.js';

/**
 * Anything with a JSON description of itself (transforms, blocks, losses).
 * @example
 * ```ts
 * const loss: Configurable = new tsf.FocalLossFlat({ gamma: 2 });
 * ```
 */
export interface Configurable {
  /** The JSON description (`toConfig` or, for losses, `getConfig`). */
  toConfig?(): unknown;
  /** A loss's options. */
  getConfig?(): unknown;
}

function configOf(obj: Configurable): unknown {
  if (obj.toConfig) return obj.toConfig();
  if (obj.getConfig) return obj.getConfig();
  throw new TsfastError('CONFIG', 'The object has neither toConfig() nor getConfig().');
}

/**
 * Checks that `rebuild(JSON.parse(JSON.stringify(config)))` has the same config as `obj`
 * (Keras's `run_class_serialization_test`).
 * @param obj - The object to check.
 * @param rebuild - How an export rebuilds it (e.g. `tsf.transformFromConfig`, or
 *   `(cfg) => tsf.lossFromConfig('MyLoss', cfg)`).
 * @returns The rebuilt object.
 * @throws TsfastError (code `CONFIG`) showing both configs when they differ, or when the config
 *   is not plain JSON (a function, `undefined`, a class instance...).
 * @example
 * ```ts
 * import { expectConfigRoundTrip } from 'tsfast/testing';
 * expectConfigRoundTrip(tsf.Normalize.fromStats(tsf.imagenetStats), tsf.transformFromConfig);
 * ```
 */
export function expectConfigRoundTrip<T extends Configurable, C>(
  obj: T,
  rebuild: (config: C) => T,
): T {
  const config = configOf(obj);
  const text = JSON.stringify(config);
  if (!isDeepStrictEqual(JSON.parse(text), config)) {
    throw new TsfastError(
      'CONFIG',
      `The config is not plain JSON: ${text} does not read back as it was.`,
    );
  }
  const rebuilt = rebuild(JSON.parse(text) as C);
  const again = configOf(rebuilt);
  if (!isDeepStrictEqual(again, config)) {
    throw new TsfastError(
      'CONFIG',
      `The rebuilt object's config differs.\n  before: ${text}\n  after:  ${JSON.stringify(again)}`,
    );
  }
  return rebuilt;
}
