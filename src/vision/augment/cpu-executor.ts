/**
 * The second executor of the batch augmentation, for the CPU engines (wasm, cpu): the same
 * per-image draws and matrices as the tensor path ({@link AffineAugment.plan},
 * {@link LightingAugment.plan}), run as one fused JavaScript pass per image from the decoded
 * bytes (resampling, lighting, `Normalize`, float conversion). On wasm the gather-based tensor
 * sampler is an order of magnitude slower (its GatherV2 and broadcast integer Add have no SIMD
 * path); on tfjs-node(-gpu) the tensor path runs.
 */
import * as tf from '@tensorflow/tfjs';
import { engineAccelerations, writableFloat32Tensor } from '../../backend/index.js';
import type { AugExecutorChoice } from '../../data/blocks.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import type { RGBImage } from '../image/decode.js';
import { type CroppedImage, isCroppedImage } from '../image/fused-crop.js';
import type { LightingPlan } from './aug-transforms.js';
import {
  type CpuAffineStep,
  type CpuLightingStep,
  type CpuNormalizeStep,
  cpuStepOf,
  cpuStepRefusal,
} from './cpu-step.js';
import { LOGIT_EPS, logit } from './lighting.js';
import { IDENTITY, type Mat3, matMul3 } from './matrices.js';

/**
 * Whether `executor` means the fused CPU pass on the active backend (`'auto'`: on wasm and cpu).
 * @param executor - The requested executor.
 * @returns True for the CPU pass.
 * @example
 * ```ts
 * useCpuExecutor('auto'); // true on wasm
 * ```
 */
export function useCpuExecutor(executor: AugExecutorChoice): boolean {
  return executor === 'auto' ? engineAccelerations().cpuAugmentation : executor === 'cpu';
}

/**
 * Whether the fused pass runs these batch transforms: each declares a {@link CpuStep}
 * (`AffineAugment`, `LightingAugment`, `Normalize`, or a custom transform that gives one), and
 * the stages come in order (geometry, lighting, normalize), each at most once.
 *
 * @param tfms - The batch transforms, sorted by `order`.
 * @returns True when {@link cpuAugmentBatch} takes them.
 * @example
 * ```ts
 * cpuExecutorAccepts(tsf.augTransforms()); // true
 * ```
 */
export function cpuExecutorAccepts(tfms: readonly BatchTransform[]): boolean {
  return cpuStepRefusal(tfms) === undefined;
}

const noticed = new Set<string>();

/**
 * Tells the user, once per transform name and process, that a batch transform keeps its
 * pipeline's batches on the tensor path although the engine runs them much faster in the
 * fused CPU pass. Silent when the executor is `'tensor'` or the engine has no fused pass.
 * @param tfms - The batch transforms, sorted by `order`.
 * @param executor - The executor requested.
 * @param warn - Where the notice goes.
 * @returns The transform named, or `undefined` when nothing was said.
 * @internal
 */
export function noticeTensorFallback(
  tfms: readonly BatchTransform[],
  executor: AugExecutorChoice,
  warn: (line: string) => void = (line) => console.warn(line),
): BatchTransform | undefined {
  if (!useCpuExecutor(executor)) return undefined;
  const refused = cpuStepRefusal(tfms);
  if (refused === undefined || noticed.has(refused.name)) return undefined;
  noticed.add(refused.name);
  const declared = cpuStepOf(refused) !== undefined;
  warn(
    `tsfast: batch transform ${refused.name} ${declared ? 'repeats a stage of the fused CPU augmentation (geometry, lighting, normalize: each once, in that order)' : 'declares no cpuStep'}, so every batch of its pipeline runs as tensor ops, ` +
      `which are several times slower on the ${tf.getBackend()} backend. Give it a cpuStep (see CpuExecutableTransform), or pass augExecutor: 'tensor' to the dataloaders to choose the tensor path and silence this.`,
  );
  return refused;
}

/** The size an image has in the batch: its crop's output size when it still carries one. */
function batchSize(image: RGBImage): { width: number; height: number } {
  return isCroppedImage(image) ? image.crop : image;
}

