/**
 * The second executor of the batch augmentation, for the CPU engines (wasm, cpu): the same
 * per-image draws and matrices as the tensor path ({@link AffineAugment.plan},
 * {@link LightingAugment.plan}), run as one fused JavaScript pass per image from the decoded
 * bytes (resampling, lighting, `Normalize`, float conversion). On wasm the gather-based tensor
 * sampler is an order of magnitude slower (its GatherV2 and broadcast integer Add have no SIMD
 * path); on tfjs-node(-gpu) the tensor path runs.
 */
import * as tf from '@tensorflow/tfjs';
import type { AugExecutorChoice } from '../../data/blocks.js';
import { Normalize } from '../../data/normalize.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import type { RGBImage } from '../image/decode.js';
import { AffineAugment, LightingAugment, type LightingPlan } from './aug-transforms.js';
import { LOGIT_EPS, logit } from './lighting.js';
import type { Mat3 } from './matrices.js';

/**
 * Whether `executor` means the fused CPU pass on the active backend (`'auto'`: on wasm and cpu).
 * @param executor - The requested executor.
 * @returns True for the CPU pass.
 * @example
 * ```ts
 * tsf.useCpuExecutor('auto'); // true on wasm
 * ```
 */
export function useCpuExecutor(executor: AugExecutorChoice): boolean {
  if (executor === 'auto') {
    const b = tf.getBackend();
    return b === 'wasm' || b === 'cpu';
  }
  return executor === 'cpu';
}

/**
 * Collates 8-bit images and applies the batch transforms in one pass per image, when every
 * transform is one this executor knows (`AffineAugment`, `LightingAugment`, `Normalize`, in
 * that order, each at most once) and all images have one size.
 *
 * @param images - Decoded images of one batch.
 * @param tfms - The batch transforms, sorted by `order`.
 * @param ctx - Training flag and the batch generator (drawn exactly as the tensor path draws).
 * @returns The batch `[N, H, W, 3]` float32 (the caller disposes it), or `undefined` when the
 *   transforms or sizes need the general path.
 * @example
 * ```ts
 * const xs = tsf.cpuAugmentBatch(images, tsf.augTransforms({ size: 224 }), { training: true, rng });
 * ```
 */
export function cpuAugmentBatch(
  images: readonly RGBImage[],
  tfms: readonly BatchTransform[],
  ctx: BatchTransformContext,
): tf.Tensor4D | undefined {
  if (images.length === 0) return undefined;
  const { width, height } = images[0]!;
  if (images.some((im) => im.width !== width || im.height !== height)) return undefined;
  const kinds = [AffineAugment, LightingAugment, Normalize];
  let last = -1;
  for (const t of tfms) {
    const k = kinds.findIndex((K) => t instanceof K);
    if (k <= last) return undefined;
    last = k;
  }
  const affine = tfms.find((t): t is AffineAugment => t instanceof AffineAugment);
  const light = tfms.find((t): t is LightingAugment => t instanceof LightingAugment);
  const norm = tfms.find((t): t is Normalize => t instanceof Normalize);
  const n = images.length;
  const aplan = affine?.plan(n, width, height, ctx);
  const lplan = light?.plan(n, ctx);
  const outH = aplan?.outHeight ?? height;
  const outW = aplan?.outWidth ?? width;
  const padMode = affine?.settings.padMode ?? 'reflection';
  const per = outH * outW * 3;
  const out = new Float32Array(n * per);
  const mean = norm ? norm.stats.mean : [0, 0, 0];
  const std = norm ? norm.stats.std : [1, 1, 1];
  for (let b = 0; b < n; b++) {
    const dst = out.subarray(b * per, (b + 1) * per);
    const img = images[b]!;
    const tone = toneCurves(lplan, b, mean, std);
    if (!aplan) {
      // A plain loop: Float32Array.set from a Uint8Array takes V8's slow generic path.
      const src = img.data;
      for (let i = 0; i < per; i++) dst[i] = src[i]!;
      toneInPlace(tone, dst);
    } else if (padMode === 'zeros') {
      resampleZeros(img, aplan.matrices[b]!, outH, outW, dst);
      toneInPlace(tone, dst);
    } else if (!copyIfAxisAligned(img, aplan.matrices[b]!, outH, outW, tone, dst)) {
      resampleClamped(img, aplan.matrices[b]!, outH, outW, padMode === 'reflection', tone, dst);
    }
  }
  return tf.tensor4d(out, [n, outH, outW, 3]);
}

