/**
 * Predictions: `getPreds` over a dataset, `predict` for one item, test-time augmentation.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { checkOptionKeys, ValueError } from '../core/errors.js';
import type { BatchStream } from '../data/batch.js';
import type { Learner } from './learner.js';

/**
 * Options of {@link getPreds}.
 * @example
 * ```ts
 * const { preds, targs, losses } = await learn.getPreds({ dsIdx: 1, withLoss: true });
 * ```
 */
export interface GetPredsOptions {
  /**
   * Dataset: 0 = training stream, 1 = validation.
   * @defaultValue 1
   */
  dsIdx?: 0 | 1;
  /**
   * Another stream to predict on (overrides `dsIdx`), e.g. `dls.testDl(files)`.
   * @defaultValue undefined
   */
  dl?: BatchStream;
  /**
   * Also return the per-item loss.
   * @defaultValue false
   */
  withLoss?: boolean;
  /**
   * Also return the decoded predictions (argmax, thresholded...).
   * @defaultValue false
   */
  withDecoded?: boolean;
  /**
   * Also return the inputs.
   * @defaultValue false
   */
  withInput?: boolean;
  /**
   * Apply the loss's activation (softmax, sigmoid) to the outputs.
   * @defaultValue true
   */
  act?: boolean;
}

/**
 * What {@link getPreds} returns; the caller disposes every tensor.
 * @example
 * ```ts
 * const res: tsf.GetPredsResult = await learn.getPreds({ withDecoded: true });
 * tf.dispose([res.preds, res.targs, res.decoded!]);
 * ```
 */
export interface GetPredsResult {
  /** Predictions (activations) `[N, ...]`. */
  preds: tf.Tensor;
  /**
   * Targets `[N, ...]`; absent when the stream has no targets (`dls.testDl(items)` without
   * `withLabels`), as fastai returns `None`.
   */
  targs?: tf.Tensor;
  /** Decoded predictions, when asked. */
  decoded?: tf.Tensor;
  /** Per-item losses `[N]`, when asked. */
  losses?: tf.Tensor;
  /** Inputs, when asked. */
  inputs?: tf.Tensor;
}

/**
 * Predictions for a dataset, in order, in inference mode (callbacks do not run).
 * @param learn - The learner.
 * @param options - See {@link GetPredsOptions}.
 * @returns Tensors the caller disposes.
 * @throws {@link ValueError} for unknown options, an empty stream, or `withLoss` on a stream
 *   without targets.
 * @example
 * ```ts
 * const { preds, targs } = await tsf.getPreds(learn);
 * tf.dispose([preds, targs]);
 * ```
 */
export async function getPreds(
  learn: Learner,
  options: GetPredsOptions = {},
): Promise<GetPredsResult> {
  checkOptionKeys('getPreds', options, [
    'dsIdx',
    'dl',
    'withLoss',
    'withDecoded',
    'withInput',
    'act',
  ]);
  await ready();
  const dl = options.dl ?? ((options.dsIdx ?? 1) === 0 ? learn.dls.train : learn.dls.valid);
  const act = options.act ?? true;
  const hasTargets = dl.hasTargets ?? true;
  if (options.withLoss && !hasTargets) {
    throw new ValueError(
      'getPreds: `withLoss` needs targets, but this stream has none; make it with ' +
        '`dls.testDl(items, { withLabels: true })`.',
    );
  }
  const parts: {
    preds: tf.Tensor[];
    targs: tf.Tensor[];
    losses: tf.Tensor[];
    inputs: tf.Tensor[];
  } = {
    preds: [],
    targs: [],
    losses: [],
    inputs: [],
  };
  try {
    for await (const { xs, ys } of dl) {
      if (hasTargets) parts.targs.push(ys);
      else ys.dispose();
      if (options.withInput) parts.inputs.push(xs);
      tf.tidy(() => {
        const out = learn.model.apply(xs, { training: false }) as tf.Tensor;
        parts.preds.push(tf.keep(act ? learn.lossFunc.activation(out) : out));
        if (options.withLoss) {
          const l = learn.lossFunc.compute(out, ys, 'none');
          const bs = ys.shape[0] as number;
          parts.losses.push(tf.keep(l.size === bs ? l.reshape([bs]) : l.reshape([bs, -1]).mean(1)));
        }
      });
      if (!options.withInput) xs.dispose();
    }
    if (parts.preds.length === 0) {
      throw new ValueError('getPreds: the stream yielded no batches; nothing to predict.');
    }
    const result: GetPredsResult = { preds: cat(parts.preds) };
    if (hasTargets) result.targs = cat(parts.targs);
    if (options.withLoss) result.losses = cat(parts.losses);
    if (options.withInput) result.inputs = cat(parts.inputs);
    if (options.withDecoded) result.decoded = tf.tidy(() => learn.lossFunc.decodes(result.preds));
    return result;
  } finally {
    for (const list of Object.values(parts)) tf.dispose(list);
  }
}

function cat(list: tf.Tensor[]): tf.Tensor {
  return list.length === 1 ? (list[0] as tf.Tensor).clone() : tf.concat(list, 0);
}

/**
 * What {@link predict} returns.
 * @example
 * ```ts no-run (needs a learner over image files)
 * const { label, probs }: tsf.PredictResult = await learn.predict('cat.jpg');
 * console.log(label, Math.max(...probs));
 * ```
 */
export interface PredictResult {
  /** Class name (single-label classification with a vocab). */
  label: string | undefined;
  /** Class names predicted (multi-label with a vocab). */
  labels: string[] | undefined;
  /** Decoded class index (single-label classification). */
  index: number | undefined;
  /** The activations (probabilities) for the item. */
  probs: number[];
  /** The decoded prediction values. */
  decoded: number[];
}

