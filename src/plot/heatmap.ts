/**
 * Heatmaps as SVG: the confusion matrix (up to dozens of labelled classes).
 */
import { checkOptionKeys, invalidValue, ValueError } from '../core/errors.js';
import { axisLabelsSvg, escapeXml, FONT_FAMILY, px, textWidth } from './svg.js';

/**
 * Options of {@link heatmapSvg}.
 *
 * @example
 * ```ts
 * const opts: tsf.HeatmapOptions = { rowLabels: ['cat', 'dog'], colLabels: ['cat', 'dog'] };
 * ```
 */
export interface HeatmapOptions {
  /**
   * One label per row, drawn left of the grid.
   * @defaultValue the row indices
   */
  rowLabels?: readonly string[];
  /**
   * One label per column, drawn vertically under the grid.
   * @defaultValue the column indices
   */
  colLabels?: readonly string[];
  /**
   * Title above the grid.
   * @defaultValue no title
   */
  title?: string;
  /**
   * Label under the column labels.
   * @defaultValue no label
   */
  xLabel?: string;
  /**
   * Label left of the row labels.
   * @defaultValue no label
   */
  yLabel?: string;
  /**
   * Write each value in its cell. With more than 15 rows, zeros are left blank so the
   * non-zero cells stand out.
   * @defaultValue true when cells are at least 16 px
   */
  showValues?: boolean;
  /**
   * Decimals for non-integer values.
   * @defaultValue 2
   */
  decimals?: number;
  /**
   * Side of a cell in pixels.
   * @defaultValue about 740 px / the number of columns, between 14 and 90
   */
  cellSize?: number;
}

const OPTION_KEYS = [
  'rowLabels',
  'colLabels',
  'title',
  'xLabel',
  'yLabel',
  'showValues',
  'decimals',
  'cellSize',
] as const;

/** matplotlib's "Blues" colour map stops, light to dark. */
const BLUES: readonly [number, number, number][] = [
  [247, 251, 255],
  [222, 235, 247],
  [198, 219, 239],
  [158, 202, 225],
  [107, 174, 214],
  [66, 146, 198],
  [33, 113, 181],
  [8, 81, 156],
  [8, 48, 107],
];

/**
 * Colour of `t` in [0, 1] on the "Blues" map, as `#rrggbb`.
 * @param t - Position on the map, clamped to [0, 1] (non-finite values count as 0).
 * @returns The colour, linearly interpolated between the map's nine stops.
 * @example
 * ```ts
 * blues(0); // '#f7fbff'
 * blues(1); // '#08306b'
 * ```
 * @internal
 */
