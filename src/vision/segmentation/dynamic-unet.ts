/**
 * fastai's `DynamicUnet`: a U-Net decoder grown on any convolutional body. A dummy forward pass
 * finds where the body's resolution drops; the activation just before each drop is a skip
 * connection, and one `UnetBlock` per skip upsamples (PixelShuffle with ICNR initialisation),
 * concatenates the batch-normalised skip and convolves.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, invalidValue, ValueError } from '../../core/errors.js';
import { randomFor } from '../../core/random.js';
import { BatchNorm } from '../models/batch-norm.js';
import { kaimingInit } from '../models/init.js';
import { PixelShuffle, ResizeNearest, SelfAttention } from './unet-layers.js';

/** Options of {@link dynamicUnet}. */
export interface DynamicUnetOptions {
  /**
   * Add self-attention in the third block from the end (fastai's `self_attention`).
   * @defaultValue false
   */
  selfAttention?: boolean;
  /**
   * Concatenate the input to the last feature map and add a residual block (fastai's
   * `last_cross`).
   * @defaultValue true
   */
  lastCross?: boolean;
  /**
   * Halve the channels in that residual block (fastai's `bottle`).
   * @defaultValue false
   */
  bottle?: boolean;
  /**
   * Seed of the decoder's initialisation. Defaults to a fork of the global generator.
   * @defaultValue undefined
   */
  seed?: number;
}

/** A U-Net: the model and what the learner splits and freezes. */
export interface DynamicUnet {
  /** Input (the body's) to per-pixel logits `[N, H, W, nOut]`. */
  readonly model: tf.LayersModel;
  /** The decoder's layers (the learner's last parameter group). */
  readonly decoderLayers: readonly tf.layers.Layer[];
  /** The skip connections, shallowest first. */
  readonly skips: readonly UnetSkip[];
}

/** A skip connection of a {@link DynamicUnet}. */
export interface UnetSkip {
  /** Name of the body layer whose output it is. */
  readonly layer: string;
  /** Its `[height, width, channels]` at the U-Net's input size. */
  readonly shape: readonly number[];
}

interface LayerInfo {
  readonly layer: tf.layers.Layer;
  readonly shape: readonly number[];
  /** Everything before this layer reaches the rest of the body only through it. */
  readonly cut: boolean;
}

/**
 * Runs the body once on zeros and reads every layer's output shape: for each layer that has
 * one output of rank 4, its `[h, w, c]`, and whether the graph passes only through it there.
 */
function probeBody(body: tf.LayersModel, h: number, w: number): LayerInfo[] {
  const layers = body.layers.filter(
    (l) => l.getClassName() !== 'InputLayer' && l.inboundNodes.length === 1,
  );
  const outputs = layers.map((l) => l.output as tf.SymbolicTensor);
  const probe = tf.model({ inputs: body.inputs, outputs });
  const shapes = tf.tidy(() => {
    const out = probe.predict(tf.zeros([1, h, w, body.inputs[0]!.shape[3] ?? 3]));
    return (Array.isArray(out) ? out : [out]).map((t) => t.shape.slice(1));
  });
  const index = new Map(body.layers.map((l, i) => [l, i]));
  const lastUse = body.layers.map((l, i) =>
    Math.max(i, ...l.outboundNodes.map((n) => index.get(n.outboundLayer) ?? i)),
  );
  const reach: number[] = [];
  let m = -1;
  for (let i = 0; i < body.layers.length; i++) {
    reach.push(m);
    m = Math.max(m, lastUse[i]!);
  }
  return layers.map((layer, k) => {
    const i = index.get(layer)!;
    return { layer, shape: shapes[k]!, cut: reach[i]! <= i };
  });
}

/**
 * The skip connections: walking the body in order, each time the resolution drops below the
 * current stage's, one activation of that stage through which the whole graph passes. fastai
 * hooks the output of the last block (child module) before each size change; a flat graph has
 * no blocks, so the stage's last run of consecutive such layers stands for its last block and
 * its last layer is taken, unless the run ends with a convolution that widens the map (an
 * inverted-residual expansion opening the next block), whose input is taken instead: a ResNet
 * block's output, a MobileNetV2 block's projection rather than the next block's expansion. Padding layers that
 * grow the map belong to no stage, and the input's resolution counts only when a layer works
 * at it.
 */
