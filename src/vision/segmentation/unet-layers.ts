/**
 * The layers fastai's `DynamicUnet` needs that tfjs-layers lacks: `PixelShuffle` (sub-pixel
 * upsampling), `SelfAttention` (SAGAN) and a nearest-neighbour resize to a fixed size. Each is
 * registered for serialisation as `tsfast>Name`, so exported U-Nets load with no user code.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue } from '../../core/errors.js';
import { BASE_LAYER_KEYS, ConfigLayer } from '../models/config-layer.js';
import type { BaseLayerArgs } from '../models/layer-args.js';

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
}

function oneShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
}

/**
 * NHWC space-to-depth, the exact inverse of `tf.depthToSpace(x, r)` (channel `(i r + j) C + c`
 * of input pixel `(h, w)` goes to output pixel `(h r + i, w r + j)`, channel `c`), from a
 * reshape, a rank-4 transpose and a reshape.
 */
function spaceToDepth(y: tf.Tensor, r: number): tf.Tensor {
  const [n, hr, wr, c] = y.shape as [number, number, number, number];
  const h = hr / r;
  const w = wr / r;
  return y
    .reshape([n * h, r, w, r * c])
    .transpose([0, 2, 1, 3])
    .reshape([n, h, w, r * r * c]);
}

/**
 * PyTorch's `PixelShuffle` in NHWC: `[N, H, W, r*r*C] -> [N, H*r, W*r, C]` with TensorFlow's
 * `DepthToSpace` channel order (the kernel exists on every engine); its gradient (which tfjs
 * does not register) is the inverse rearrangement.
 *
 * @param x - Input `[N, H, W, r*r*C]`.
 * @param r - Upscale factor.
 * @returns A new tensor the caller disposes.
 * @example
 * ```ts
 * const y = tsf.pixelShuffle(tf.zeros([1, 4, 4, 12]), 2); // [1, 8, 8, 3]
 * ```
 */
export function pixelShuffle(x: tf.Tensor, r: number): tf.Tensor {
  return pixelShuffleOp(x, r);
}

function pixelShuffleImpl(x: tf.Tensor, r: number): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.depthToSpace(args[0] as tf.Tensor4D, r, 'NHWC'),
    gradFunc: (dy: tf.Tensor) => spaceToDepth(dy, r),
  }));
  return op(x);
}

/** As an op: profiles list it as `pixelShuffle__op` (the kernels it runs are listed too). */
const pixelShuffleOp = tf.op({ pixelShuffle: pixelShuffleImpl });

/** Options of {@link PixelShuffle}. */
export interface PixelShuffleArgs extends BaseLayerArgs {
  /**
   * Upscale factor.
   * @defaultValue 2
   */
  scale?: number;
}

/**
 * {@link pixelShuffle} as a layer (fastai's `PixelShuffle_ICNR` is a 1x1 convolution to
 * `r*r*C` channels, a ReLU, then this). Serialised as `tsfast>PixelShuffle`.
 * @example
 * ```ts
 * const features = tf.input({ shape: [8, 8, 16] });
 * // [null, 16, 16, 4]: each group of scale^2 channels becomes a 2x2 block of pixels.
 * const up = new tsf.PixelShuffle({ scale: 2 }).apply(features) as tf.SymbolicTensor;
 * ```
 */
export class PixelShuffle extends ConfigLayer {
  /** Registered class name. */
  static readonly className = 'PixelShuffle';
  /** Upscale factor. */
  readonly scale: number;

  /**
   * @param args - Scale and base layer options.
   * @throws {@link ValueError} for an unknown option or a scale that is not an integer >= 2.
   */
  constructor(args: PixelShuffleArgs = {}) {
    checkOptionKeys('PixelShuffle', args, [...BASE_LAYER_KEYS, 'scale']);
    const { scale, ...base } = args;
    super(base);
    this.scale = scale ?? 2;
    if (!(Number.isInteger(this.scale) && this.scale >= 2)) {
      throw invalidValue('scale', 'an integer >= 2', this.scale);
    }
  }

  /**
   * @param inputShape - `[N, H, W, r*r*C]`.
   * @returns `[N, H*r, W*r, C]`.
   */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = oneShape(inputShape);
    const r = this.scale;
    return [n ?? null, h == null ? null : h * r, w == null ? null : w * r, (c as number) / (r * r)];
  }

  /**
   * @param inputs - One NHWC tensor.
   * @returns The upsampled tensor.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return pixelShuffle(one(inputs), this.scale);
  }

  /** @returns `scale` and the base layer's keys. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(PixelShuffle, 'tsfast');

/** Options of {@link ResizeNearest}. */
export interface ResizeNearestArgs extends BaseLayerArgs {
  /** Output `[height, width]`. */
  size: [number, number];
}

