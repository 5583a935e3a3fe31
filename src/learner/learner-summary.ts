/**
 * `learn.summary()`: fastai's `Learner.summary` as text: each layer with its output shape on
 * a real batch, its parameter count and whether it trains, the totals, the optimizer, the
 * loss, how far the model is frozen and the callbacks.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../backend/index.js';
import { ValueError } from '../core/errors.js';
import type { Batch, DataLoadersLike } from '../data/batch.js';
import type { Learner } from './learner.js';

const WIDTH = 76;

/** One layer's row of the summary. */
interface LayerRow {
  type: string;
  shape: string;
  params: number;
  trainable: boolean | undefined;
}

/**
 * fastai's `Learner.summary`: runs one training batch through the model and describes every
 * layer (type, output shape, parameters, trainable), the parameter totals, the optimizer and
 * its hyper-parameters, the loss, the frozen parameter groups and the callbacks.
 *
 * Parameters are what the optimizer could train (kernels, biases, BatchNorm scale and
 * shift); BatchNorm's moving statistics are state, not parameters, as in PyTorch. A layer is
 * trainable when its parameters receive gradients now (unfrozen groups, plus BatchNorm in
 * frozen groups with `trainBn`).
 *
 * @param learn - The learner.
 * @returns The summary text (not printed: log it, or let a notebook show it).
 * @throws {@link ValueError} when the training data yields no batch.
 * @example
 * ```ts
 * console.log(await learn.summary());
 * ```
 */
export async function learnerSummary(learn: Learner): Promise<string> {
  await ready();
  const { xs, ys } = await firstBatch(learn.dls);
  const inputShape = xs.shape;
  let shapes: number[][];
  try {
    shapes = layerOutputShapes(
      learn.model,
      learn.model.layers.filter((l) => l.getClassName() !== 'InputLayer'),
      xs,
    );
  } finally {
    tf.dispose([xs, ys]);
  }
  const trainable = new Set<tf.Variable>(learn.trainableVariables);
  const inGroups = new Set<tf.Variable>(learn.paramGroups.flat());
  const layers = learn.model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const rows: LayerRow[] = layers.map((layer, i) => {
    // Non-trainable weights outside every group are state (BatchNorm moving statistics).
    const params = layer.weights.filter(
      (w) => w.trainable || inGroups.has(w.read() as tf.Variable),
    );
    const n = params.reduce((s, w) => s + sizeOf(w.shape as number[]), 0);
    return {
      type: layer.getClassName(),
      shape: (shapes[i] ?? []).join(' x '),
      params: n,
      trainable: n === 0 ? undefined : params.some((w) => trainable.has(w.read() as tf.Variable)),
    };
  });
  const total = rows.reduce((s, r) => s + r.params, 0);
  const totalTrainable = rows.reduce((s, r) => s + (r.trainable ? r.params : 0), 0);
  const lines = [
    `${learn.model.getClassName()} (Input shape: ${inputShape.join(' x ')})`,
    '='.repeat(WIDTH),
    `${col('Layer (type)', 20)} ${col('Output Shape', 20)} ${col('Param #', 10)} ${col('Trainable', 10)}`,
    '='.repeat(WIDTH),
  ];
  let prev: string | undefined;
  for (const r of rows) {
    if (r.shape !== prev) {
      if (prev !== undefined) lines.push('_'.repeat(WIDTH));
      lines.push(`${col('', 20)} ${col(r.shape.slice(0, 19), 20)}`);
      prev = r.shape;
    }
    const params = r.params === 0 ? '' : r.params.toLocaleString('en-US');
    const trains = r.trainable === undefined ? '' : r.trainable ? 'True' : 'False';
    lines.push(`${col(r.type, 20)} ${col('', 20)} ${col(params, 10)} ${trains}`);
  }
  lines.push('_'.repeat(WIDTH), '');
  lines.push(`Total params: ${total.toLocaleString('en-US')}`);
  lines.push(`Total trainable params: ${totalTrainable.toLocaleString('en-US')}`);
  lines.push(`Total non-trainable params: ${(total - totalTrainable).toLocaleString('en-US')}`);
  lines.push('');
  lines.push(`Optimizer used: ${optimizerText(learn)}`);
  lines.push(`Loss function: ${learn.lossFunc.name} ${JSON.stringify(learn.lossFunc.getConfig())}`);
  lines.push('');
  lines.push(
    learn.frozenIndex === 0
      ? 'Model unfrozen'
      : `Model frozen up to parameter group #${learn.frozenIndex}`,
  );
  lines.push('');
  lines.push('Callbacks:');
  for (const cb of learn.cbs.list) lines.push(`  - ${callbackName(cb)}`);
  return lines.map((l) => l.trimEnd()).join('\n');
}

function col(text: string, width: number): string {
  return text.padEnd(width);
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function optimizerText(learn: Learner): string {
  const hypers = learn.opt.paramGroups.at(-1)?.hypers ?? {};
  const text = Object.entries(hypers)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
    .join(', ');
  return `${learn.opt.constructor.name} (${learn.nGroups} parameter groups; last: ${text})`;
}

function callbackName(cb: object & { name: string }): string {
  const cls = cb.constructor?.name;
  return cls && cls !== 'Object' ? cls : cb.name;
}

/** The first training batch (as fastai's `dls.train.one_batch()`); the caller disposes it. */
async function firstBatch(dls: DataLoadersLike): Promise<Batch> {
  const one = (dls as { oneBatch?: () => Promise<Batch> }).oneBatch;
  if (typeof one === 'function') return one.call(dls);
  for await (const batch of dls.train) return batch;
  throw new ValueError('summary: the training data yields no batch to run through the model.');
}

/**
 * The output shape of each of `layers` on `xs`: the model is re-wired to output
 * every layer's output (the layers and their weights are shared, nothing is copied).
 */
function layerOutputShapes(
  model: tf.LayersModel,
  layers: readonly tf.layers.Layer[],
  xs: tf.Tensor,
): number[][] {
  const outputs = layers.map((l) => l.output);
  if (outputs.some((o) => Array.isArray(o))) {
    throw new ValueError('summary: a layer with several outputs cannot be summarised.');
  }
  const probe = tf.model({ inputs: model.inputs, outputs: outputs as tf.SymbolicTensor[] });
  return tf.tidy(() => {
    const outs = probe.predict(xs) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(outs) ? outs : [outs]).map((t) => [...t.shape]);
  });
}
