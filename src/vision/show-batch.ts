import * as tf from '@tensorflow/tfjs';
import type { ShowOptions } from '../data/blocks.js';
import { imageGrid } from '../plot/image-grid.js';

/**
 * Writes a batch of images (`[N, H, W, 3]` in [0, 1], before `Normalize`) with captions as a
 * PNG grid: what `DataLoaders.showBatch` draws.
 *
 * @param xs - The images; not disposed.
 * @param titles - One caption per image (its label).
 * @param options - Columns, file and tile size.
 * @returns Resolves when the file is written.
 * @example
 * ```ts
 * await tsf.showImages(xs, ['cat', 'dog'], { ncols: 2, file: 'batch.png' });
 * ```
 */
export async function showImages(
  xs: tf.Tensor,
  titles: readonly string[],
  options: ShowOptions,
): Promise<void> {
  const n = Math.min(xs.shape[0]!, titles.length);
  const images = tf.tidy(() => tf.unstack(xs.slice(0, n)) as tf.Tensor3D[]);
  try {
    await imageGrid(
      images.map((image, i) => ({ image, title: titles[i]! })),
      {
        ncols: options.ncols,
        file: options.file,
        ...(options.tileSize === undefined ? {} : { tileSize: options.tileSize }),
      },
    );
  } finally {
    tf.dispose(images);
  }
}
