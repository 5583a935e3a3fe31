/**
 * Registry of the named blocks and transforms a data pipeline is described with, so an
 * exported pipeline (`DataLoaders.toConfig()`) is rebuilt from JSON with no user code. Each
 * block or transform registers its factory right after its definition.
 */
import { DataError, ValueError } from '../core/errors.js';
import type { JsonObject } from './batch.js';
import type { FittedBlock } from './blocks.js';
import type { Transform } from './transforms.js';

type Factory<T> = (config: JsonObject) => T;

const transforms = new Map<string, Factory<Transform>>();
const blocks = new Map<string, Factory<FittedBlock>>();

/**
 * Registers how a transform is rebuilt from its `toConfig()`.
 * @param name - The transform's `name`.
 * @param factory - Builds the transform from its config.
 * @throws {@link ValueError} if the name is taken.
 * @example
 * ```ts
 * tsf.registerTransform('MyCrop', (cfg) => MyCrop(cfg.size as number));
 * ```
 */
export function registerTransform(name: string, factory: (config: JsonObject) => Transform): void {
  if (transforms.has(name))
    throw new ValueError(`registerTransform: "${name}" is already registered.`);
  transforms.set(name, factory);
}

/**
 * Registers how a fitted block is rebuilt from its `toConfig()` (which holds the vocab).
 * @param name - The block's `name`.
 * @param factory - Builds the fitted block from its config.
 * @throws {@link ValueError} if the name is taken.
 * @example
 * ```ts
 * tsf.registerBlock('MyBlock', (cfg) => myFitted(cfg));
 * ```
 */
export function registerBlock(name: string, factory: (config: JsonObject) => FittedBlock): void {
  if (blocks.has(name)) throw new ValueError(`registerBlock: "${name}" is already registered.`);
  blocks.set(name, factory);
}

function nameOf(config: JsonObject, what: string): string {
  const name = config.name;
  if (typeof name !== 'string') {
    throw new DataError(`Exported ${what} has no "name": ${JSON.stringify(config)}`);
  }
  return name;
}

/**
 * Rebuilds a transform from its config.
 * @param config - What `toConfig()` returned.
 * @returns The transform.
 * @throws {@link DataError} naming an unregistered transform.
 * @example
 * ```ts
 * const t = tsf.transformFromConfig({ name: 'Normalize', mean: [0.5], std: [0.5] });
 * ```
 */
export function transformFromConfig(config: JsonObject): Transform {
  const name = nameOf(config, 'transform');
  const f = transforms.get(name);
  if (!f) {
    throw new DataError(
      `Unknown transform "${name}" in the exported pipeline. Registered: ${[...transforms.keys()].join(', ')}. ` +
        'Import the module that defines it (and calls registerTransform) before loading.',
    );
  }
  return f(config);
}

/**
 * Rebuilds a fitted block from its config.
 * @param config - What `toConfig()` returned.
 * @returns The fitted block.
 * @throws {@link DataError} naming an unregistered block.
 * @example
 * ```ts
 * const b = tsf.blockFromConfig({ name: 'CategoryBlock', vocab: ['cat', 'dog'] });
 * ```
 */
export function blockFromConfig(config: JsonObject): FittedBlock {
  const name = nameOf(config, 'block');
  const f = blocks.get(name);
  if (!f) {
    throw new DataError(
      `Unknown block "${name}" in the exported pipeline. Registered: ${[...blocks.keys()].join(', ')}. ` +
        'Import the module that defines it (and calls registerBlock) before loading.',
    );
  }
  return f(config);
}
