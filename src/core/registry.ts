/**
 * The one serialization registry: every named thing an export describes (transforms, blocks,
 * losses) is rebuilt from JSON through it, so loading needs no user code and
 * never evaluates any. Keys are `kind:tsfast>Name` (Keras's `package>Name`, per kind); a name
 * is registered once, and an unknown one gets an error that lists what is registered.
 */
import { DataError, ValueError } from './errors.js';

/** What the registry holds, one namespace each. */
export type SerializableKind = 'transform' | 'block' | 'loss';

/**
 * Builds an object from its exported config (what its `toConfig()` returned).
 * @typeParam T - The object.
 * @typeParam C - The config.
 * @example
 * ```ts
 * const factory: ConfigFactory<string, { text: string }> = (cfg) => cfg.text;
 * ```
 */
export type ConfigFactory<T, C> = (config: C) => T;

const PACKAGE = 'tsfast';
const entries = new Map<string, ConfigFactory<unknown, never>>();

function keyOf(kind: SerializableKind, name: string): string {
  return `${kind}:${PACKAGE}>${name}`;
}

/**
 * Registers how a named object of one kind is rebuilt from its config.
 * @param kind - `transform`, `block` or `loss`.
 * @param name - The name its config carries.
 * @param factory - Builds it from its config.
 * @throws {@link ValueError} when the name is taken for that kind.
 * @example
 * ```ts
 * registerSerializable('transform', 'MyResize', (cfg: { size: number }) => tsf.Resize(cfg.size));
 * ```
 */
export function registerSerializable<T, C>(
  kind: SerializableKind,
  name: string,
  factory: ConfigFactory<T, C>,
): void {
  const key = keyOf(kind, name);
  if (entries.has(key)) {
    throw new ValueError(
      `A ${kind} named "${name}" is already registered (key ${key}). Pick another name.`,
    );
  }
  entries.set(key, factory as ConfigFactory<unknown, never>);
}

/**
 * Whether a name is registered for a kind.
 * @param kind - The kind.
 * @param name - The name.
 * @returns `true` when {@link fromRegistry} can build it.
 * @example
 * ```ts
 * isRegistered('loss', 'CrossEntropyLossFlat'); // true
 * ```
 */
export function isRegistered(kind: SerializableKind, name: string): boolean {
  return entries.has(keyOf(kind, name));
}

/**
 * The names registered for a kind, in registration order.
 * @param kind - The kind.
 * @returns The names.
 * @example
 * ```ts
 * registeredNames('loss'); // ['CrossEntropyLossFlat', ...]
 * ```
 */
export function registeredNames(kind: SerializableKind): string[] {
  const prefix = `${kind}:${PACKAGE}>`;
  return [...entries.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}

/**
 * Rebuilds a registered object from its name and config.
 * @param kind - The kind.
 * @param name - The name the export carries.
 * @param config - Its config.
 * @param hint - How to register the missing name, for the error (e.g. `call registerLoss(name, cls)`).
 * @returns The object.
 * @throws {@link DataError} naming the unknown name and listing the registered ones.
 * @example
 * ```ts
 * registerSerializable('loss', 'MyScale', (cfg: { k: number }) => cfg.k);
 * const k = fromRegistry<number, { k: number }>('loss', 'MyScale', { k: 2 }, 'call registerLoss'); // 2
 * ```
 */
export function fromRegistry<T, C>(
  kind: SerializableKind,
  name: string,
  config: C,
  hint: string,
): T {
  const factory = entries.get(keyOf(kind, name)) as ConfigFactory<T, C> | undefined;
  if (factory === undefined) {
    throw new DataError(
      `Unknown ${kind} "${name}". Registered: ${registeredNames(kind).join(', ') || 'none'}. ${hint}.`,
    );
  }
  return factory(config);
}
