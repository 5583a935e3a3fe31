/**
 * MixUp and CutMix: train on blends of pairs of items.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import { type RandomGenerator, randomFor } from '../core/random.js';
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { CrossEntropyLossFlat, type Loss, type Reduction } from '../learner/losses.js';

/**
 * Options of {@link MixUp} and {@link CutMix}.
 * @example
 * ```ts
 * await learn.fit(5, 1e-3, { cbs: [new tsf.MixUp({ alpha: 0.4, seed: 1 })] });
 * ```
 */
export interface MixOptions {
  /**
   * Parameter of the Beta(alpha, alpha) distribution of the mixing weight.
   * @defaultValue 0.4 (MixUp), 1 (CutMix)
   */
  alpha?: number;
  /**
   * Seed of the mixing draws.
   * @defaultValue a fork of the global generator
   */
  seed?: number;
}

/** Gamma(shape, 1) by Marsaglia-Tsang (with the `shape < 1` boost). */
function sampleGamma(rng: RandomGenerator, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * rng.random() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v)))
      return d * v;
  }
}

/**
 * A draw from Beta(a, b), from two Gamma draws.
 * @param rng - The generator.
 * @param a - First shape.
 * @param b - Second shape.
 * @returns A number in (0, 1).
 * @example
 * ```ts
 * sampleBeta(tsf.randomFor(1), 0.4, 0.4);
 * ```
 */