function findSkips(infos: readonly LayerInfo[], inputSize: readonly number[]): LayerInfo[] {
  const skips: LayerInfo[] = [];
  let stage = inputSize;
  let run: LayerInfo[] = [];
  let gap = false;
  const endOfBlock = (): LayerInfo | undefined => {
    let k = run.length - 1;
    while (k >= 0 && run[k]!.layer.getClassName() !== 'Conv2D') k--;
    // An expanding convolution ending the stage opens the next block: take its input.
    if (k > 0 && run[k]!.shape[2]! > run[k - 1]!.shape[2]!) return run[k - 1];
    return run.at(-1);
  };
  for (const info of infos) {
    if (info.shape.length !== 3) continue;
    const [h, w] = info.shape as [number, number];
    if (h < stage[0]! || w < stage[1]!) {
      const skip = endOfBlock();
      if (skip) skips.push(skip);
      stage = info.shape;
      run = [];
      gap = false;
    }
    if (h !== stage[0] || w !== stage[1]) continue;
    if (!info.cut) gap = true;
    else if (gap) {
      run = [info];
      gap = false;
    } else run.push(info);
  }
  return skips;
}

/**
 * Builds fastai's `DynamicUnet` on `body` (a model whose input has a fixed `[h, w, c]`): the
 * body, BatchNorm and ReLU, a middle block of two 3x3 convolutions (`ni -> 2 ni -> ni`), then
 * for each skip connection (deepest first) a `UnetBlock`: a 1x1 convolution to four times half
 * the channels, ReLU and PixelShuffle (ICNR initialised: the four sub-pixels start equal, so no
 * checkerboard), a nearest resize when the sizes differ by a pixel, concatenation with the
 * BatchNorm-ed skip, ReLU and two 3x3 convolutions with ReLU (the third block from the end adds
 * self-attention when asked). When the shallowest skip is not at the input's resolution, one
 * more PixelShuffle upsampling, a resize to the input size, and with `lastCross` the input
 * concatenated and a residual block; last, a 1x1 convolution to `nOut` logits. Decoder
 * convolutions are kaiming-normal initialised with zero biases (no BatchNorm inside the
 * decoder, as fastai's default `norm_type=None`).
 *
 * @param body - The encoder, input shape fully known (e.g. `[128, 128, 3]`).
 * @param nOut - Classes per pixel.
 * @param options - Self-attention, last cross, bottle, seed.
 * @returns The model, the decoder layers and the skips found.
 * @throws {@link ValueError} when the body's input size is not fixed or nothing downsamples.
 * @remarks Differs from fastai: the decoder convolutions have no weight normalisation and the
 *   self-attention no spectral normalisation; the model is one flat tfjs functional model.
 * @example
 * ```ts
 * const full = await tsf.mobilenetV2({ alpha: 0.35 }).body({ inputShape: [128, 128, 3] });
 * const unet = tsf.dynamicUnet(tsf.cutModel(full, 'out_relu'), 3);
 * ```
 */