/**
 * Collates 8-bit images and applies the batch transforms in one pass per image, when every
 * transform is one this executor knows (see {@link cpuExecutorAccepts}) and all images have one
 * size. Images that still carry their item transform's crop ({@link CroppedImage}) are sampled
 * straight from the decoded photo: the crop is folded into the image's matrix, so padding
 * (reflection, border, zeros) starts at the photo's edges rather than the crop's.
 *
 * @param images - Decoded images of one batch.
 * @param tfms - The batch transforms, sorted by `order`.
 * @param ctx - Training flag and the batch generator (drawn exactly as the tensor path draws).
 * @returns The batch `[N, H, W, 3]` float32 (the caller disposes it), or `undefined` when the
 *   transforms or sizes need the general path.
 * @example
 * ```ts
 * const images = [await tsf.decodeImage('cat.jpg'), await tsf.decodeImage('cat.jpg')];
 * const xs = cpuAugmentBatch(images, tsf.augTransforms({ size: 8 }), { training: true, rng });
 * xs?.dispose(); // undefined when the CPU executor cannot run these transforms
 * ```
 */
export function cpuAugmentBatch(
  images: readonly RGBImage[],
  tfms: readonly BatchTransform[],
  ctx: BatchTransformContext,
): tf.Tensor4D | undefined {
  if (images.length === 0 || !cpuExecutorAccepts(tfms)) return undefined;
  const { width, height } = batchSize(images[0]!);
  const sizes = images.map(batchSize);
  if (sizes.some((s) => s.width !== width || s.height !== height)) return undefined;
  const steps = tfms.map(cpuStepOf);
  const affine = steps.find((s): s is CpuAffineStep => s?.stage === 'affine');
  const light = steps.find((s): s is CpuLightingStep => s?.stage === 'lighting');
  const norm = steps.find((s): s is CpuNormalizeStep => s?.stage === 'normalize');
  const n = images.length;
  const aplan = affine?.plan(n, width, height, ctx);
  const lplan = light?.plan(n, ctx);
  const outH = aplan?.outHeight ?? height;
  const outW = aplan?.outWidth ?? width;
  const padMode = affine?.padMode ?? 'reflection';
  const per = outH * outW * 3;
  const mean = norm ? norm.mean : [0, 0, 0];
  const std = norm ? norm.std : [1, 1, 1];
  const { tensor: batch, values: out } = writableFloat32Tensor([n, outH, outW, 3]);
  const tensor = batch as tf.Tensor4D;
  try {
    for (let b = 0; b < n; b++) {
      const dst = out.subarray(b * per, (b + 1) * per);
      const img = images[b]!;
      const tone = toneCurve(lplan, b, mean, std);
      if (!aplan && !isCroppedImage(img)) {
        convertBytes(img.data, tone, dst);
        continue;
      }
      const augment = aplan?.matrices[b] ?? IDENTITY;
      const m = isCroppedImage(img) ? matMul3(cropMatrix(img), augment) : augment;
      if (padMode === 'zeros') {
        resampleZeros(img, m, outH, outW, dst);
        toneInPlace(tone, dst);
      } else if (!copyIfAxisAligned(img, m, outH, outW, tone, dst)) {
        resampleClamped(img, m, outH, outW, padMode === 'reflection', tone, dst);
      }
    }
  } catch (err) {
    tensor.dispose();
    throw err;
  }
  return tensor;
}

/**
 * The map from the crop's output coordinates to the decoded image's, both in the [-1, 1]
 * corner-aligned coordinates the samplers use: output pixel `x` shows source point
 * `left + (x + 0.5) * boxWidth / outWidth - 0.5`, the pixel-centre mapping of libvips' resize.
 */
function cropMatrix(img: CroppedImage): Mat3 {
  const { box, width: tw, height: th } = img.crop;
  const { width: w, height: h } = img;
  const ax = ((tw - 1) * box.width) / (tw * (w - 1));
  const ay = ((th - 1) * box.height) / (th * (h - 1));
  const bx = ((box.left + box.width / 2 - 0.5) * 2) / (w - 1) - 1;
  const by = ((box.top + box.height / 2 - 0.5) * 2) / (h - 1) - 1;
  return [ax, 0, bx, 0, ay, by, 0, 0, 1];
}

/**
 * The map from an interpolated byte value (0..255, fractional) to the final value of each
 * channel: lighting in logit space (when drawn), then `Normalize` as `v * scale[c] + shift[c]`.
 * The lighting curve, the same for the three channels, is a table at 1/16 of a byte step read
 * with linear interpolation: exact at whole byte values (what an unmoved pixel holds), within
 * 1e-3 between them even where the logit is steepest (next to 0 and 255).
 */
interface ToneCurve {
  /** Per channel: `1 / (255 std)` without lighting, `1 / std` after the table. */
  readonly scale: readonly [number, number, number];
  /** Per channel: `-mean / std`. */
  readonly shift: readonly [number, number, number];
  /** The lighting curve in [0, 1] at byte values `k / 16`, or undefined without lighting. */
  readonly table: Float32Array | undefined;
}