export function blues(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const f = x - i;
  const a = BLUES[i]!;
  const b = BLUES[i + 1]!;
  const hex = (k: number) =>
    Math.round(a[k]! + (b[k]! - a[k]!) * f)
      .toString(16)
      .padStart(2, '0');
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

/**
 * Draws a matrix as a grid of coloured cells (light = low, dark blue = high) with row and
 * column labels, as fastai's confusion-matrix plot. Label margins are sized from the longest
 * label, so 37 pet breed names fit.
 *
 * @param matrix - Rows of equal length (rows = actual classes for a confusion matrix).
 * @param options - Labels, title, values in cells, cell size.
 * @returns The SVG document as a string (render it with {@link writePng}).
 * @throws {@link ValueError} when the matrix is empty or ragged, a label list has the wrong
 *   length, or an option is unknown.
 *
 * @example
 * ```ts
 * const svg = tsf.heatmapSvg([[5, 1], [2, 7]], {
 *   rowLabels: ['cat', 'dog'],
 *   colLabels: ['cat', 'dog'],
 *   title: 'Confusion matrix',
 *   xLabel: 'Predicted',
 *   yLabel: 'Actual',
 * });
 * await tsf.writePng(svg, 'out/confusion.png');
 * ```
 */
export function heatmapSvg(
  matrix: readonly (readonly number[])[],
  options: HeatmapOptions = {},
): string {
  checkOptionKeys('heatmapSvg', options, OPTION_KEYS);
  const nRows = matrix.length;
  const nCols = matrix[0]?.length ?? 0;
  if (nRows === 0 || nCols === 0) {
    throw new ValueError('heatmapSvg: `matrix` must have at least one row and one column');
  }
  matrix.forEach((row, i) => {
    if (row.length !== nCols) {
      throw new ValueError(
        `heatmapSvg: row ${i} has ${row.length} values but row 0 has ${nCols}; pass a rectangular matrix`,
      );
    }
  });
  const rowLabels = options.rowLabels ?? matrix.map((_, i) => String(i));
  const colLabels = options.colLabels ?? matrix[0]!.map((_, j) => String(j));
  if (rowLabels.length !== nRows) {
    throw invalidValue('rowLabels', `a list of ${nRows} labels (one per row)`, rowLabels.length);
  }
  if (colLabels.length !== nCols) {
    throw invalidValue('colLabels', `a list of ${nCols} labels (one per column)`, colLabels.length);
  }
  const cell =
    options.cellSize ?? Math.min(90, Math.max(14, Math.floor(740 / Math.max(nRows, nCols))));
  if (!Number.isFinite(cell) || cell < 4 || cell > 200) {
    throw invalidValue('cellSize', 'a number of pixels in [4, 200]', options.cellSize);
  }
  const decimals = options.decimals ?? 2;
  const showValues = options.showValues ?? cell >= 16;
  const hideZeros = nRows > 15;

  let lo = Infinity;
  let hi = -Infinity;
  for (const row of matrix) {
    for (const v of row) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  }
  const vmin = Math.min(0, lo);
  const span = hi > vmin ? hi - vmin : 1;
  const allInts = matrix.every((r) => r.every((v) => Number.isInteger(v)));
  const fmt = (v: number) => (allInts ? String(v) : v.toFixed(decimals));

  const labelFont = Math.min(13, Math.max(8, Math.round(cell * 0.62)));
  const valueFont = Math.min(14, Math.max(7, Math.round(cell * 0.45)));
  const maxRow = Math.max(...rowLabels.map((l) => textWidth(l, labelFont)));
  const maxCol = Math.max(...colLabels.map((l) => textWidth(l, labelFont)));
  const left = 10 + (options.yLabel ? 24 : 0) + maxRow + 8;
  const top = options.title ? 40 : 12;
  const gridW = cell * nCols;
  const gridH = cell * nRows;
  const bottom = 8 + maxCol + (options.xLabel ? 30 : 6);
  const titleW = options.title ? textWidth(options.title, 16) + 24 : 0;
  const width = Math.ceil(Math.max(left + gridW + 16, titleW));
  const height = Math.ceil(top + gridH + bottom);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title) {
    out.push(
      `<text class="title" x="${px(Math.max(titleW / 2, Math.min(left + gridW / 2, width - titleW / 2)))}" y="26" font-size="16" text-anchor="middle" ` +
        `fill="#222">${escapeXml(options.title)}</text>`,
    );
  }
  const cells: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < nRows; i++) {
    for (let j = 0; j < nCols; j++) {
      const v = matrix[i]![j]!;
      const t = (v - vmin) / span;
      const x = left + j * cell;
      const y = top + i * cell;
      cells.push(
        `<rect class="cell" data-row="${i}" data-col="${j}" x="${px(x)}" y="${px(y)}" ` +
          `width="${px(cell)}" height="${px(cell)}" fill="${blues(t)}"/>`,
      );
      if (showValues && Number.isFinite(v) && !(hideZeros && v === 0)) {
        values.push(
          `<text x="${px(x + cell / 2)}" y="${px(y + cell / 2 + valueFont * 0.36)}" ` +
            `fill="${t > 0.5 ? '#ffffff' : '#222222'}">${escapeXml(fmt(v))}</text>`,
        );
      }
    }
  }
  out.push(`<g stroke="#ffffff" stroke-width="0.5">${cells.join('')}</g>`);
  out.push(`<g font-size="${valueFont}" text-anchor="middle">${values.join('')}</g>`);
  out.push(
    `<rect x="${px(left)}" y="${px(top)}" width="${px(gridW)}" height="${px(gridH)}" fill="none" stroke="#444"/>`,
  );
  const labels: string[] = [];
  rowLabels.forEach((l, i) => {
    labels.push(
      `<text class="row-label" x="${px(left - 6)}" y="${px(top + i * cell + cell / 2 + labelFont * 0.36)}" ` +
        `text-anchor="end">${escapeXml(l)}</text>`,
    );
  });
  colLabels.forEach((l, j) => {
    const x = left + j * cell + cell / 2 + labelFont * 0.36;
    const y = top + gridH + 6;
    labels.push(
      `<text class="col-label" x="${px(x)}" y="${px(y)}" text-anchor="end" ` +
        `transform="rotate(-90 ${px(x)} ${px(y)})">${escapeXml(l)}</text>`,
    );
  });
  out.push(`<g font-size="${labelFont}" fill="#222">${labels.join('')}</g>`);
  out.push(
    ...axisLabelsSvg(options, {
      centreX: left + gridW / 2,
      centreY: top + gridH / 2,
      height,
      yLabelX: 18,
    }),
  );
  out.push('</svg>');
  return out.join('\n');
}