export function dynamicUnet(
  body: tf.LayersModel,
  nOut: number,
  options: DynamicUnetOptions = {},
): DynamicUnet {
  checkOptionKeys('dynamicUnet', options, ['selfAttention', 'lastCross', 'bottle', 'seed']);
  if (!Number.isInteger(nOut) || nOut < 1) throw invalidValue('nOut', 'a positive integer', nOut);
  const inShape = body.inputs[0]!.shape;
  const [, ih, iw, ic] = inShape as [null, number | null, number | null, number | null];
  if (ih == null || iw == null || ic == null) {
    throw new ValueError(
      `dynamicUnet: the body's input shape [${inShape.slice(1).join(', ')}] is not fixed; build ` +
        'it with `inputShape: [height, width, channels]` (the U-Net is sized from a dummy pass).',
    );
  }
  const rng = randomFor(options.seed);
  const skips = findSkips(probeBody(body, ih, iw), [ih, iw]);
  if (skips.length === 0) {
    throw new ValueError(`dynamicUnet: body "${body.name}" never lowers the resolution.`);
  }
  const decoder: tf.layers.Layer[] = [];
  const kaiming: tf.layers.Layer[] = [];
  const icnr: tf.layers.Layer[] = [];
  const ap = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => {
    decoder.push(layer);
    return layer.apply(x) as tf.SymbolicTensor;
  };
  const conv = (name: string, filters: number, kernel: number, x: tf.SymbolicTensor) => {
    const layer = tf.layers.conv2d({
      name,
      filters,
      kernelSize: kernel,
      padding: 'same',
      kernelInitializer: 'zeros',
    });
    kaiming.push(layer);
    return ap(layer, x);
  };
  const relu = (name: string, x: tf.SymbolicTensor) => ap(tf.layers.reLU({ name }), x);
  const convRelu = (name: string, filters: number, kernel: number, x: tf.SymbolicTensor) =>
    relu(`${name}.relu`, conv(name, filters, kernel, x));
  const bn = (name: string, x: tf.SymbolicTensor) =>
    ap(new BatchNorm({ name, epsilon: 1e-5, momentum: 0.9 }), x);
  const resizeTo = (name: string, x: tf.SymbolicTensor, h: number, w: number) =>
    x.shape[1] === h && x.shape[2] === w ? x : ap(new ResizeNearest({ name, size: [h, w] }), x);
  const shuffleUp = (name: string, nf: number, x: tf.SymbolicTensor) => {
    const layer = tf.layers.conv2d({
      name: `${name}.conv`,
      filters: nf * 4,
      kernelSize: 1,
      kernelInitializer: 'zeros',
    });
    icnr.push(layer);
    const y = relu(`${name}.relu`, ap(layer, x));
    return ap(new PixelShuffle({ name: `${name}.shuffle`, scale: 2 }), y);
  };

  const features = body.outputs[0]!;
  const ni = features.shape[3] as number;
  let x = relu('unet.relu', bn('unet.bn', features));
  x = convRelu('unet.middle.conv0', ni * 2, 3, x);
  x = convRelu('unet.middle.conv1', ni, 3, x);
  const order = [...skips].reverse();
  order.forEach((skip, i) => {
    const notFinal = i !== order.length - 1;
    const p = `unet.block${i}`;
    const upIn = x.shape[3] as number;
    const [sh, sw, xIn] = skip.shape as [number, number, number];
    let up = shuffleUp(`${p}.shuf`, Math.floor(upIn / 2), x);
    up = resizeTo(`${p}.resize`, up, sh, sw);
    const s = bn(`${p}.bn`, skip.layer.output as tf.SymbolicTensor);
    const cat = relu(`${p}.relu`, ap(tf.layers.concatenate({ name: `${p}.concat` }), [up, s]));
    const nIn = Math.floor(upIn / 2) + xIn;
    const nf = notFinal ? nIn : Math.floor(nIn / 2);
    x = convRelu(`${p}.conv1`, nf, 3, cat);
    x = convRelu(`${p}.conv2`, nf, 3, x);
    if ((options.selfAttention ?? false) && i === order.length - 3) {
      x = ap(new SelfAttention({ name: `${p}.attention` }), x);
    }
  });
  let n = x.shape[3] as number;
  if (x.shape[1] !== ih || x.shape[2] !== iw) {
    x = shuffleUp('unet.final_shuf', n, x);
    x = resizeTo('unet.resize_to_orig', x, ih, iw);
  }
  if (options.lastCross ?? true) {
    x = ap(tf.layers.concatenate({ name: 'unet.merge' }), [x, body.inputs[0]!]);
    n += ic;
    const nf = options.bottle ? Math.floor(n / 2) : n;
    const r = convRelu('unet.res.conv0', nf, 3, x);
    const r2 = conv('unet.res.conv1', n, 3, r);
    x = relu('unet.res.relu', ap(tf.layers.add({ name: 'unet.res.add' }), [r2, x]));
  }
  x = conv('unet.final_conv', nOut, 1, x);
  const model = tf.model({ inputs: body.inputs, outputs: x, name: `${body.name}_unet` });
  kaimingInit(kaiming, rng, { mode: 'fanIn' });
  for (const layer of icnr) icnrInit(layer, rng);
  return {
    model,
    decoderLayers: decoder,
    skips: skips.map((s) => ({ layer: s.layer.name, shape: [...s.shape] })),
  };
}

/**
 * fastai's `icnr_init` for a convolution followed by a PixelShuffle of scale 2: a kaiming-normal
 * kernel for a quarter of the outputs, repeated for the four sub-pixels (in DepthToSpace order,
 * output channel `s * C + c` gets kernel `c`), so the upsampled map starts as a nearest-neighbour
 * upsampling with no checkerboard; zero bias.
 */
function icnrInit(layer: tf.layers.Layer, rng: ReturnType<typeof randomFor>): void {
  const [kernel, bias] = layer.weights;
  const [kh, kw, cin, cout] = kernel!.shape as [number, number, number, number];
  const std = Math.sqrt(2 / (kh * kw * cin));
  const values = tf.tidy(() => {
    const base = tf.randomNormal([kh, kw, cin, cout / 4], 0, std, 'float32', rng.tensorSeed());
    return [tf.tile(base, [1, 1, 1, 4]), tf.zeros(bias!.shape as number[])];
  });
  layer.setWeights(values);
  tf.dispose(values);
}
