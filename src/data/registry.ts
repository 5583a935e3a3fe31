/**
 * The named blocks and transforms a data pipeline is described with, so an exported pipeline
 * (`DataLoaders.toConfig()`) is rebuilt from JSON with no user code: their kinds in the one
 * serialization registry (`core/registry.ts`). Each block or transform registers its factory
 * right after its definition.
 */
import { DataError } from '../core/errors.js';
import { fromRegistry, registerSerializable } from '../core/registry.js';
import type { JsonObject } from './batch.js';
import type { FittedBlock } from './blocks.js';
import type { Transform } from './transforms.js';

/**
 * Registers how a transform is rebuilt from its `toConfig()`.
 * @param name - The transform's `name`.
 * @param factory - Builds the transform from its config.
 * @throws {@link ValueError} if the name is taken.
 * @example
 * ```ts
 * tsf.registerTransform('MyCrop', (cfg) => tsf.Resize(cfg.size as number));
 * ```
 */
export function registerTransform(name: string, factory: (config: JsonObject) => Transform): void {
  registerSerializable('transform', name, factory);
}

/**
 * Registers how a fitted block is rebuilt from its `toConfig()` (which holds the vocab).
 * @param name - The block's `name`.
 * @param factory - Builds the fitted block from its config.
 * @throws {@link ValueError} if the name is taken.
 * @example
 * ```ts
 * // a block saved as 'MyBlock' is rebuilt as a CategoryBlock
 * tsf.registerBlock('MyBlock', (cfg) => tsf.blockFromConfig({ ...cfg, name: 'CategoryBlock' }));
 * ```
 */
export function registerBlock(name: string, factory: (config: JsonObject) => FittedBlock): void {
  registerSerializable('block', name, factory);
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
  return fromRegistry(
    'transform',
    nameOf(config, 'transform'),
    config,
    importHint('registerTransform'),
  );
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
  return fromRegistry('block', nameOf(config, 'block'), config, importHint('registerBlock'));
}

function importHint(register: string): string {
  return `It comes from the exported pipeline: import the module that defines it (and calls ${register}) before loading`;
}