/**
 * Per-channel map from an interpolated byte value (0..255, fractional) to the final value:
 * lighting in logit space (when drawn) then `Normalize`. Tables at 1/16 of a byte step with
 * linear interpolation: exact at whole byte values (what an unmoved pixel holds), within
 * 1e-3 between them even where the logit is steepest (next to 0 and 255).
 */
interface ToneCurve {
  /** Scale and shift per channel when there is no lighting: `v * scale + shift`. */
  readonly scale: Float64Array;
  readonly shift: Float64Array;
  /** With lighting: tables per channel, `(f(k / 16) - mean) / std`. */
  readonly tables: Float32Array[] | undefined;
}

const STEPS = 16;
const TABLE_SIZE = 255 * STEPS + 2;

function toneCurves(
  plan: LightingPlan | undefined,
  b: number,
  mean: readonly number[],
  std: readonly number[],
): ToneCurve {
  const scale = Float64Array.from(std, (s) => 1 / (255 * s));
  const shift = Float64Array.from(mean, (m, i) => -m / std[i]!);
  if (!plan) return { scale, shift, tables: undefined };
  const br = plan.brightness[b] ?? 0.5;
  const ct = plan.contrast[b] ?? 1;
  const lb = logit(br);
  const moved = !(br === 0.5 && ct === 1);
  const { q, logitQ } = tableInputs();
  const [m0, m1, m2] = mean as [number, number, number];
  const [d0, d1, d2] = std as [number, number, number];
  const t0 = new Float32Array(TABLE_SIZE);
  const t1 = new Float32Array(TABLE_SIZE);
  const t2 = new Float32Array(TABLE_SIZE);
  for (let k = 0; k < TABLE_SIZE; k++) {
    const f = moved ? 1 / (1 + Math.exp(-(logitQ[k]! + lb) * ct)) : q[k]!;
    t0[k] = (f - m0) / d0;
    t1[k] = (f - m1) / d1;
    t2[k] = (f - m2) / d2;
  }
  return { scale, shift, tables: [t0, t1, t2] };
}

let tableInputsCache: { q: Float64Array; logitQ: Float64Array } | undefined;

/** The clipped value in [0, 1] of each table entry and its logit (the same for every image). */
function tableInputs(): { q: Float64Array; logitQ: Float64Array } {
  if (tableInputsCache) return tableInputsCache;
  const q = new Float64Array(TABLE_SIZE);
  const logitQ = new Float64Array(TABLE_SIZE);
  for (let k = 0; k < TABLE_SIZE; k++) {
    const v = Math.min(Math.max(Math.min(k / STEPS, 255) / 255, LOGIT_EPS), 1 - LOGIT_EPS);
    q[k] = v;
    logitQ[k] = Math.log(v / (1 - v));
  }
  tableInputsCache = { q, logitQ };
  return tableInputsCache;
}

function toneInPlace(tone: ToneCurve, dst: Float32Array): void {
  const n = dst.length;
  const tables = tone.tables;
  if (tables === undefined) {
    const [s0, s1, s2] = tone.scale as unknown as [number, number, number];
    const [h0, h1, h2] = tone.shift as unknown as [number, number, number];
    for (let i = 0; i < n; i += 3) {
      dst[i] = dst[i]! * s0 + h0;
      dst[i + 1] = dst[i + 1]! * s1 + h1;
      dst[i + 2] = dst[i + 2]! * s2 + h2;
    }
    return;
  }
  for (let ch = 0; ch < 3; ch++) {
    const tab = tables[ch]!;
    for (let i = ch; i < n; i += 3) {
      const t = dst[i]! * STEPS;
      const k = t | 0;
      const lo = tab[k]!;
      dst[i] = lo + (t - k) * (tab[k + 1]! - lo);
    }
  }
}

function reflectCoord(p: number, span: number): number {
  if (span === 0) return 0;
  return span - Math.abs((Math.abs(p) % (2 * span)) - span);
}