export function sampleBeta(rng: RandomGenerator, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

/** The loss used while mixing integer targets: `lerp(loss(y1), loss(y), lam)` per item. */
class MixedLoss implements Loss {
  readonly name: string;
  constructor(
    readonly inner: Loss,
    private readonly handler: MixHandler,
  ) {
    this.name = inner.name;
  }
  compute(pred: tf.Tensor, targ: tf.Tensor, reduction: Reduction = 'mean'): tf.Tensor {
    const { yb1, lam } = this.handler;
    if (!this.handler.active || yb1 === undefined || lam === undefined) {
      return this.inner.compute(pred, targ, reduction);
    }
    return tf.tidy(() => {
      const l1 = this.inner.compute(pred, yb1, 'none');
      const l0 = this.inner.compute(pred, targ, 'none');
      const mixed = l1.add(l0.sub(l1).mul(lam.reshape([-1])));
      return reduction === 'mean' ? mixed.mean() : mixed;
    });
  }
  activation(pred: tf.Tensor): tf.Tensor {
    return this.inner.activation(pred);
  }
  decodes(act: tf.Tensor): tf.Tensor {
    return this.inner.decodes(act);
  }
  getConfig() {
    return this.inner.getConfig();
  }
}

/**
 * A batch in a random order: each item's mixing partner.
 * @example
 * ```ts
 * class MyMix extends tsf.MixUp {
 *   override beforeBatch({ learn }: tsf.EventContext): void {
 *     const { xb1, yb1 }: tsf.ShuffledBatch = this.shuffled(learn);
 *   }
 * }
 * ```
 */
export interface ShuffledBatch {
  /** Shuffled inputs. */
  xb1: tf.Tensor;
  /** Targets in the same order as `xb1`. */
  yb1: tf.Tensor;
}

/** Shared logic of MixUp and CutMix (fastai's `MixHandler`). */
abstract class MixHandler implements Callback {
  abstract readonly name: string;
  /** Runs on the training phase only: validation batches are never mixed. */
  readonly runOn = 'train';
  /** Parameter of the Beta(alpha, alpha) distribution of the mixing weight. */
  readonly alpha: number;
  /** Shuffled targets of the current batch. */
  yb1: tf.Tensor | undefined;
  /** Mixing weight of the current batch, `[N]`. */
  lam: tf.Tensor | undefined;
  /**
   * Whether the training phase is running (the mixed loss falls back to the plain loss
   * outside it).
   * @internal
   */
  active = false;
  /** Generator of the mixing draws and the pairing permutation. */
  protected rng: RandomGenerator;
  /**
   * Whether the loss takes integer class targets, so the loss is blended rather than the
   * targets.
   */
  protected stackY = false;
  private oldLoss: Loss | undefined;

  constructor(options: MixOptions, defaultAlpha: number) {
    checkOptionKeys(new.target.name, options, ['alpha', 'seed']);
    this.alpha = options.alpha ?? defaultAlpha;
    if (!(this.alpha > 0)) throw invalidValue('alpha', 'a positive number', options.alpha);
    this.rng = randomFor(options.seed);
  }

  beforeTrain({ learn }: EventContext): void {
    this.stackY = learn.lossFunc instanceof CrossEntropyLossFlat;
    if (this.stackY) {
      this.oldLoss = learn.lossFunc;
      learn.lossFunc = new MixedLoss(learn.lossFunc, this);
    }
    this.active = true;
  }

  afterTrain({ learn }: EventContext): void {
    this.restore(learn);
  }

  afterFit({ learn }: EventContext): void {
    this.restore(learn);
    this.dropBatch();
  }

  afterBatch(): void {
    this.dropBatch();
  }

  /**
   * The batch's inputs and targets in a random order (each item's mixing partner).
   * @param learn - The learner, whose `xb`/`yb` are read.
   * @returns New tensors the caller disposes.
   */
  protected shuffled(learn: Learner): ShuffledBatch {
    const n = learn.yb.shape[0] as number;
    const perm = tf.tensor1d(this.rng.permutation(n), 'int32');
    const out = { xb1: tf.gather(learn.xb, perm), yb1: tf.gather(learn.yb, perm) };
    perm.dispose();
    return out;
  }

  /** Mixes targets when the loss does not take integer targets (`lerp(y1, y, lam)`). */
  protected mixedTargets(learn: Learner, yb1: tf.Tensor, lam: tf.Tensor): tf.Tensor {
    if (this.stackY) return learn.yb.clone();
    return tf.tidy(() => {
      const y = learn.yb.toFloat();
      const w = lam.reshape([-1, ...new Array<number>(y.rank - 1).fill(1)]);
      return yb1.toFloat().add(y.sub(yb1.toFloat()).mul(w));
    });
  }

  private restore(learn: Learner): void {
    if (this.oldLoss !== undefined) learn.lossFunc = this.oldLoss;
    this.oldLoss = undefined;
    this.active = false;
  }

  private dropBatch(): void {
    tf.dispose([this.yb1, this.lam].filter((t): t is tf.Tensor => t !== undefined));
    this.yb1 = undefined;
    this.lam = undefined;
  }
}

/**
 * MixUp (Zhang et al.): each item is blended with another of the batch,
 * `x = lerp(x1, x, lam)` with `lam = max(b, 1-b)`, `b ~ Beta(alpha, alpha)` per item; the
 * loss is blended the same way for class targets, the targets themselves otherwise.
 * @example
 * ```ts
 * await learn.fit(5, 1e-3, { cbs: [new tsf.MixUp({ alpha: 0.4 })] });
 * ```
 */
export class MixUp extends MixHandler {
  /** Name. */
  readonly name = 'mixUp';

  /** @param options - See {@link MixOptions}. */
  constructor(options: MixOptions = {}) {
    super(options, 0.4);
  }

  /** Mixes the batch. */
  beforeBatch({ learn }: EventContext): void {
    const n = learn.yb.shape[0] as number;
    const lams = Array.from({ length: n }, () => {
      const b = sampleBeta(this.rng, this.alpha, this.alpha);
      return Math.max(b, 1 - b);
    });
    const lam = tf.tensor1d(lams);
    const { xb1, yb1 } = this.shuffled(learn);
    const x = tf.tidy(() => {
      const w = lam.reshape([-1, ...new Array<number>(learn.xb.rank - 1).fill(1)]);
      return xb1.add(learn.xb.sub(xb1).mul(w));
    });
    const y = this.mixedTargets(learn, yb1, lam);
    xb1.dispose();
    this.yb1 = yb1;
    this.lam = lam;
    learn.replaceBatch(x, y);
  }
}

/**
 * CutMix (Yun et al.): a random box of each image is replaced by the same box of another
 * image of the batch; `lam` is the kept area fraction. Inputs are NHWC images.
 * @example
 * ```ts no-run (needs a learner on images)
 * await learn.fit(5, 1e-3, { cbs: [new tsf.CutMix({ alpha: 1 })] });
 * ```
 */
export class CutMix extends MixHandler {
  /** Name. */
  readonly name = 'cutMix';

  /** @param options - See {@link MixOptions}. */
  constructor(options: MixOptions = {}) {
    super(options, 1);
  }

  /** Cuts and mixes the batch. */
  beforeBatch({ learn }: EventContext): void {
    const [n, H, W] = learn.xb.shape as number[];
    if (learn.xb.rank !== 4 || n === undefined || H === undefined || W === undefined) {
      throw invalidValue('xb', 'an NHWC image batch', learn.xb.shape);
    }
    const draw = sampleBeta(this.rng, this.alpha, this.alpha);
    const cutRat = Math.sqrt(1 - draw);
    const cutW = Math.round(W * cutRat);
    const cutH = Math.round(H * cutRat);
    const cx = this.rng.randInt(0, W);
    const cy = this.rng.randInt(0, H);
    const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
    const x1 = clamp(cx - Math.floor(cutW / 2), W);
    const y1 = clamp(cy - Math.floor(cutH / 2), H);
    const x2 = clamp(cx + Math.floor(cutW / 2), W);
    const y2 = clamp(cy + Math.floor(cutH / 2), H);
    const mask = new Float32Array(H * W);
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) mask[y * W + x] = 1;
    const lamValue = 1 - ((x2 - x1) * (y2 - y1)) / (W * H);
    const { xb1, yb1 } = this.shuffled(learn);
    const x = tf.tidy(() => {
      const m = tf.tensor4d(mask, [1, H, W, 1]);
      return learn.xb.mul(tf.scalar(1).sub(m)).add(xb1.mul(m));
    });
    const lam = tf.fill([n], lamValue);
    const y = this.mixedTargets(learn, yb1, lam);
    xb1.dispose();
    this.yb1 = yb1;
    this.lam = lam;
    learn.replaceBatch(x, y);
  }
}
