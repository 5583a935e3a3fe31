/**
 * Typed errors. Every error tsfast throws is a {@link TsfastError} with a stable `code`, so
 * callers can branch on the code rather than on message text.
 */

/** Stable identifiers for every kind of failure tsfast reports. */
export type ErrorCode =
  | 'VALUE'
  | 'DATA'
  | 'BACKEND'
  | 'CALLBACK'
  | 'KERNEL'
  | 'LEAK'
  | 'SHAPE'
  | 'DOWNLOAD'
  | 'NAN_LOSS'
  | 'CONFIG';

/**
 * Base class of every error tsfast throws.
 *
 * @example
 * ```ts
 * try {
 *   await tsf.ready();
 * } catch (err) {
 *   if (err instanceof tsf.TsfastError && err.code === 'BACKEND') console.error(err.message);
 * }
 * ```
 */
export class TsfastError extends Error {
  /** Stable identifier of the failure kind. */
  readonly code: ErrorCode;

  /**
   * @param code - Stable identifier of the failure kind.
   * @param message - What failed, the value received and how to fix it.
   * @param options - Standard `ErrorOptions`; pass `cause` to keep the underlying error.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An argument or option has an invalid value.
 *
 * @example
 * ```ts no-run (throws)
 * throw new tsf.ValueError('`validPct` must be in [0, 1). Received: validPct=2');
 * ```
 */
export class ValueError extends TsfastError {
  /** @param message - What was wrong, the value received and the valid choices. */
  constructor(message: string, options?: ErrorOptions) {
    super('VALUE', message, options);
  }
}

/**
 * A data item (file, label, row) cannot be used; the message names the item.
 *
 * @example
 * ```ts no-run (throws)
 * throw new tsf.DataError('Cannot decode image "pets/cat_1.jpg": unsupported format');
 * ```
 */
export class DataError extends TsfastError {
  /** @param message - What failed, naming the item in quotes. */
  constructor(message: string, options?: ErrorOptions) {
    super('DATA', message, options);
  }
}

/**
 * A tfjs backend cannot be loaded or lacks something the library needs.
 *
 * @example
 * ```ts no-run (throws)
 * throw new tsf.BackendError('TSFAST_BACKEND=tensorflow: @tensorflow/tfjs-node is not installed');
 * ```
 */
export class BackendError extends TsfastError {
  /** @param message - Which backend failed, why, and how to fix it. */
  constructor(message: string, options?: ErrorOptions) {
    super('BACKEND', message, options);
  }
}

/**
 * A callback threw during an event; the message names the callback and the event.
 *
 * @example
 * ```ts no-run (throws)
 * throw new tsf.CallbackError('Callback "recorder" failed in "afterBatch": boom');
 * ```
 */
export class CallbackError extends TsfastError {
  /** @param message - The callback, the event and the underlying failure. */
  constructor(message: string, options?: ErrorOptions) {
    super('CALLBACK', message, options);
  }
}

/**
 * Builds the "`name` must be ... Received: name=value" message used by every option check.
 *
 * @param name - Option or argument name.
 * @param requirement - What the value must be, e.g. "a number in [0, 1)".
 * @param received - The value that was passed.
 * @returns A {@link ValueError} ready to throw.
 *
 * @example
 * ```ts
 * const err = tsf.invalidValue('validPct', 'a number in [0, 1)', 2);
 * // err.message === '`validPct` must be a number in [0, 1). Received: validPct=2'
 * ```
 */
export function invalidValue(name: string, requirement: string, received: unknown): ValueError {
  return new ValueError(`\`${name}\` must be ${requirement}. Received: ${name}=${show(received)}`);
}

/**
 * Rejects keys of an options object that the function does not know, since callers may be
 * plain JavaScript where a typo would otherwise be silently ignored. When `options` has an
 * options type and `known` is a literal list, the list is also checked against the type at
 * compile time: a key added to the interface but not to the list, or listed but not in the
 * interface, fails to type-check (the error asks for a fourth argument whose type names the
 * unknown and missing keys).
 *
 * @param where - Function or class name, for the message.
 * @param options - The options object received.
 * @param known - The keys the function accepts.
 * @throws {@link ValueError} naming the unknown key and listing the valid ones.
 *
 * @example
 * ```ts
 * const options: tsf.RandomSplitterOptions = { validPct: 0.2 };
 * tsf.checkOptionKeys('RandomSplitter', options, ['validPct', 'seed']); // ok
 * ```
 */
export function checkOptionKeys<T extends object, const K extends readonly string[]>(
  where: string,
  options: T | undefined,
  known: K,
  // A fourth argument is required exactly when the list and the options type disagree, so such
  // a call fails to compile, and the expected argument's type names the keys in question.
  // Lists computed at run time (string[]), untyped options (object) and index signatures are
  // left to the run-time check.
  ..._listDisagreesWithType: string extends K[number]
    ? []
    : [keyof T] extends [never]
      ? []
      : string extends keyof T
        ? []
        : [Exclude<K[number], keyof T> | Exclude<keyof T & string, K[number]>] extends [never]
          ? []
          : [
              {
                readonly unknownOptionKeys: Exclude<K[number], keyof T>;
                readonly missingOptionKeys: Exclude<keyof T & string, K[number]>;
              },
            ]
): void {
  if (options === undefined || options === null) return;
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValueError(
        `${where}: unknown option \`${key}\`. Valid options: ${known.map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