const NO_TABLE = new Float32Array(2);

/**
 * The identity or a horizontal flip at the same size (the images that drew no rotation, zoom,
 * warp or crop: a quarter of them with fastai's `pAffine: 0.75`) samples every pixel exactly at
 * a source pixel: copy it (mirrored) through the tone curve instead of interpolating.
 * @returns False when the matrix is anything else.
 */
function copyIfAxisAligned(
  img: RGBImage,
  m: Mat3,
  outH: number,
  outW: number,
  tone: ToneCurve,
  dst: Float32Array,
): boolean {
  const { data, width: w, height: h } = img;
  const plain =
    outW === w &&
    outH === h &&
    (m[0] === 1 || m[0] === -1) &&
    m[1] === 0 &&
    m[2] === 0 &&
    m[3] === 0 &&
    m[4] === 1 &&
    m[5] === 0 &&
    m[6] === 0 &&
    m[7] === 0 &&
    m[8] === 1;
  if (!plain) return false;
  const flip = m[0] === -1;
  const tables = tone.tables;
  const t0 = tables?.[0] ?? NO_TABLE;
  const t1 = tables?.[1] ?? NO_TABLE;
  const t2 = tables?.[2] ?? NO_TABLE;
  const [s0, s1, s2] = tone.scale as unknown as [number, number, number];
  const [h0, h1, h2] = tone.shift as unknown as [number, number, number];
  let o = 0;
  for (let i = 0; i < h; i++) {
    const row = i * w;
    for (let j = 0; j < w; j++, o += 3) {
      const k = (row + (flip ? w - 1 - j : j)) * 3;
      if (tables !== undefined) {
        dst[o] = t0[data[k]! * STEPS]!;
        dst[o + 1] = t1[data[k + 1]! * STEPS]!;
        dst[o + 2] = t2[data[k + 2]! * STEPS]!;
      } else {
        dst[o] = data[k]! * s0 + h0;
        dst[o + 1] = data[k + 1]! * s1 + h1;
        dst[o + 2] = data[k + 2]! * s2 + h2;
      }
    }
  }
  return true;
}

/**
 * Bilinear resampling with reflection or border padding, with the tone curve applied as each
 * pixel is written (one pass over the output). Most output pixels sample strictly inside the
 * image and take the branch-free path; the others are reflected or clamped first.
 */
