/**
 * The geometry of fastai's batch augmentation as 3x3 matrices (row-major, 9 numbers) acting on
 * output coordinates normalised to [-1, 1] (align-corners convention): each matrix maps where
 * an output pixel is to where it samples the input. Flip, rotation, zoom, the random-resized
 * crop and the perspective warp compose into ONE matrix per image.
 */

/** A 3x3 matrix, row-major. */
export type Mat3 = readonly [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** The identity. */
export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/**
 * Matrix product `a @ b`.
 * @param a - Left matrix.
 * @param b - Right matrix.
 * @returns The product.
 * @example
 * ```ts
 * tsf.matMul3(tsf.flipMat(true), tsf.IDENTITY);
 * ```
 */
export function matMul3(a: Mat3, b: Mat3): Mat3 {
  const r: number[] = new Array(9).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      r[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
    }
  }
  return r as unknown as Mat3;
}

/**
 * Horizontal flip (fastai `flip_mat`): x -> -x when `flip`.
 * @param flip - Whether to flip.
 * @returns The matrix.
 * @example
 * ```ts
 * tsf.flipMat(true); // [-1, 0, 0, 0, 1, 0, 0, 0, 1]
 * ```
 */
export function flipMat(flip: boolean): Mat3 {
  return [flip ? -1 : 1, 0, 0, 0, 1, 0, 0, 0, 1];
}

/**
 * Rotation by `degrees` (fastai `rotate_mat`: `affine_mat(cos, sin, 0, -sin, cos, 0)`, before
 * the aspect correction of {@link aspectCorrect}). As it maps output to input coordinates
 * (y down), a positive angle turns the picture clockwise on screen.
 * @param degrees - Angle in degrees.
 * @returns The matrix.
 * @example
 * ```ts
 * tsf.rotateMat(90); // [0, 1, 0, -1, 0, 0, 0, 0, 1] up to rounding
 * ```
 */
export function rotateMat(degrees: number): Mat3 {
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  return [c, s, 0, -s, c, 0, 0, 0, 1];
}

/**
 * Zoom (fastai `zoom_mat`): scale `1 / zoom` around a centre placed by `colPct`/`rowPct` in
 * [0, 1] (0.5 = centred).
 * @param zoom - Zoom factor (> 1 zooms in).
 * @param colPct - Horizontal position of the zoom centre.
 * @param rowPct - Vertical position of the zoom centre.
 * @returns The matrix.
 * @example
 * ```ts
 * tsf.zoomMat(1.1, 0.5, 0.5);
 * ```
 */
export function zoomMat(zoom: number, colPct: number, rowPct: number): Mat3 {
  const s = 1 / zoom;
  return [s, 0, (1 - s) * (2 * colPct - 1), 0, s, (1 - s) * (2 * rowPct - 1), 0, 0, 1];
}

/**
 * A crop of input pixels `[left, left + width) x [top, top + height)` of an image
 * `imgWidth x imgHeight`, resized to the output: maps output coordinates in [-1, 1] to the
 * crop's coordinates in the input's [-1, 1] frame (align-corners).
 * @param box - The crop in input pixels.
 * @param imgWidth - Input width.
 * @param imgHeight - Input height.
 * @returns The matrix.
 * @example
 * ```ts
 * tsf.cropMat({ left: 10, top: 0, width: 300, height: 300 }, 460, 460);
 * ```
 */
export function cropMat(
  box: { left: number; top: number; width: number; height: number },
  imgWidth: number,
  imgHeight: number,
): Mat3 {
  const sx = imgWidth > 1 ? (box.width - 1) / (imgWidth - 1) : 1;
  const sy = imgHeight > 1 ? (box.height - 1) / (imgHeight - 1) : 1;
  const tx = imgWidth > 1 ? -1 + (2 * box.left + box.width - 1) / (imgWidth - 1) : 0;
  const ty = imgHeight > 1 ? -1 + (2 * box.top + box.height - 1) / (imgHeight - 1) : 0;
  return [sx, 0, tx, 0, sy, ty, 0, 0, 1];
}

/**
 * fastai's `_prepare_mat`: corrects the off-diagonal terms for a non-square image so that a
 * rotation stays a rotation in pixels (`m[0][1] *= h / w`, `m[1][0] *= w / h`).
 * @param m - The composed affine matrix.
 * @param width - Input width.
 * @param height - Input height.
 * @returns The corrected matrix.
 * @example
 * ```ts
 * tsf.aspectCorrect(tsf.rotateMat(30), 320, 240);
 * ```
 */
export function aspectCorrect(m: Mat3, width: number, height: number): Mat3 {
  return [
    m[0],
    m[1] * (height / width),
    m[2],
    m[3] * (width / height),
    m[4],
    m[5],
    m[6],
    m[7],
    m[8],
  ];
}

/**
 * fastai's `_WarpCoord`: the perspective that moves the corners `(-1,-1), (-1,1), (1,-1),
 * (1,1)` by the magnitudes `xt`, `yt`, as the homography `H` with `H(target) = source`
 * (fastai's `find_coeffs(orig_pts, targ_pts)`).
 * @param xt - Horizontal warp magnitude (drawn in [-maxWarp, maxWarp]).
 * @param yt - Vertical warp magnitude.
 * @returns The homography (last entry 1).
 * @example
 * ```ts
 * tsf.warpMat(0, 0); // identity
 * ```
 */
export function warpMat(xt: number, yt: number): Mat3 {
  const orig: [number, number][] = [
    [-1, -1],
    [-1, 1],
    [1, -1],
    [1, 1],
  ];
  const targ: [number, number][] = [
    [-1 - yt, -1 - xt],
    [-1 + yt, 1 + xt],
    [1 + yt, -1 + xt],
    [1 - yt, 1 - xt],
  ];
  // Solve A c = b for the 8 coefficients mapping targ -> orig (fastai find_coeffs(p1=orig, p2=targ)).
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x2, y2] = targ[i]!;
    const [x1, y1] = orig[i]!;
    a.push([x2, y2, 1, 0, 0, 0, -x1 * x2, -x1 * y2]);
    b.push(x1);
    a.push([0, 0, 0, x2, y2, 1, -y1 * x2, -y1 * y2]);
    b.push(y1);
  }
  const c = solve(a, b);
  return [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, 1];
}

/** Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[piv]![col]!)) piv = r;
    [m[col], m[piv]] = [m[piv]!, m[col]!];
    const p = m[col]![col]!;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / p;
      if (f === 0) continue;
      for (let k = col; k <= n; k++) m[r]![k]! -= f * m[col]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * Applies a matrix (affine or homography) to a point in normalised coordinates.
 * @param m - The matrix.
 * @param x - Horizontal coordinate in [-1, 1].
 * @param y - Vertical coordinate in [-1, 1].
 * @returns The mapped point.
 * @example
 * ```ts
 * tsf.applyMat(tsf.flipMat(true), 0.5, 0); // [-0.5, 0]
 * ```
 */
export function applyMat(m: Mat3, x: number, y: number): [number, number] {
  const w = m[6] * x + m[7] * y + m[8];
  return [(m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w];
}