const STEPS = 16;
const TABLE_SIZE = 255 * STEPS + 2;

function toneCurve(
  plan: LightingPlan | undefined,
  b: number,
  mean: readonly number[],
  std: readonly number[],
): ToneCurve {
  const [m0, m1, m2] = mean as [number, number, number];
  const [d0, d1, d2] = std as [number, number, number];
  const shift = [-m0 / d0, -m1 / d1, -m2 / d2] as const;
  const br = plan?.brightness[b] ?? 0.5;
  const ct = plan?.contrast[b] ?? 1;
  if (br === 0.5 && ct === 1) {
    return { scale: [1 / (255 * d0), 1 / (255 * d1), 1 / (255 * d2)], shift, table: undefined };
  }
  const lb = logit(br);
  const { logitQ } = tableInputs();
  const table = new Float32Array(TABLE_SIZE);
  for (let k = 0; k < TABLE_SIZE; k++) table[k] = 1 / (1 + Math.exp(-(logitQ[k]! + lb) * ct));
  return { scale: [1 / d0, 1 / d1, 1 / d2], shift, table };
}

let tableInputsCache: { logitQ: Float64Array } | undefined;

/** The logit of each table entry's clipped value in [0, 1] (the same for every image). */
function tableInputs(): { logitQ: Float64Array } {
  if (tableInputsCache) return tableInputsCache;
  const logitQ = new Float64Array(TABLE_SIZE);
  for (let k = 0; k < TABLE_SIZE; k++) {
    const v = Math.min(Math.max(Math.min(k / STEPS, 255) / 255, LOGIT_EPS), 1 - LOGIT_EPS);
    logitQ[k] = Math.log(v / (1 - v));
  }
  tableInputsCache = { logitQ };
  return tableInputsCache;
}

/** Reads the lighting table at a fractional byte value `v` (linear interpolation). */
function lookup(table: Float32Array, v: number): number {
  const t = v * STEPS;
  const k = t | 0;
  const lo = table[k]!;
  return lo + (t - k) * (table[k + 1]! - lo);
}

/** Bytes straight through the tone curve (no geometry drawn, or no `AffineAugment`). */
function convertBytes(src: Uint8Array, tone: ToneCurve, dst: Float32Array): void {
  const [s0, s1, s2] = tone.scale;
  const [h0, h1, h2] = tone.shift;
  const table = tone.table;
  const n = dst.length;
  if (table === undefined) {
    for (let i = 0; i < n; i += 3) {
      dst[i] = src[i]! * s0 + h0;
      dst[i + 1] = src[i + 1]! * s1 + h1;
      dst[i + 2] = src[i + 2]! * s2 + h2;
    }
    return;
  }
  for (let i = 0; i < n; i += 3) {
    dst[i] = table[src[i]! * STEPS]! * s0 + h0;
    dst[i + 1] = table[src[i + 1]! * STEPS]! * s1 + h1;
    dst[i + 2] = table[src[i + 2]! * STEPS]! * s2 + h2;
  }
}

/** Byte-scale values already in `dst` through the tone curve. */
function toneInPlace(tone: ToneCurve, dst: Float32Array): void {
  const [s0, s1, s2] = tone.scale;
  const [h0, h1, h2] = tone.shift;
  const table = tone.table;
  const n = dst.length;
  if (table === undefined) {
    for (let i = 0; i < n; i += 3) {
      dst[i] = dst[i]! * s0 + h0;
      dst[i + 1] = dst[i + 1]! * s1 + h1;
      dst[i + 2] = dst[i + 2]! * s2 + h2;
    }
    return;
  }
  for (let i = 0; i < n; i += 3) {
    dst[i] = lookup(table, dst[i]!) * s0 + h0;
    dst[i + 1] = lookup(table, dst[i + 1]!) * s1 + h1;
    dst[i + 2] = lookup(table, dst[i + 2]!) * s2 + h2;
  }
}