function resampleClamped(
  img: RGBImage,
  m: Mat3,
  outH: number,
  outW: number,
  reflect: boolean,
  tone: ToneCurve,
  dst: Float32Array,
): void {
  const { data, width: w, height: h } = img;
  const persp = m[6] !== 0 || m[7] !== 0 || m[8] !== 1;
  const sx = (w - 1) / 2;
  const sy = (h - 1) / 2;
  const spanX = w - 1;
  const spanY = h - 1;
  const du = outW > 1 ? 2 / (outW - 1) : 0;
  const dv = outH > 1 ? 2 / (outH - 1) : 0;
  const u0 = outW > 1 ? -1 : 0;
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = m;
  const tables = tone.tables;
  const lit = tables !== undefined;
  const t0 = tables?.[0] ?? NO_TABLE;
  const t1 = tables?.[1] ?? NO_TABLE;
  const t2 = tables?.[2] ?? NO_TABLE;
  const s0 = tone.scale[0]!;
  const s1 = tone.scale[1]!;
  const s2 = tone.scale[2]!;
  const h0 = tone.shift[0]!;
  const h1 = tone.shift[1]!;
  const h2 = tone.shift[2]!;
  let o = 0;
  for (let i = 0; i < outH; i++) {
    const v = outH > 1 ? -1 + i * dv : 0;
    const bx = a1 * v + a2;
    const by = a4 * v + a5;
    const bz = a7 * v + a8;
    for (let j = 0; j < outW; j++, o += 3) {
      const u = u0 + j * du;
      let X = a0 * u + bx;
      let Y = a3 * u + by;
      if (persp) {
        const Z = a6 * u + bz;
        X /= Z;
        Y /= Z;
      }
      let px = (X + 1) * sx;
      let py = (Y + 1) * sy;
      let x1: number;
      let y1: number;
      if (px >= 0 && px < spanX && py >= 0 && py < spanY) {
        x1 = (px | 0) + 1;
        y1 = (py | 0) + 1;
      } else {
        if (reflect) {
          if (px < 0 || px > spanX) px = reflectCoord(px, spanX);
          if (py < 0 || py > spanY) py = reflectCoord(py, spanY);
        }
        px = Math.min(Math.max(px, 0), spanX);
        py = Math.min(Math.max(py, 0), spanY);
        x1 = (px | 0) < spanX ? (px | 0) + 1 : spanX;
        y1 = (py | 0) < spanY ? (py | 0) + 1 : spanY;
      }
      const x0 = px | 0;
      const y0 = py | 0;
      const fx = px - x0;
      const fy = py - y0;
      const w00 = (1 - fy) * (1 - fx);
      const w01 = (1 - fy) * fx;
      const w10 = fy * (1 - fx);
      const w11 = fy * fx;
      const a = (y0 * w + x0) * 3;
      const b = (y0 * w + x1) * 3;
      const c = (y1 * w + x0) * 3;
      const d = (y1 * w + x1) * 3;
      const r = w00 * data[a]! + w01 * data[b]! + w10 * data[c]! + w11 * data[d]!;
      const g = w00 * data[a + 1]! + w01 * data[b + 1]! + w10 * data[c + 1]! + w11 * data[d + 1]!;
      const bl = w00 * data[a + 2]! + w01 * data[b + 2]! + w10 * data[c + 2]! + w11 * data[d + 2]!;
      if (lit) {
        const tr = r * STEPS;
        const kr = tr | 0;
        const lr = t0[kr]!;
        dst[o] = lr + (tr - kr) * (t0[kr + 1]! - lr);
        const tg = g * STEPS;
        const kg = tg | 0;
        const lg = t1[kg]!;
        dst[o + 1] = lg + (tg - kg) * (t1[kg + 1]! - lg);
        const tb = bl * STEPS;
        const kb = tb | 0;
        const lb = t2[kb]!;
        dst[o + 2] = lb + (tb - kb) * (t2[kb + 1]! - lb);
      } else {
        dst[o] = r * s0 + h0;
        dst[o + 1] = g * s1 + h1;
        dst[o + 2] = bl * s2 + h2;
      }
    }
  }
}

/** Bilinear resampling with zeros outside the image; writes byte-scale values. */
function resampleZeros(
  img: RGBImage,
  m: Mat3,
  outH: number,
  outW: number,
  dst: Float32Array,
): void {
  const { data, width: w, height: h } = img;
  const persp = m[6] !== 0 || m[7] !== 0 || m[8] !== 1;
  const sx = (w - 1) / 2;
  const sy = (h - 1) / 2;
  let o = 0;
  for (let i = 0; i < outH; i++) {
    const v = outH > 1 ? -1 + (2 * i) / (outH - 1) : 0;
    for (let j = 0; j < outW; j++, o += 3) {
      const u = outW > 1 ? -1 + (2 * j) / (outW - 1) : 0;
      let X = m[0] * u + m[1] * v + m[2];
      let Y = m[3] * u + m[4] * v + m[5];
      if (persp) {
        const Z = m[6] * u + m[7] * v + m[8];
        X /= Z;
        Y /= Z;
      }
      const px = (X + 1) * sx;
      const py = (Y + 1) * sy;
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const fx = px - x0;
      const fy = py - y0;
      const taps: [number, number, number][] = [
        [x0, y0, (1 - fy) * (1 - fx)],
        [x0 + 1, y0, (1 - fy) * fx],
        [x0, y0 + 1, fy * (1 - fx)],
        [x0 + 1, y0 + 1, fy * fx],
      ];
      let r = 0;
      let g = 0;
      let bl = 0;
      for (const [x, y, wt] of taps) {
        if (x < 0 || x >= w || y < 0 || y >= h) continue;
        const k = (y * w + x) * 3;
        r += wt * data[k]!;
        g += wt * data[k + 1]!;
        bl += wt * data[k + 2]!;
      }
      dst[o] = r;
      dst[o + 1] = g;
      dst[o + 2] = bl;
    }
  }
}