/**
 * Nearest-neighbour resize to a fixed size (fastai's `F.interpolate(..., mode='nearest')` in
 * `UnetBlock` when an upsampled map and its skip connection differ by a pixel, and
 * `ResizeToOrig`). Serialised as `tsfast>ResizeNearest`.
 * @example
 * ```ts
 * const y = new tsf.ResizeNearest({ size: [15, 15] }).apply(x) as tf.SymbolicTensor;
 * ```
 */
export class ResizeNearest extends ConfigLayer {
  /** Registered class name. */
  static readonly className = 'ResizeNearest';
  /** Output `[height, width]`. */
  readonly size: [number, number];

  /**
   * @param args - Size and base layer options.
   * @throws {@link ValueError} for an unknown option or a bad size.
   */
  constructor(args: ResizeNearestArgs) {
    checkOptionKeys('ResizeNearest', args, [...BASE_LAYER_KEYS, 'size']);
    const { size, ...base } = args;
    super(base);
    if (
      !(Array.isArray(size) && size.length === 2 && size.every((v) => Number.isInteger(v) && v > 0))
    ) {
      throw invalidValue('size', '[height, width] of positive integers', size);
    }
    this.size = [size[0], size[1]];
  }

  /**
   * @param inputShape - `[N, H, W, C]`.
   * @returns `[N, height, width, C]`.
   */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = oneShape(inputShape);
    return [s[0] ?? null, this.size[0], this.size[1], s[3] ?? null];
  }

  /**
   * @param inputs - One NHWC tensor.
   * @returns The resized tensor.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.image.resizeNearestNeighbor(one(inputs) as tf.Tensor4D, this.size);
  }

  /** @returns `size` and the base layer's keys. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: [...this.size] };
  }
}
tf.serialization.registerClass(ResizeNearest, 'tsfast');

/**
 * fastai's `SelfAttention` (SAGAN): 1x1 projections `f = x Wq`, `g = x Wk` (C/8 channels) and
 * `h = x Wv`, attention `beta = softmax_i(f_i . g_j)` over the `L = H*W` positions, output
 * `gamma * (beta^T h) + x` with `gamma` starting at 0 (the layer starts as the identity).
 * Serialised as `tsfast>SelfAttention`.
 * @remarks Differs from fastai: no spectral normalisation of the projections.
 * @example
 * ```ts
 * const y = new tsf.SelfAttention({ name: 'sa' }).apply(x) as tf.SymbolicTensor;
 * ```
 */
export class SelfAttention extends ConfigLayer {
  /** Registered class name. */
  static readonly className = 'SelfAttention';
  private wq: tf.LayerVariable | undefined;
  private wk: tf.LayerVariable | undefined;
  private wv: tf.LayerVariable | undefined;
  private gamma: tf.LayerVariable | undefined;

  /**
   * @param args - Base layer options.
   * @throws {@link ValueError} for an unknown option.
   */
  constructor(args: BaseLayerArgs = {}) {
    checkOptionKeys('SelfAttention', args, BASE_LAYER_KEYS);
    super(args);
  }

  /**
   * Creates the projections for `C` input channels (`C >= 8`).
   * @param inputShape - `[N, H, W, C]`.
   */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const c = oneShape(inputShape)[3] as number;
    const k = Math.max(1, Math.floor(c / 8));
    const glorot = tf.initializers.glorotNormal({});
    this.wq = this.addWeight('query/kernel', [c, k], 'float32', glorot);
    this.wk = this.addWeight('key/kernel', [c, k], 'float32', glorot);
    this.wv = this.addWeight('value/kernel', [c, c], 'float32', glorot);
    this.gamma = this.addWeight('gamma', [1], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  /**
   * @param inputs - One NHWC tensor.
   * @returns The attended tensor, same shape.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [n, h, w, c] = x.shape as [number, number, number, number];
      const flat = x.reshape([n * h * w, c]);
      const proj = (v: tf.LayerVariable, k: number) =>
        flat.matMul(v.read()).reshape([n, h * w, k]) as tf.Tensor3D;
      const f = proj(this.wq!, this.wq!.shape[1] as number);
      const g = proj(this.wk!, this.wk!.shape[1] as number);
      const hv = proj(this.wv!, c);
      // betaT[j, i] = softmax over i of f_i . g_j (softmax on the last axis only, in tfjs).
      const betaT = tf.softmax(tf.matMul(g, f, false, true));
      const o = tf.matMul(betaT, hv).reshape([n, h, w, c]);
      return o.mul(this.gamma!.read()).add(x);
    });
  }

  /** @returns The base layer's keys. */
  override getConfig(): tf.serialization.ConfigDict {
    return super.getConfig();
  }
}
tf.serialization.registerClass(SelfAttention, 'tsfast');
