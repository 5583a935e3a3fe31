/**
 * fastai's `PointBlock`: keypoint targets that follow their image through the item transform
 * and the batch augmentation, scaled to [-1, 1] as fastai's `TensorPoint`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, DataError, invalidValue } from '../../core/errors.js';
import type { JsonObject } from '../../data/batch.js';
import type { Block, FittedBlock } from '../../data/blocks.js';
import { registerBlock } from '../../data/registry.js';
import type { BatchTransform, BatchTransformContext } from '../../data/transforms.js';
import type { RGBImage } from '../image/decode.js';
import { isCroppedImage } from '../image/fused-crop.js';
import {
  itemGeometryOf,
  pointsThroughItem,
  replayBatchGeometry,
  scalePointsThrough,
} from './point-geometry.js';

/** Options of {@link PointBlock}. */
export interface PointBlockOptions {
  /**
   * Points per item; taken from the first training item when absent.
   * @defaultValue `undefined`
   */
  nPoints?: number;
}

function itemName(item: unknown): string {
  return typeof item === 'string' ? `"${item}"` : JSON.stringify(item);
}

function toFlat(value: unknown, item: unknown): number[] {
  const bad = () =>
    new DataError(
      `PointBlock: item ${itemName(item)} gave ${JSON.stringify(value)}; getY must return ` +
        'points as [[x, y], ...] or [x0, y0, x1, y1, ...] in pixels of the photo.',
    );
  if (!Array.isArray(value) || value.length === 0) throw bad();
  const flat = Array.isArray(value[0]) ? (value as unknown[][]).flat() : (value as unknown[]);
  if (Array.isArray(value[0]) && (value as unknown[][]).some((p) => p.length !== 2)) throw bad();
  const nums = flat.map((v) => (typeof v === 'number' ? v : Number(v)));
  if (nums.length % 2 !== 0 || nums.some((v) => !Number.isFinite(v))) throw bad();
  return nums;
}

/**
 * fastai's `PointBlock`: each item's target is a list of points `[[x, y], ...]` in pixels of
 * the photo (continuous: `(0, 0)` is the top-left corner, `(width, height)` the bottom-right).
 * In a batch they are where the item transform and the batch augmentation moved them (the
 * inverses of the matrices the images were sampled with), scaled as fastai's `TensorPoint`:
 * `2 p / size - 1`, so `[-1, 1]` spans the image the model sees; targets are `[N, nPoints, 2]`.
 * The learner's defaults follow fastai: `MSELossFlat`, and {@link visionLearner} gives
 * `2 * nPoints` outputs through a sigmoid into `yRange` `[-1, 1]`.
 *
 * @param options - Number of points.
 * @returns The block.
 * @throws {@link ValueError} on an unknown option; {@link DataError} when an item's points
 *   cannot be read or their count differs.
 * @example
 * ```ts
 * // The centre of each head, in the photo's pixels.
 * const centres: Record<string, number[][]> = { 'cat.jpg': [[120, 80]] };
 * const heads = new tsf.DataBlock({
 *   blocks: [tsf.ImageBlock, tsf.PointBlock],
 *   getY: (f) => centres[f as string],             // [[x, y]]
 *   itemTfms: tsf.Resize(96),
 *   batchTfms: tsf.augTransforms({ maxRotate: 15 }),
 * });
 * ```
 */
export function PointBlock(options: PointBlockOptions = {}): Block {
  checkOptionKeys('PointBlock', options, ['nPoints']);
  const n = options.nPoints;
  if (n !== undefined && !(Number.isInteger(n) && n > 0)) {
    throw invalidValue('nPoints', 'a positive integer', n);
  }
  return {
    name: 'PointBlock',
    setup(trainValues: readonly unknown[]): FittedBlock {
      const nPoints =
        n ?? (trainValues.length > 0 ? toFlat(trainValues[0], 'first') : []).length / 2;
      return pointFitted(nPoints);
    },
  };
}

function pointFitted(nPoints: number): FittedBlock {
  return {
    name: 'PointBlock',
    c: 2 * nPoints,
    lossName: 'MSELossFlat',
    yRange: [-1, 1],
    encode(value: unknown, item: unknown): number[] {
      const flat = toFlat(value, item);
      if (flat.length !== 2 * nPoints) {
        throw new DataError(
          `PointBlock: item ${itemName(item)} has ${flat.length / 2} points; every item needs ` +
            `${nPoints} (as the first training item).`,
        );
      }
      return flat;
    },
    collate(): tf.Tensor {
      throw new DataError(
        'PointBlock: points are scaled by the size of their image; collate them with ' +
          'collateWithInput (DataLoaders do).',
      );
    },
    collateWithInput(
      samples: readonly unknown[],
      items: readonly unknown[],
      tfms: readonly BatchTransform[],
      ctx: BatchTransformContext,
      inputs: readonly unknown[],
    ): tf.Tensor {
      const images = inputs as RGBImage[];
      const sized = (im: RGBImage) => (isCroppedImage(im) ? im.crop : im);
      const first = sized(images[0]!);
      const inItem = (samples as number[][]).map((pts, b) =>
        pointsThroughItem(pts, itemGeometryOf(images[b]!, items[b])),
      );
      const geo = replayBatchGeometry(tfms, images.length, first.width, first.height, ctx);
      const out = new Float32Array(images.length * nPoints * 2);
      inItem.forEach((pts, b) => {
        const scaled = scalePointsThrough(
          pts,
          geo.matrices[b]!,
          first.width,
          first.height,
          geo.width,
          geo.height,
        );
        out.set(scaled, b * nPoints * 2);
      });
      return tf.tensor3d(out, [images.length, nPoints, 2]);
    },
    describe(batch: tf.Tensor): string[] {
      const rows = batch.reshape([batch.shape[0]!, -1]).arraySync() as number[][];
      return rows.map((r) => {
        const pairs: string[] = [];
        for (let k = 0; k < r.length; k += 2) {
          pairs.push(`(${r[k]!.toFixed(2)}, ${r[k + 1]!.toFixed(2)})`);
        }
        return pairs.join(' ');
      });
    },
    toConfig(): JsonObject {
      return { name: 'PointBlock', nPoints };
    },
  };
}

/**
 * fastai's decoding of `TensorPoint`: scaled points back to pixels of an image of the given
 * size, `(p + 1) * size / 2`.
 * @param scaled - Flat `[x0, y0, ...]` in [-1, 1] (a prediction or a target row).
 * @param width - Image width.
 * @param height - Image height.
 * @returns Flat points in pixels.
 * @example
 * ```ts
 * tsf.decodePoints([0, 0], 224, 224); // [112, 112]
 * ```
 */
export function decodePoints(scaled: readonly number[], width: number, height: number): number[] {
  return scaled.map((v, k) => ((v + 1) * (k % 2 === 0 ? width : height)) / 2);
}

registerBlock('PointBlock', (cfg) => pointFitted(Number(cfg.nPoints)));
