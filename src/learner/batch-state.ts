/**
 * The tensors of the batch being trained or validated, and who disposes them: the batch
 * owns every tensor put here, and frees them all when it ends, even when a callback threw.
 */
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../core/errors.js';

/**
 * The current batch of a Learner: inputs, targets, output, loss and gradients. What the
 * `Learner` getters (`xb`, `yb`, `pred`, `lossTensor`, `grads`) read and its `replace*`
 * methods write.
 * @example
 * ```ts
 * const batch = new BatchState();
 * batch.setBatch(tf.randomNormal([2, 8]), ys); // model takes 8 features
 * try {
 *   batch.setPred(model.apply(batch.xb) as tf.Tensor);
 * } finally {
 *   batch.end(); // disposes xs, ys and the prediction
 * }
 * ```
 */
export class BatchState {
  private readonly owned = new Set<tf.Tensor>();
  private xbT: tf.Tensor | undefined;
  private ybT: tf.Tensor | undefined;
  private predT: tf.Tensor | undefined;
  private lossT: tf.Scalar | undefined;
  private gradMap: Map<tf.Variable, tf.Tensor> | undefined;

  /**
   * Current inputs.
   * @throws {@link ValueError} outside a batch.
   */
  get xb(): tf.Tensor {
    return need(this.xbT, 'xb');
  }

  /**
   * Current targets.
   * @throws {@link ValueError} outside a batch.
   */
  get yb(): tf.Tensor {
    return need(this.ybT, 'yb');
  }

  /**
   * Model output.
   * @throws {@link ValueError} before the forward pass.
   */
  get pred(): tf.Tensor {
    return need(this.predT, 'pred');
  }

  /** Loss, once computed. */
  get loss(): tf.Scalar | undefined {
    return this.lossT;
  }

  /** Gradients, once computed (and until the step consumed them). */
  get grads(): ReadonlyMap<tf.Variable, tf.Tensor> | undefined {
    return this.gradMap;
  }

  /**
   * Starts a batch, or replaces its inputs and targets (MixUp); takes ownership of both.
   * @param xb - Inputs.
   * @param yb - Targets.
   * @example
   * ```ts
   * const batch = new BatchState();
   * batch.setBatch(xs, ys);
   * ```
   */
  setBatch(xb: tf.Tensor, yb: tf.Tensor): void {
    this.xbT = this.own(xb);
    this.ybT = this.own(yb);
  }

  /**
   * Sets the model output; takes ownership and keeps it out of any enclosing `tf.tidy`.
   * @param pred - The output.
   * @example
   * ```ts
   * const batch = new BatchState();
   * batch.setBatch(tf.randomNormal([2, 8]), ys); // model takes 8 features
   * tf.tidy(() => batch.setPred(model.apply(batch.xb) as tf.Tensor));
   * ```
   */
  setPred(pred: tf.Tensor): void {
    this.predT = this.own(tf.keep(pred));
  }

  /**
   * Sets the loss; takes ownership and keeps it out of any enclosing `tf.tidy`.
   * @param loss - The scalar loss.
   * @returns `loss`.
   * @example
   * ```ts
   * const batch = new BatchState();
   * batch.setBatch(tf.randomNormal([2, 8]), ys); // model takes 8 features
   * tf.tidy(() => batch.setPred(model.apply(batch.xb) as tf.Tensor));
   * const lossFunc = new tsf.CrossEntropyLossFlat();
   * tf.tidy(() => batch.setLoss(lossFunc.compute(batch.pred, batch.yb) as tf.Scalar));
   * ```
   */
  setLoss(loss: tf.Scalar): tf.Scalar {
    this.lossT = this.own(tf.keep(loss));
    return this.lossT;
  }

  /**
   * Sets the gradients; takes ownership of each.
   * @param grads - Gradient per variable.
   * @example
   * ```ts
   * const batch = new BatchState();
   * batch.setGrads(new Map([[v, g]]));
   * ```
   */
  setGrads(grads: Map<tf.Variable, tf.Tensor>): void {
    for (const g of grads.values()) this.own(g);
    this.gradMap = grads;
  }

  /**
   * Takes ownership of a tensor made for this batch: {@link BatchState.end} disposes it.
   * @param t - The tensor.
   * @returns `t`.
   * @example
   * ```ts
   * const batch = new BatchState();
   * const value = tf.ones([2]);
   * batch.own(value);
   * ```
   */
  own<T extends tf.Tensor>(t: T): T {
    this.owned.add(t);
    return t;
  }

  /**
   * Disposes the gradients once the step used them, so they do not wait for the batch end.
   * @example
   * ```ts
   * const batch = new BatchState();
   * batch.zeroGrad();
   * ```
   */
  zeroGrad(): void {
    if (this.gradMap === undefined) return;
    for (const g of this.gradMap.values()) {
      g.dispose();
      this.owned.delete(g);
    }
    this.gradMap = undefined;
  }

  /**
   * Ends the batch: disposes every tensor it owns and forgets them.
   * @example
   * ```ts
   * const batch = new BatchState();
   * batch.end();
   * ```
   */
  end(): void {
    for (const t of this.owned) if (!t.isDisposed) t.dispose();
    this.owned.clear();
    this.xbT = undefined;
    this.ybT = undefined;
    this.predT = undefined;
    this.lossT = undefined;
    this.gradMap = undefined;
  }
}

/**
 * A value of the running loop, or a message saying it exists only during a batch.
 * @param value - The value, `undefined` outside a batch.
 * @param what - Its name on the learner, for the message.
 * @returns `value`.
 * @throws {@link ValueError} if `value` is undefined.
 * @example
 * ```ts no-run (throws outside a batch)
 * const dl = need(learn.dl, 'dl'); // in a callback, during a batch
 * ```
 */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new ValueError(`learn.${what} is only available during a batch (inside a callback).`);
  }
  return value;
}