function reflectCoord(p: number, span: number): number {
  if (span === 0) return 0;
  return span - Math.abs((Math.abs(p) % (2 * span)) - span);
}

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
  if (m[0] === 1) {
    convertBytes(data, tone, dst);
    return true;
  }
  const [s0, s1, s2] = tone.scale;
  const [h0, h1, h2] = tone.shift;
  const table = tone.table;
  let o = 0;
  for (let i = 0; i < h; i++) {
    for (let k = ((i + 1) * w - 1) * 3; k >= i * w * 3; k -= 3, o += 3) {
      if (table !== undefined) {
        dst[o] = table[data[k]! * STEPS]! * s0 + h0;
        dst[o + 1] = table[data[k + 1]! * STEPS]! * s1 + h1;
        dst[o + 2] = table[data[k + 2]! * STEPS]! * s2 + h2;
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
 * pixel is written (one pass over the output). The columns of a row that sample strictly inside
 * the image (most of them under a small rotation) take a loop without the padding tests.
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
  const { width: w, height: h } = img;
  const persp = m[6] !== 0 || m[7] !== 0 || m[8] !== 1;
  const sx = (w - 1) / 2;
  const sy = (h - 1) / 2;
  const du = outW > 1 ? 2 / (outW - 1) : 0;
  const dv = outH > 1 ? 2 / (outH - 1) : 0;
  const u0 = outW > 1 ? -1 : 0;
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = m;
  for (let i = 0; i < outH; i++) {
    const v = outH > 1 ? -1 + i * dv : 0;
    const bx = a1 * v + a2;
    const by = a4 * v + a5;
    const bz = a7 * v + a8;
    const row = i * outW * 3;
    const geo = { a0, a3, a6, bx, by, bz, u0, du, sx, sy, persp };
    const [from, to] = insideColumns(geo, outW);
    if (from >= to) {
      resampleRowPadded(img, geo, 0, outW, reflect, tone, dst, row);
      continue;
    }
    resampleRowPadded(img, geo, 0, from, reflect, tone, dst, row);
    resampleRowInside(img, geo, from, to, tone, dst, row);
    resampleRowPadded(img, geo, to, outW, reflect, tone, dst, row);
  }
}

/** Distance from the image edge, in the [-1, 1] coordinates, that the inside loops keep. */
const INSIDE_MARGIN = 1e-6;

/**
 * The columns `[from, to)` of a row whose sample points lie strictly inside the image. The
 * sample point is `X = (a0 u + bx) / Z`, `Y = (a3 u + by) / Z` with `Z = a6 u + bz` (`Z = 1`
 * for an affine matrix), and it is inside when `-1 < X < 1` and `-1 < Y < 1`: with `Z > 0`
 * along the row these are four linear inequalities in the column, so the columns form one
 * interval. Both bounds keep a margin (`INSIDE_MARGIN` in X and Y, one column at each end):
 * the sampling loops compute the point by another sequence of roundings, and a point computed
 * exactly on the last row or column would read a neighbour past the image (a row at `Y` just
 * below 1 once did, through `(Y + 1) * sy` rounding to `h - 1`).
 */
function insideColumns(geo: RowGeometry, outW: number): [number, number] {
  const { a0, a3, a6, bx, by, bz, u0, du } = geo;
  const zFirst = a6 * u0 + bz;
  const zLast = a6 * (u0 + (outW - 1) * du) + bz;
  if (!(zFirst > 0 && zLast > 0)) return [0, 0];
  let lo = 0;
  let hi = outW - 1;
  // Each constraint is `k * u + c > 0` with u = u0 + j * du: X > -1 + m, X < 1 - m, and the
  // same for Y, each multiplied by Z > 0.
  const z = 1 - INSIDE_MARGIN;
  const constraints: [number, number][] = [
    [a0 + a6 * z, bx + bz * z],
    [a6 * z - a0, bz * z - bx],
    [a3 + a6 * z, by + bz * z],
    [a6 * z - a3, bz * z - by],
  ];
  for (const [k, c] of constraints) {
    const slope = k * du;
    const atFirst = k * u0 + c;
    if (slope === 0) {
      if (!(atFirst > 0)) return [0, 0];
      continue;
    }
    const root = -atFirst / slope;
    if (slope > 0) lo = Math.max(lo, root);
    else hi = Math.min(hi, root);
  }
  const from = Math.max(0, Math.ceil(lo) + 1);
  const to = Math.min(outW, Math.floor(hi));
  return [from, Math.max(from, to)];
}

/**
 * Columns `[from, to)` of one output row, all sampling strictly inside the image (no padding
 * tests). The affine and perspective loops repeat the same sampling code: a shared helper per
 * pixel, or one loop testing the matrix kind per pixel, measured 7-25 % slower.
 */
function resampleRowInside(
  img: RGBImage,
  geo: RowGeometry,
  from: number,
  to: number,
  tone: ToneCurve,
  dst: Float32Array,
  row: number,
): void {
  const { data, width: w } = img;
  const { a0, a3, a6, bx, by, bz, u0, du, sx, sy } = geo;
  const [s0, s1, s2] = tone.scale;
  const [h0, h1, h2] = tone.shift;
  const table = tone.table;
  if (geo.persp) {
    for (let j = from, o = row + 3 * from; j < to; j++, o += 3) {
      const u = u0 + j * du;
      const z = a6 * u + bz;
      const px = ((a0 * u + bx) / z + 1) * sx;
      const py = ((a3 * u + by) / z + 1) * sy;
      const x0 = px | 0;
      const y0 = py | 0;
      const fx = px - x0;
      const fy = py - y0;
      const w11 = fy * fx;
      const w10 = fy - w11;
      const w01 = fx - w11;
      const w00 = 1 - fy - w01;
      const a = (y0 * w + x0) * 3;
      const c = a + w * 3;
      const r = w00 * data[a]! + w01 * data[a + 3]! + w10 * data[c]! + w11 * data[c + 3]!;
      const g = w00 * data[a + 1]! + w01 * data[a + 4]! + w10 * data[c + 1]! + w11 * data[c + 4]!;
      const bl = w00 * data[a + 2]! + w01 * data[a + 5]! + w10 * data[c + 2]! + w11 * data[c + 5]!;
      if (table !== undefined) {
        dst[o] = lookup(table, r) * s0 + h0;
        dst[o + 1] = lookup(table, g) * s1 + h1;
        dst[o + 2] = lookup(table, bl) * s2 + h2;
      } else {
        dst[o] = r * s0 + h0;
        dst[o + 1] = g * s1 + h1;
        dst[o + 2] = bl * s2 + h2;
      }
    }
    return;
  }
  // Affine: the sample point moves by a constant step along the row.
  const px0 = (a0 * u0 + bx + 1) * sx;
  const py0 = (a3 * u0 + by + 1) * sy;
  const stepX = a0 * du * sx;
  const stepY = a3 * du * sy;
  for (let j = from, o = row + 3 * from; j < to; j++, o += 3) {
    const px = px0 + j * stepX;
    const py = py0 + j * stepY;
    const x0 = px | 0;
    const y0 = py | 0;
    const fx = px - x0;
    const fy = py - y0;
    const w11 = fy * fx;
    const w10 = fy - w11;
    const w01 = fx - w11;
    const w00 = 1 - fy - w01;
    const a = (y0 * w + x0) * 3;
    const c = a + w * 3;
    const r = w00 * data[a]! + w01 * data[a + 3]! + w10 * data[c]! + w11 * data[c + 3]!;
    const g = w00 * data[a + 1]! + w01 * data[a + 4]! + w10 * data[c + 1]! + w11 * data[c + 4]!;
    const bl = w00 * data[a + 2]! + w01 * data[a + 5]! + w10 * data[c + 2]! + w11 * data[c + 5]!;
    if (table !== undefined) {
      dst[o] = lookup(table, r) * s0 + h0;
      dst[o + 1] = lookup(table, g) * s1 + h1;
      dst[o + 2] = lookup(table, bl) * s2 + h2;
    } else {
      dst[o] = r * s0 + h0;
      dst[o + 1] = g * s1 + h1;
      dst[o + 2] = bl * s2 + h2;
    }
  }
}

/** Where the sample point of each pixel of one output row comes from. */
interface RowGeometry {
  readonly a0: number;
  readonly a3: number;
  readonly a6: number;
  readonly bx: number;
  readonly by: number;
  readonly bz: number;
  readonly u0: number;
  readonly du: number;
  readonly sx: number;
  readonly sy: number;
  readonly persp: boolean;
}

/** Columns `[from, to)` of one output row, which may sample outside the image: reflected or clamped. */
function resampleRowPadded(
  img: RGBImage,
  geo: RowGeometry,
  from: number,
  to: number,
  reflect: boolean,
  tone: ToneCurve,
  dst: Float32Array,
  row: number,
): void {
  const { data, width: w, height: h } = img;
  const { a0, a3, a6, bx, by, bz, u0, du, sx, sy, persp } = geo;
  const spanX = w - 1;
  const spanY = h - 1;
  const [s0, s1, s2] = tone.scale;
  const [h0, h1, h2] = tone.shift;
  const table = tone.table;
  for (let j = from, o = row + 3 * from; j < to; j++, o += 3) {
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
    if (table !== undefined) {
      dst[o] = lookup(table, r) * s0 + h0;
      dst[o + 1] = lookup(table, g) * s1 + h1;
      dst[o + 2] = lookup(table, bl) * s2 + h2;
    } else {
      dst[o] = r * s0 + h0;
      dst[o + 1] = g * s1 + h1;
      dst[o + 2] = bl * s2 + h2;
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
