/**
 * Bilinear resampling of a batch through one 3x3 matrix per image, built only from kernels
 * every engine has (BatchMatMul, arithmetic, Floor, Mod, GatherV2): `tf.image.transform` has
 * no tfjs-node kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { invalidValue } from '../../core/errors.js';
import type { Mat3 } from './matrices.js';

/** How samples outside the input are filled. */
export type GridPadMode = 'reflection' | 'zeros' | 'border';

/**
 * Resamples `x` (`[N, H, W, C]`) to `[N, outHeight, outWidth, C]`: output pixel `(i, j)` at
 * normalised coordinates `(u, v)` in [-1, 1] (align-corners: -1 and 1 are the centres of the
 * edge pixels) reads the input at `M_n (u, v, 1)` (divided by its third coordinate for a
 * perspective), bilinearly, with the given padding outside the image. This is PyTorch's
 * `affine_grid` + `grid_sample(align_corners=True)` with the homography folded in, as fastai
 * uses them.
 *
 * @param x - Input batch, float32 NHWC.
 * @param matrices - One matrix per image (length N).
 * @param outHeight - Output height.
 * @param outWidth - Output width.
 * @param padMode - `'reflection'` (fastai's default), `'border'` or `'zeros'`.
 * @returns A new tensor; the caller disposes it.
 * @throws {@link ValueError} if the number of matrices is not N.
 * @example
 * ```ts
 * // x holds 2 images: flip the first, keep the second.
 * const out = tsf.gridSample(x, [tsf.flipMat(true), tsf.flipMat(false)], 8, 8, 'reflection');
 * out.dispose();
 * ```
 */
export function gridSample(
  x: tf.Tensor4D,
  matrices: readonly Mat3[],
  outHeight: number,
  outWidth: number,
  padMode: GridPadMode = 'reflection',
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (matrices.length !== n)
    throw invalidValue('matrices.length', `${n} (one per image)`, matrices.length);
  const perspective = matrices.some((m) => m[6] !== 0 || m[7] !== 0 || m[8] !== 1);
  const p = outHeight * outWidth;
  return tf.tidy(() => {
    // Output grid, [3, P]: u (columns), v (rows), 1.
    const grid = new Float32Array(3 * p);
    for (let i = 0; i < outHeight; i++) {
      const v = outHeight > 1 ? -1 + (2 * i) / (outHeight - 1) : 0;
      for (let j = 0; j < outWidth; j++) {
        const k = i * outWidth + j;
        grid[k] = outWidth > 1 ? -1 + (2 * j) / (outWidth - 1) : 0;
        grid[p + k] = v;
        grid[2 * p + k] = 1;
      }
    }
    const rows = perspective ? 3 : 2;
    const mats = new Float32Array(n * rows * 3);
    matrices.forEach((m, b) => {
      for (let r = 0; r < rows; r++)
        for (let k = 0; k < 3; k++) mats[(b * rows + r) * 3 + k] = m[r * 3 + k]!;
    });
    const coords = tf
      .matMul(tf.tensor2d(mats, [n * rows, 3]), tf.tensor2d(grid, [3, p]))
      .reshape([n, rows, p]);
    let [cx, cy, cz] = tf.unstack(coords, 1) as tf.Tensor2D[];
    if (perspective && cz) {
      cx = cx!.div(cz);
      cy = cy!.div(cz);
    }
    // Normalised -> pixel coordinates (align corners).
    const px = cx!.add(1).mul((w - 1) / 2);
    const py = cy!.add(1).mul((h - 1) / 2);
    const [x0, x1, wx, mx0, mx1] = axis(px, w, padMode);
    const [y0, y1, wy, my0, my1] = axis(py, h, padMode);
    const base = tf
      .range(0, n, 1, 'int32')
      .mul(tf.scalar(h * w, 'int32'))
      .reshape([n, 1]);
    const row0 = y0.mul(tf.scalar(w, 'int32')).add(base);
    const row1 = y1.mul(tf.scalar(w, 'int32')).add(base);
    const idx = tf.stack([row0.add(x0), row0.add(x1), row1.add(x0), row1.add(x1)]).reshape([-1]);
    const gathered = tf.gather(x.reshape([n * h * w, c]), idx).reshape([4, n * p, c]);
    const one = tf.scalar(1);
    const ux = one.sub(wx);
    const uy = one.sub(wy);
    let weights = [uy.mul(ux), uy.mul(wx), wy.mul(ux), wy.mul(wx)];
    if (padMode === 'zeros') {
      const masks = [mx0!.mul(my0!), mx1!.mul(my0!), mx0!.mul(my1!), mx1!.mul(my1!)];
      weights = weights.map((wt, k) => wt.mul(masks[k]!));
    }
    const wts = tf.stack(weights).reshape([4, n * p, 1]);
    return gathered.mul(wts).sum(0).reshape([n, outHeight, outWidth, c]) as tf.Tensor4D;
  });
}

/**
 * One axis of the sampler: integer corners, the weight of the upper corner and (zeros
 * padding) in-bounds masks.
 */
function axis(
  pos: tf.Tensor,
  size: number,
  padMode: GridPadMode,
): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?, tf.Tensor?] {
  const span = size - 1;
  if (span === 0) {
    const z = tf.zerosLike(pos);
    return [z.toInt(), z.toInt(), z, tf.onesLike(pos), tf.onesLike(pos)];
  }
  if (padMode === 'zeros') {
    const f = pos.floor();
    const wgt = pos.sub(f);
    const i0 = f.toInt();
    const i1 = i0.add(tf.scalar(1, 'int32'));
    const inside = (i: tf.Tensor) =>
      tf
        .logicalAnd(i.greaterEqual(tf.scalar(0, 'int32')), i.lessEqual(tf.scalar(span, 'int32')))
        .toFloat();
    const m0 = inside(i0);
    const m1 = inside(i1);
    const lo = tf.scalar(0, 'int32');
    const hi = tf.scalar(span, 'int32');
    return [tf.minimum(tf.maximum(i0, lo), hi), tf.minimum(tf.maximum(i1, lo), hi), wgt, m0, m1];
  }
  let q: tf.Tensor;
  if (padMode === 'reflection') {
    // Reflect about the edge pixel centres (period 2 * span): span - |(|p| mod 2span) - span|.
    q = tf.scalar(span).sub(tf.abs(tf.mod(tf.abs(pos), 2 * span).sub(span)));
  } else {
    q = pos;
  }
  q = tf.clipByValue(q, 0, span);
  const f = q.floor();
  const wgt = q.sub(f);
  const i0 = f.toInt();
  const i1 = tf.minimum(i0.add(tf.scalar(1, 'int32')), tf.scalar(span, 'int32'));
  return [i0, i1, wgt];
}
