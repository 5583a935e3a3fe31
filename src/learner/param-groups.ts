/**
 * Parameter groups of a tfjs model: what a splitter returns, and which variables are
 * BatchNorm or bias (no weight decay; BatchNorm keeps training when frozen).
 */
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../core/errors.js';

/**
 * One group as a splitter gives it: layers (their trainable weights) and/or variables.
 * @example
 * ```ts
 * const head: tsf.ParamGroupSpec = model.layers.slice(-2);
 * ```
 */
export type ParamGroupSpec = readonly (tf.layers.Layer | tf.LayerVariable)[];

/**
 * Splits a model into parameter groups, body first, head last (fastai's `splitter`).
 * @example
 * ```ts
 * const splitter: tsf.Splitter = (m) => [m.layers.slice(0, -2), m.layers.slice(-2)];
 * ```
 */
export type Splitter = (model: tf.LayersModel) => readonly ParamGroupSpec[];

/**
 * The default splitter: every layer in one group (fastai's `trainable_params`).
 * @param model - The model.
 * @returns One group.
 * @example
 * ```ts
 * tsf.trainableParams(model); // [model.layers]
 * ```
 */
export function trainableParams(model: tf.LayersModel): ParamGroupSpec[] {
  return [model.layers];
}

/**
 * What the learner knows about each variable.
 * @example
 * ```ts
 * const { info } = tsf.resolveParamGroups(model, [model.layers]);
 * const noDecay = [...info.values()].filter((i: tsf.ParamInfo) => i.isBn || i.isBias);
 * ```
 */
export interface ParamInfo {
  /** The tfjs-layers wrapper. */
  readonly layerVariable: tf.LayerVariable;
  /** Belongs to a BatchNorm layer (see {@link isBatchNorm}). */
  readonly isBn: boolean;
  /** A bias (named `.../bias`). */
  readonly isBias: boolean;
}

/**
 * Every layer of a model, nested models included, depth first.
 * @param model - A model or layer.
 * @returns The layers (the model itself excluded).
 * @example
 * ```ts
 * const bns = flattenLayers(model).filter(tsf.isBatchNorm);
 * ```
 */
export function flattenLayers(model: tf.layers.Layer): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  const visit = (layer: tf.layers.Layer): void => {
    const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(inner)) for (const l of inner) visit(l);
    else out.push(layer);
  };
  visit(model);
  return out;
}

/** Class names of the BatchNorm layers: tfjs-layers' and tsfast's own (`BatchNorm`). */
const BATCH_NORM_CLASSES: readonly string[] = ['BatchNormalization', 'BatchNorm'];

/**
 * Whether a layer is a BatchNorm layer: tfjs-layers' `BatchNormalization` or tsfast's
 * `BatchNorm`.
 * @param layer - Any layer.
 * @returns True for either class.
 * @example
 * ```ts
 * tsf.isBatchNorm(tf.layers.batchNormalization()); // true
 * tsf.isBatchNorm(new tsf.BatchNorm()); // true
 * ```
 */
export function isBatchNorm(layer: tf.layers.Layer): boolean {
  return BATCH_NORM_CLASSES.includes(layer.getClassName());
}

/**
 * What {@link resolveParamGroups} returns.
 * @example
 * ```ts
 * const resolved: tsf.ResolvedParamGroups = tsf.resolveParamGroups(model, [model.layers]);
 * ```
 */
export interface ResolvedParamGroups {
  /** The variables of each group, body first, head last. */
  groups: tf.Variable[][];
  /** BatchNorm/bias information of every variable of `groups`. */
  info: Map<tf.Variable, ParamInfo>;
}

/**
 * Resolves a splitter's groups to variables, with BatchNorm/bias information.
 * @param model - The model.
 * @param groups - The splitter's output.
 * @returns Variables per group and information per variable.
 * @throws {@link ValueError} if a variable appears in two groups or a group is empty of
 *   trainable weights while others are not.
 * @example
 * ```ts
 * const { groups, info } = tsf.resolveParamGroups(model, tsf.trainableParams(model));
 * ```
 */
export function resolveParamGroups(
  model: tf.LayersModel,
  groups: readonly ParamGroupSpec[],
): ResolvedParamGroups {
  const bnNames = new Set<string>();
  for (const layer of flattenLayers(model)) {
    if (isBatchNorm(layer)) for (const w of layer.weights) bnNames.add(w.name);
  }
  const info = new Map<tf.Variable, ParamInfo>();
  const out: tf.Variable[][] = [];
  for (const spec of groups) {
    const vars: tf.Variable[] = [];
    for (const item of spec) {
      const lvs = item instanceof tf.layers.Layer ? item.trainableWeights : [item];
      for (const lv of lvs) {
        if (!lv.trainable) continue;
        const v = lv.read() as tf.Variable;
        if (info.has(v)) {
          throw new ValueError(
            `Splitter put variable "${lv.name}" in two parameter groups; each weight must belong to exactly one.`,
          );
        }
        info.set(v, {
          layerVariable: lv,
          isBn: bnNames.has(lv.name),
          isBias: /(^|\/)bias(_\d+)?$/.test(lv.name),
        });
        vars.push(v);
      }
    }
    out.push(vars);
  }
  if (info.size === 0) {
    throw new ValueError(
      "Splitter returned no trainable weights: pass a splitter over the model's layers.",
    );
  }
  return { groups: out, info };
}

/**
 * Makes one layer run in inference mode whatever `training` flag the model passes (tfjs
 * layers only look at that flag): wraps the instance's `call`.
 * @param layer - Typically a BatchNormalization layer.
 * @returns A function restoring the original behaviour.
 * @example
 * ```ts
 * const bnLayer = tf.layers.batchNormalization();
 * const restore = forceInferenceMode(bnLayer);
 * // ... train ...
 * restore();
 * ```
 */
export function forceInferenceMode(layer: tf.layers.Layer): () => void {
  const own = Object.hasOwn(layer, 'call') ? layer.call : undefined;
  const original = layer.call;
  layer.call = (inputs, kwargs) => original.call(layer, inputs, { ...kwargs, training: false });
  return () => {
    if (own === undefined) delete (layer as { call?: unknown }).call;
    else layer.call = own;
  };
}