/**
 * Prediction for one item.
 * @param learn - The learner.
 * @param item - A tensor (one item, with or without a batch axis of 1) or a raw item the data
 *   pipeline encodes (`dls.encodeInputs`).
 * @returns Label, index, probabilities, decoded values.
 * @throws {@link ValueError} if `item` is not a tensor and the data cannot encode it, or is
 *   a batch of more than one item.
 * @example
 * ```ts no-run (needs a learner over image files)
 * const { label, probs } = await tsf.predict(learn, 'cat.jpg');
 * ```
 */
export async function predict(learn: Learner, item: unknown): Promise<PredictResult> {
  await ready();
  let x: tf.Tensor;
  if (item instanceof tf.Tensor) {
    const inputRank = learn.model.inputs[0]?.shape.length ?? item.rank + 1;
    if (item.rank === inputRank && item.shape[0] !== 1) {
      throw new ValueError(
        `predict takes one item; received a batch of ${item.shape[0]} (shape ` +
          `${JSON.stringify(item.shape)}). Call predict once per item, or use ` +
          'learn.getPreds({ dl }) for a batch.',
      );
    }
    x = item.rank === inputRank - 1 ? item.expandDims(0) : item.clone();
  } else if (learn.dls.encodeInputs !== undefined) {
    x = await learn.dls.encodeInputs([item]);
  } else {
    throw new ValueError(
      "predict: the item is not a tensor and this learner's data has no encodeInputs; pass a tensor or build the learner from a DataBlock.",
    );
  }
  let act: tf.Tensor;
  let dec: tf.Tensor;
  try {
    [act, dec] = tf.tidy(() => {
      const out = learn.model.apply(x, { training: false }) as tf.Tensor;
      const a = learn.lossFunc.activation(out);
      return [a, learn.lossFunc.decodes(a)];
    });
  } finally {
    x.dispose();
  }
  const [probsAll, decAll] = await Promise.all([act.data(), dec.data()]);
  const perItemP = act.size / (act.shape[0] ?? 1);
  const perItemD = dec.size / (dec.shape[0] ?? 1);
  tf.dispose([act, dec]);
  const probs = Array.from(probsAll.slice(0, perItemP), Number);
  const decoded = Array.from(decAll.slice(0, perItemD), Number);
  const vocab = learn.dls.vocab;
  const single = decoded.length === 1 && dec.dtype === 'int32';
  const index = single ? decoded[0] : undefined;
  return {
    label: index !== undefined && vocab ? vocab[index] : undefined,
    labels:
      !single && vocab && decoded.length === vocab.length
        ? vocab.filter((_, i) => decoded[i] === 1)
        : undefined,
    index,
    probs,
    decoded,
  };
}

/**
 * Options of {@link tta}.
 * @example
 * ```ts no-run (needs a learner with augmentation transforms)
 * const { preds, targs } = await learn.tta({ n: 8, beta: 0.25 });
 * ```
 */
export interface TtaOptions {
  /**
   * Augmented passes.
   * @defaultValue 4
   */
  n?: number;
  /**
   * Weight of the plain predictions: `aug + beta * (plain - aug)`.
   * @defaultValue 0.25
   */
  beta?: number;
}

/**
 * What {@link tta} returns.
 * @example
 * ```ts no-run (needs a learner with augmentation transforms)
 * const { preds, targs }: tsf.TtaResult = await learn.tta();
 * ```
 */
export interface TtaResult {
  /** Blended predictions (activations) `[N, ...]`: `lerp(aug, plain, beta)`. */
  preds: tf.Tensor;
  /** Targets of the validation set `[N, ...]`. */
  targs: tf.Tensor;
}

/**
 * Test-time augmentation over the validation set (fastai's `tta`).
 * @param learn - The learner.
 * @param options - See {@link TtaOptions}.
 * @returns Blended predictions and targets; the caller disposes them.
 * @throws {@link ValueError} if the data has no `validWithAugmentation`.
 * @example
 * ```ts no-run (needs a learner with augmentation transforms)
 * const { preds, targs } = await tsf.tta(learn);
 * ```
 */
export async function tta(learn: Learner, options: TtaOptions = {}): Promise<TtaResult> {
  checkOptionKeys('tta', options, ['n', 'beta']);
  const n = options.n ?? 4;
  const beta = options.beta ?? 0.25;
  const augDl = learn.dls.validWithAugmentation;
  if (augDl === undefined) {
    throw new ValueError(
      'tta: the data has no validWithAugmentation(); build it with augmentation transforms.',
    );
  }
  let sum: tf.Tensor | undefined;
  for (let i = 0; i < n; i++) {
    const { preds, targs } = await getPreds(learn, { dl: augDl.call(learn.dls) });
    targs?.dispose();
    const next: tf.Tensor =
      sum === undefined ? preds : tf.tidy(() => (sum as tf.Tensor).add(preds));
    if (sum !== undefined) tf.dispose([sum, preds]);
    sum = next;
  }
  const { preds, targs } = await getPreds(learn);
  if (targs === undefined) {
    tf.dispose([sum as tf.Tensor, preds]);
    throw new ValueError('tta: the validation stream has no targets.');
  }
  const blended = tf.tidy(() => {
    const aug = (sum as tf.Tensor).div(n);
    return aug.add(preds.sub(aug).mul(beta));
  });
  tf.dispose([sum as tf.Tensor, preds]);
  return { preds: blended, targs };
}
