/**
 * How `learn.showResults()` draws a segmentation learner's results: for each image, the target
 * mask and the predicted mask overlaid on it, side by side in one tile (fastai's
 * `show_results` for a `MaskBlock`), so the grid's layout is the classification one.
 */
import { type ResultsBatch, registerResultsRenderer } from '../../learner/index.js';
import type { GridTile } from '../../plot/index.js';
import { overlayMask } from './show-masks.js';

/** Gap between the target and prediction halves of a tile, in pixels (white). */
const GAP = 4;

/**
 * The tiles of a segmentation results batch: `target | prediction` overlays per image.
 * @param batch - Images in [0, 1] `[N, H, W, 3]`, target masks and decoded masks `[N, H, W]`.
 * @returns One tile per image.
 * @example
 * ```ts
 * const batch = {
 *   images: tf.zeros([1, 4, 4, 3]) as tf.Tensor4D,
 *   targets: tf.zeros([1, 4, 4], 'int32'),
 *   preds: tf.zeros([1, 4, 4, 2]),
 *   decoded: tf.ones([1, 4, 4], 'int32'),
 *   vocab: ['background', 'pet'],
 * };
 * const tiles = await renderMaskResults(batch); // what learn.showResults() draws for masks
 * tf.dispose([batch.images, batch.targets, batch.preds, batch.decoded]);
 * ```
 */
export async function renderMaskResults(batch: ResultsBatch): Promise<GridTile[]> {
  const [n, h, w] = batch.images.shape;
  const images = await batch.images.data();
  const targets = await batch.targets.data();
  const decoded = await batch.decoded.data();
  const tiles: GridTile[] = [];
  const width = 2 * w + GAP;
  for (let b = 0; b < n; b++) {
    const image = images.subarray(b * h * w * 3, (b + 1) * h * w * 3);
    const halves = [targets, decoded].map((m) =>
      overlayMask(image, m.subarray(b * h * w, (b + 1) * h * w)),
    );
    const data = new Uint8Array(width * h * 3).fill(255);
    for (let y = 0; y < h; y++) {
      halves.forEach((half, k) => {
        data.set(half.subarray(y * w * 3, (y + 1) * w * 3), (y * width + k * (w + GAP)) * 3);
      });
    }
    tiles.push({ image: { data, width, height: h }, title: 'target | prediction' });
  }
  return tiles;
}

registerResultsRenderer('MaskBlock', renderMaskResults);
